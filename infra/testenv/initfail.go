package testenv

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// initChildEnv marks the child process of InitFails.
const initChildEnv = "ETALASE_INIT_CHILD"

// InitFails checks how a function fails its init: it runs main in a child process of
// the test binary (the calling test again) with only env, and wants a non-zero exit
// after exactly one JSON log line at ERROR from function whose error contains wantErr
// (e.g. "CATALOG_TABLE is required"). Call it from a test of the function's main
// package, passing its main.
func InitFails(t *testing.T, main func(), env []string, function, wantErr string) {
	t.Helper()
	if os.Getenv(initChildEnv) == "1" {
		main() // exits; returning would exit 0, which the parent refuses
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$")
	cmd.Env = append([]string{initChildEnv + "=1"}, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("init without its configuration: err = %v, want a non-zero exit", err)
	}
	var line struct {
		Level    string `json:"level"`
		Error    string `json:"error"`
		Function string `json:"function"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(stderr.Bytes()), &line); err != nil {
		t.Fatalf("stderr is not one JSON line: %q", stderr.String())
	}
	if line.Level != "ERROR" || line.Function != function || !strings.Contains(line.Error, wantErr) {
		t.Errorf("init failure log = %+v, want ERROR from %s naming %q", line, function, wantErr)
	}
}

//go:build !unix

package emulator

import (
	"errors"
	"os/exec"
	"syscall"
)

var errUnsupported = errors.New("the local emulators need a Unix-like system (Linux or macOS)")

func setProcAttr(*exec.Cmd)                      {}
func signalGroup(int, syscall.Signal) error      { return errUnsupported }
func processExists(int) bool                     { return false }
func groupExists(int) bool                       { return false }
func lockFile(string) (unlock func(), err error) { return nil, errUnsupported }

const (
	sigTERM = syscall.Signal(15)
	sigKILL = syscall.Signal(9)
)

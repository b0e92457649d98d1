//go:build unix

package lambda

import (
	"errors"
	"syscall"
)

// killGroup kills the process group led by pid; a group that is already gone is not
// an error.
func killGroup(pid int) error {
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

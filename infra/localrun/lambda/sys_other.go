//go:build unix && !linux

package lambda

import (
	"os"
	"syscall"
)

// sysProcAttr puts a function process in its own process group, so that a timeout or
// Close ends whatever it started.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// peakRSSKB is unknown outside Linux.
func peakRSSKB(int) int64 { return 0 }

// exitPeakRSSKB is unknown outside Linux.
func exitPeakRSSKB(*os.ProcessState) int64 { return 0 }

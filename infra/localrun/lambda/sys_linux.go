//go:build linux

package lambda

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// sysProcAttr puts a function process in its own process group, so that a timeout or
// Close ends whatever it started, and kills it if the runner dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// peakRSSKB returns the peak resident set size (VmHWM) of a process in kB, 0 if unknown.
func peakRSSKB(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmHWM:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest) // "1234", "kB"
		if len(f) == 0 {
			return 0
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0
		}
		return kb
	}
	return 0
}

// exitPeakRSSKB returns the peak resident set size of a process that has exited, in kB.
func exitPeakRSSKB(state *os.ProcessState) int64 {
	if state == nil {
		return 0
	}
	if ru, ok := state.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss // kB on Linux
	}
	return 0
}

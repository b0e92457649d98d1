package emulator

import "syscall"

// setParentDeathSignal makes Linux kill the emulator if the process that
// started it dies without calling Stop (for example on SIGKILL).
func setParentDeathSignal(a *syscall.SysProcAttr) {
	a.Pdeathsig = syscall.SIGKILL
}

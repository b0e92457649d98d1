//go:build unix && !linux

package emulator

import "syscall"

// setParentDeathSignal does nothing here: only Linux has a parent-death
// signal. The fauxqs launcher still exits when its parent goes away.
func setParentDeathSignal(*syscall.SysProcAttr) {}

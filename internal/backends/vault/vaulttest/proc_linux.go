package vaulttest

import "syscall"

// sysProcAttr kills the server when the test process dies without running
// its cleanups (a test binary timeout).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

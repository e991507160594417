package awstest

import "syscall"

// sysProcAttr puts the server in its own process group (so cleanup stops its
// children too) and kills it if the test process dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

//go:build !linux

package awstest

import "syscall"

// sysProcAttr puts the server in its own process group, so cleanup stops its
// children too.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

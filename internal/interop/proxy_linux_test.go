package interop

import (
	"os"
	"syscall"
)

// groupAttr puts the proxy in its own process group, so killGroup stops its
// workers too, and kills it if the test process dies first.
func groupAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }

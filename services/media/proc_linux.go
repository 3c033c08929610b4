package media

import (
	"os/exec"
	"syscall"
)

// killWithParent makes the kernel kill the tool when the worker dies: a worker killed
// mid-transcode must not leave an orphaned ffmpeg burning CPU on work nobody will collect.
func killWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

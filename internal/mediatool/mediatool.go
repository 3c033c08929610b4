// Package mediatool runs ffmpeg and ffprobe on untrusted uploads with what keeps a crafted
// file from reaching beyond itself: input protocols limited to plain files, demuxers limited to
// the video containers the app uploads (no HLS playlist or concat list naming other files), and
// CPU, memory and file-size limits on the child process.
package mediatool

import (
	"os/exec"
	"strconv"
)

// Formats are the demuxers an upload may be read with: MP4/MOV, Matroska/WebM, AVI, FLV and
// MPEG program/transport streams. Playlists (hls), lists (concat), image sequences and
// anything else that opens further files are not among them.
const Formats = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpeg,mpegts"

// InputArgs go before every -i (and before the file argument of ffprobe) naming an upload.
func InputArgs() []string {
	return []string{"-protocol_whitelist", "file", "-format_whitelist", Formats}
}

// Limits are the resource limits of one tool run (0: that limit is not set).
type Limits struct {
	CPUSeconds  int64 // RLIMIT_CPU: total CPU time of all its threads
	MemoryBytes int64 // RLIMIT_AS: address space
	FileBytes   int64 // RLIMIT_FSIZE: largest file it may write
}

// Command returns the command line running name with args under the limits, through
// prlimit (util-linux) found at prlimitPath, which sets them on itself and execs the tool in
// place, so a kill reaches the tool. Without prlimit or limits the tool runs directly.
func (l Limits) Command(prlimitPath, name string, args []string) (string, []string) {
	if prlimitPath == "" || (l.CPUSeconds <= 0 && l.MemoryBytes <= 0 && l.FileBytes <= 0) {
		return name, args
	}
	var pre []string
	if l.CPUSeconds > 0 {
		pre = append(pre, "--cpu="+strconv.FormatInt(l.CPUSeconds, 10))
	}
	if l.MemoryBytes > 0 {
		pre = append(pre, "--as="+strconv.FormatInt(l.MemoryBytes, 10))
	}
	if l.FileBytes > 0 {
		pre = append(pre, "--fsize="+strconv.FormatInt(l.FileBytes, 10))
	}
	pre = append(pre, "--", name)
	return prlimitPath, append(pre, args...)
}

// FindPrlimit returns the path of prlimit, or "" when it is not installed.
func FindPrlimit() string {
	p, _ := exec.LookPath("prlimit")
	return p
}

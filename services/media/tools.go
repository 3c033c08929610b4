package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/douyin-backend/douyin/internal/mediatool"
)

// probeInfo is what the worker needs to know about an upload.
type probeInfo struct {
	VideoCodec    string
	PixelFormat   string
	Width, Height int
	// AudioCodec is empty for a clip without sound.
	AudioCodec string
	// Duration is zero when the container does not say.
	Duration time.Duration
}

// playableAsIs reports whether the upload already is what clients get for rendition r:
// H.264 in 8-bit 4:2:0 (what every phone decodes in hardware), AAC or no audio, within r's
// box. Such a file is only remuxed, which keeps its quality and takes a fraction of a second.
func (p probeInfo) playableAsIs(r rendition) bool {
	w, h := r.fit(p.Width, p.Height)
	return p.VideoCodec == "h264" && (p.PixelFormat == "yuv420p" || p.PixelFormat == "yuvj420p") &&
		(p.AudioCodec == "" || p.AudioCodec == "aac") && w == p.Width && h == p.Height
}

// rendition is one rung of the ladder: its name, which is the resolution segment of its key
// (videos/<id>/<name>/play.mp4), and the box a frame is scaled down into, long×short for
// landscape and short×long for portrait, so a vertical video is not shrunk to 405x720.
type rendition struct {
	name        string
	long, short int
}

// renditions is the ladder every video is encoded to, largest first.
func renditions() []rendition {
	return []rendition{{"720p", maxLongSide, maxShortSide}, {"360p", 640, 360}}
}

// renditionNames lists the ladder's names.
func renditionNames() []string {
	var names []string
	for _, r := range renditions() {
		names = append(names, r.name)
	}
	return names
}

// fit returns the size of a w×h frame scaled down (never up) into r's box.
func (r rendition) fit(w, h int) (int, int) { return fitWithin(w, h, r.long, r.short) }

// fitBox returns the size of a w×h frame scaled down (never up) to fit the 720p box of its
// orientation, with even sides as yuv420p requires.
func fitBox(w, h int) (int, int) { return fitWithin(w, h, maxLongSide, maxShortSide) }

// fitWithin returns the size of a w×h frame scaled down (never up) into the long×short box
// of its orientation, with even sides as yuv420p requires.
func fitWithin(w, h, long, short int) (int, int) {
	if w <= 0 || h <= 0 {
		return w, h
	}
	maxW, maxH := long, short
	if h > w {
		maxW, maxH = short, long
	}
	scale := math.Min(1, math.Min(float64(maxW)/float64(w), float64(maxH)/float64(h)))
	even := func(v float64) int { return max(2, int(v/2+1e-9)*2) } // rounding down keeps it inside the box
	nw, nh := even(float64(w)*scale), even(float64(h)*scale)
	if scale == 1 && w%2 == 0 && h%2 == 0 {
		return w, h
	}
	return nw, nh
}

// probe reads the streams of path; errUnplayable when ffprobe rejects it or finds no video.
func (w *Worker) probe(ctx context.Context, path string) (_ probeInfo, err error) {
	ctx, span := startStep(ctx, "ffprobe")
	defer func() { endStep(span, err) }()
	args := append(mediatool.InputArgs(), "-v", "error",
		"-show_entries", "stream=codec_type,codec_name,width,height,pix_fmt:format=duration", "-of", "json", path)
	out, err := w.runTool(ctx, probeTimeout, w.cfg.FFprobePath, args...)
	if err != nil {
		return probeInfo{}, err
	}
	var parsed struct {
		Streams []struct {
			CodecType string `json:"codec_type"`
			CodecName string `json:"codec_name"`
			Width     int    `json:"width"`
			Height    int    `json:"height"`
			PixFmt    string `json:"pix_fmt"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal([]byte(out), &parsed); err != nil {
		return probeInfo{}, fmt.Errorf("%w: ffprobe output: %v", errUnplayable, err)
	}
	var info probeInfo
	for _, s := range parsed.Streams {
		switch {
		case s.CodecType == "video" && info.VideoCodec == "" && s.Width > 0 && s.Height > 0:
			info.VideoCodec, info.PixelFormat, info.Width, info.Height = s.CodecName, s.PixFmt, s.Width, s.Height
		case s.CodecType == "audio" && info.AudioCodec == "":
			info.AudioCodec = s.CodecName
		}
	}
	if info.VideoCodec == "" {
		return probeInfo{}, fmt.Errorf("%w: no video stream", errUnplayable)
	}
	if secs, err := strconv.ParseFloat(parsed.Format.Duration, 64); err == nil && secs > 0 {
		info.Duration = time.Duration(secs * float64(time.Second))
	}
	return info, nil
}

// renditionOutput is where transcode writes one rendition.
type renditionOutput struct {
	rendition
	path string
}

// transcode writes every rendition of src in one ffmpeg run (the source is decoded once and
// each output scaled from it): H.264/AAC MP4s, each within its box and never upscaled, with
// the index (moov) first, so players start before the download ends. A rendition the file
// already qualifies for is remuxed. Without probe information (no ffprobe) it always
// transcodes, sizing by an ffmpeg expression.
func (w *Worker) transcode(ctx context.Context, src string, outs []renditionOutput, info probeInfo) (err error) {
	ctx, span := startStep(ctx, "ffmpeg transcode", attribute.Int("media.renditions", len(outs)))
	defer func() { endStep(span, err) }()
	args := append([]string{"-hide_banner", "-loglevel", "error", "-y"}, mediatool.InputArgs()...)
	args = append(args, "-i", src)
	for _, out := range outs {
		args = append(args, "-map", "0:v:0", "-map", "0:a:0?", "-map_metadata", "-1", "-sn", "-dn")
		if info.VideoCodec != "" && info.playableAsIs(out.rendition) {
			args = append(args, "-c", "copy")
		} else {
			scale := fmt.Sprintf("scale=w='min(iw,if(gte(iw,ih),%[1]d,%[2]d))':h='min(ih,if(gte(iw,ih),%[2]d,%[1]d))':force_original_aspect_ratio=decrease:force_divisible_by=2", out.long, out.short)
			if info.Width > 0 {
				nw, nh := out.fit(info.Width, info.Height)
				scale = fmt.Sprintf("scale=%d:%d", nw, nh)
			}
			args = append(args, "-vf", scale, "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
				"-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k")
			if w.cfg.Threads > 0 {
				args = append(args, "-threads", strconv.Itoa(w.cfg.Threads))
			}
		}
		args = append(args, "-movflags", "+faststart", "-f", "mp4", out.path)
	}
	if _, err := w.runTool(ctx, w.cfg.TranscodeTimeout, w.cfg.FFmpegPath, args...); err != nil {
		return err
	}
	for _, out := range outs {
		if st, err := os.Stat(out.path); err != nil || st.Size() == 0 {
			return fmt.Errorf("%w: ffmpeg wrote no %s output", errUnplayable, out.name)
		}
	}
	return nil
}

// extractCover writes a JPEG frame of src to dst, taken at coverPosition of the duration, or
// at the start when that yields nothing (unknown duration, a seek past the last frame).
func (w *Worker) extractCover(ctx context.Context, src, dst string, duration time.Duration) (err error) {
	ctx, span := startStep(ctx, "ffmpeg cover")
	defer func() { endStep(span, err) }()
	at := duration.Seconds() * coverPosition
	for _, pos := range []float64{at, 0} {
		os.Remove(dst)
		// -ss before -i seeks the input quickly. A seek past the end exits 0 but writes
		// nothing, hence the size check.
		args := append([]string{"-hide_banner", "-loglevel", "error", "-y", "-ss", strconv.FormatFloat(pos, 'f', 3, 64)}, mediatool.InputArgs()...)
		args = append(args, "-i", src, "-frames:v", "1", "-q:v", "3", "-f", "image2", dst)
		_, err = w.runTool(ctx, probeTimeout, w.cfg.FFmpegPath, args...)
		if err != nil && !errors.Is(err, errUnplayable) {
			return err
		}
		if err == nil {
			if st, serr := os.Stat(dst); serr == nil && st.Size() > 0 {
				return nil
			}
		}
		if pos == 0 {
			break
		}
	}
	if err == nil {
		err = fmt.Errorf("%w: no frame for a cover", errUnplayable)
	}
	return err
}

// runTool runs a media tool at the configured priority and returns its stdout. A tool that
// rejects the file (non-zero exit, or the time limit) gives errUnplayable; failing to run it
// at all, or the caller's cancellation, is a transient error.
func (w *Worker) runTool(ctx context.Context, timeout time.Duration, path string, args ...string) (string, error) {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	name := path
	if w.cfg.NicePath != "" && w.cfg.Niceness > 0 {
		// nice execs the tool in place, so the context's kill reaches the tool itself.
		args = append([]string{"-n", strconv.Itoa(w.cfg.Niceness), path}, args...)
		name = w.cfg.NicePath
	}
	// prlimit too: it sets the limits and execs nice (or the tool).
	name, args = w.cfg.ToolLimits.Command(w.cfg.PrlimitPath, name, args)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(tctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	killWithParent(cmd)
	err := cmd.Run()
	if err == nil {
		return stdout.String(), nil
	}
	if ctx.Err() != nil {
		return "", fmt.Errorf("%s: %w", filepath.Base(path), ctx.Err())
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) || tctx.Err() != nil {
		return "", fmt.Errorf("%w: %s: %s", errUnplayable, filepath.Base(path), lastLine(stderr.String()))
	}
	return "", fmt.Errorf("run %s: %w", filepath.Base(path), err)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

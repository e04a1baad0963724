package recording

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
)

// Mix canvas: the video files are laid out in a grid on it.
const (
	mixWidth  = 1280
	mixHeight = 720
	mixFPS    = 30
)

// MixCommand returns the ffmpeg command (program and arguments) that
// mixes the recording in dir, described by m, into one file out: every
// audio file delayed by its start offset (adelay) and mixed (amix), gaps
// filled with silence (aresample async); every camera and screen in its
// own cell of a 1280x720 grid, one cell per participant and source,
// delayed by its start offset (setpts) and laid over a black canvas
// (overlay, which shows nothing in a cell before its file starts and
// after it ends). Files that have no frames are left out. out's
// extension picks the container; the codecs are H.264 and AAC.
func MixCommand(dir string, m *Manifest, out string) ([]string, error) {
	type input struct {
		f    File
		path string
	}
	var audio, video []input
	var end int64
	for _, f := range m.Files {
		if f.Frames == 0 && f.Status == StatusComplete {
			continue
		}
		in := input{f, filepath.Join(dir, f.Name)}
		if f.Kind == "video" {
			video = append(video, in)
		} else {
			audio = append(audio, in)
		}
		end = max(end, f.EndMS)
	}
	if len(audio)+len(video) == 0 {
		return nil, errors.New("recording: nothing to mix: the recording has no files with frames")
	}
	args := []string{"ffmpeg", "-y"}
	for _, in := range append(append([]input{}, video...), audio...) {
		args = append(args, "-i", in.path)
	}
	secs := func(ms int64) string { return fmt.Sprintf("%.3f", float64(ms)/1000) }
	var graph []string
	maps := []string{}
	if len(video) > 0 {
		cells := map[string]int{}
		for _, in := range video {
			key := in.f.Participant + "\x00" + in.f.Source
			if _, ok := cells[key]; !ok {
				cells[key] = len(cells)
			}
		}
		cols := int(math.Ceil(math.Sqrt(float64(len(cells)))))
		rows := (len(cells) + cols - 1) / cols
		w, h := mixWidth/cols&^1, mixHeight/rows&^1
		graph = append(graph, fmt.Sprintf("color=c=black:s=%dx%d:r=%d:d=%s[base]", mixWidth, mixHeight, mixFPS, secs(end)))
		prev := "base"
		for i, in := range video {
			c := cells[in.f.Participant+"\x00"+in.f.Source]
			x, y := c%cols*w, c/cols*h
			graph = append(graph,
				fmt.Sprintf("[%d:v]setpts=PTS-STARTPTS+%s/TB,scale=%d:%d:force_original_aspect_ratio=decrease,pad=%d:%d:(ow-iw)/2:(oh-ih)/2,setsar=1[v%d]",
					i, secs(in.f.StartMS), w, h, w, h, i),
				fmt.Sprintf("[%s][v%d]overlay=%d:%d:eof_action=pass[o%d]", prev, i, x, y, i))
			prev = fmt.Sprintf("o%d", i)
		}
		maps = append(maps, "-map", "["+prev+"]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p")
	}
	if len(audio) > 0 {
		var mix strings.Builder
		for i, in := range audio {
			n := len(video) + i
			graph = append(graph, fmt.Sprintf("[%d:a]aresample=async=1:first_pts=0,adelay=%d:all=1[a%d]", n, max(in.f.StartMS, 0), i))
			fmt.Fprintf(&mix, "[a%d]", i)
		}
		graph = append(graph, fmt.Sprintf("%samix=inputs=%d:duration=longest:normalize=0[aout]", mix.String(), len(audio)))
		maps = append(maps, "-map", "[aout]", "-c:a", "aac", "-b:a", "128k")
	}
	args = append(args, "-filter_complex", strings.Join(graph, ";"))
	args = append(args, maps...)
	args = append(args, "-t", secs(end), out)
	return args, nil
}

// ShellQuote joins args into one POSIX shell command line.
func ShellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=+,", r))
		}) < 0 {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/confab/confab/signaling/recording"
)

// recordingsDir is where serve keeps recordings, under its data directory.
func recordingsDir(data string) string { return filepath.Join(data, "recordings") }

const recordingUsage = `usage:
  confab-server recording list [--data DIR]
  confab-server recording mix-command [--data DIR] [--out FILE] RECORDING

RECORDING is a directory name from "recording list" (the meeting id, e.g.
12, or 12-2 for a meeting's second recording) or a recording's path.
mix-command prints one ffmpeg command that mixes the recording into FILE
(default RECORDING.mp4): the audio mixed, the videos in a grid, each
delayed by its start offset from the manifest.
`

func recordingCmd(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(out, recordingUsage)
		if len(args) == 0 {
			return errors.New("recording: say list or mix-command")
		}
		return nil
	}
	fs := flag.NewFlagSet("recording "+args[0], flag.ContinueOnError)
	data := fs.String("data", env("data", defaultDataDir()), "data directory")
	outFile := fs.String("out", "", "mix-command: the mixed file to write (default RECORDING.mp4)")
	switch args[0] {
	case "list":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return listRecordings(recordingsDir(*data), out)
	case "mix-command":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("recording mix-command: name one recording (see recording list)")
		}
		dir := fs.Arg(0)
		if st, err := os.Stat(filepath.Join(dir, recording.ManifestName)); err != nil || st.IsDir() {
			dir = filepath.Join(recordingsDir(*data), fs.Arg(0))
		}
		m, err := recording.ReadManifest(dir)
		if err != nil {
			return err
		}
		target := *outFile
		if target == "" {
			target = filepath.Base(dir) + ".mp4"
		}
		cmd, err := recording.MixCommand(dir, m, target)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(out, recording.ShellQuote(cmd))
		return err
	}
	return fmt.Errorf("recording: unknown command %q\n%s", args[0], recordingUsage)
}

func listRecordings(root string, out io.Writer) error {
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		_, err = fmt.Fprintln(out, "no recordings in", root)
		return err
	}
	if err != nil {
		return err
	}
	type row struct {
		name string
		m    *recording.Manifest
	}
	var rows []row
	for _, e := range entries {
		if m, err := recording.ReadManifest(filepath.Join(root, e.Name())); err == nil {
			rows = append(rows, row{e.Name(), m})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].m.StartedAt > rows[j].m.StartedAt })
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RECORDING\tROOM\tSTARTED\tLENGTH\tFILES\tSTATUS")
	for _, r := range rows {
		length := "running"
		if r.m.StoppedAt > 0 {
			length = (time.Duration(r.m.StoppedAt-r.m.StartedAt) * time.Millisecond).Round(time.Second).String()
		}
		status := r.m.Status
		if r.m.StopReason != "" {
			status += " (" + r.m.StopReason + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", r.name, r.m.Room,
			time.UnixMilli(r.m.StartedAt).Local().Format("2006-01-02 15:04:05"), length, len(r.m.Files), status)
	}
	return tw.Flush()
}

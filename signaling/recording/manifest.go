package recording

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ManifestName is the manifest's file name in a recording's directory.
const ManifestName = "manifest.json"

// ManifestVersion is the version of the manifest format.
const ManifestVersion = 1

// Recording and file states in a manifest.
const (
	StatusRecording   = "recording"   // still being written
	StatusComplete    = "complete"    // ended cleanly
	StatusFailed      = "failed"      // a write failed; the file is good up to its last flush
	StatusInterrupted = "interrupted" // the server stopped without ending it (kill, crash)
)

// Reasons a recording stops, in Manifest.StopReason (and the wire's
// recording event).
const (
	ReasonAdmin       = "admin"         // an admin stopped it
	ReasonMeetingEnd  = "meeting_ended" // the last participant left
	ReasonServerStop  = "server_stopped"
	ReasonDiskFull    = "disk_full"
	ReasonWriteError  = "write_error"
	ReasonInterrupted = "interrupted" // found unfinished after a restart
)

// Manifest describes one recording: a span of a meeting and one WebM
// file per published track within it. Offsets are milliseconds from
// StartedAt; a file's first frame is at its StartMS, so the files line up
// by delaying each by its StartMS.
type Manifest struct {
	Version       int    `json:"version"`
	MeetingID     int64  `json:"meeting_id"` // 0 when the store keeps no meetings
	Room          string `json:"room"`
	StartedAt     int64  `json:"started_at"` // Unix ms
	StartedBy     string `json:"started_by"` // identity of the admin, "" for the server's --record policy
	StartedByName string `json:"started_by_name,omitempty"`
	StoppedAt     int64  `json:"stopped_at,omitempty"` // Unix ms, 0 while recording
	Status        string `json:"status"`
	StopReason    string `json:"stop_reason,omitempty"`
	StopError     string `json:"stop_error,omitempty"`
	Files         []File `json:"files"`
}

// File is one track's WebM file in a recording.
type File struct {
	Name        string `json:"file"`        // in the recording's directory
	Participant string `json:"participant"` // identity
	DisplayName string `json:"name"`
	Source      string `json:"source"` // microphone, camera or screen
	Kind        string `json:"kind"`   // audio or video
	Codec       string `json:"codec"`  // opus or vp8
	Layer       string `json:"layer,omitempty"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
	StartMS     int64  `json:"start_ms"` // offset of the first frame from the recording's start
	EndMS       int64  `json:"end_ms"`   // offset of the end of the last frame written
	Frames      int64  `json:"frames"`
	Dropped     int64  `json:"dropped_packets,omitempty"` // packets lost to a full queue or the network
	Status      string `json:"status"`
	Error       string `json:"error,omitempty"`
}

// WriteManifest writes m to dir atomically: a temporary file, synced,
// then renamed over the old manifest, so a reader (or a restart after a
// kill) sees the old or the new one whole.
func WriteManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("recording: manifest: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".manifest-*.tmp")
	if err != nil {
		return fmt.Errorf("recording: manifest: %w", err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, ManifestName))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("recording: manifest: %w", err)
	}
	return nil
}

// ReadManifest reads the manifest in dir.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, fmt.Errorf("recording: manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("recording: manifest %s: %w", dir, err)
	}
	if m.Version != ManifestVersion {
		return nil, fmt.Errorf("recording: manifest %s: version %d, want %d", dir, m.Version, ManifestVersion)
	}
	return &m, nil
}

// Recover marks what a kill or crash left unfinished in the recordings
// under root as interrupted: each such recording gets a stop time (its
// newest file's modification time) and each file still "recording" its
// end offset from its modification time. The files are readable up to
// their last flush (at most a second before the stop). It returns the
// directories it changed.
func Recover(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("recording: recover: %w", err)
	}
	var changed []string
	var errs []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		m, err := ReadManifest(dir)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		if m.Status != StatusRecording {
			continue
		}
		last := m.StartedAt
		for i := range m.Files {
			f := &m.Files[i]
			st, err := os.Stat(filepath.Join(dir, f.Name))
			if err == nil {
				last = max(last, st.ModTime().UnixMilli())
			}
			if f.Status != StatusRecording {
				continue
			}
			f.Status = StatusInterrupted
			if err == nil {
				f.EndMS = max(f.StartMS, st.ModTime().UnixMilli()-m.StartedAt)
			}
		}
		m.Status, m.StopReason, m.StoppedAt = StatusInterrupted, ReasonInterrupted, last
		if err := WriteManifest(dir, m); err != nil {
			errs = append(errs, err)
			continue
		}
		changed = append(changed, dir)
	}
	return changed, errors.Join(errs...)
}

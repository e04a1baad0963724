package recording

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// errStopped ends a track recorder whose session has failed.
var errStopped = errors.New("recording: stopped")

// Options configures a recording Session.
type Options struct {
	// Dir is the recording's directory; NewDir makes one. Required.
	Dir       string
	MeetingID int64
	Room      string
	// StartedBy is the identity of the admin who started it, "" for the
	// server's policy; StartedByName their display name.
	StartedBy, StartedByName string
	// Start is when the recording starts (default now); file offsets
	// count from it.
	Start time.Time
	// OnFail is called once, from a recorder's goroutine, when writing
	// fails (ErrDiskFull or another error): the files are closed as
	// far as written, and the caller should Stop the session. It must
	// not block.
	OnFail func(error)
	// Logger receives the session's logs (default: discard).
	Logger *slog.Logger

	// create opens a new file in Dir; tests replace it.
	create func(path string) (io.WriteCloser, error)
}

// Session records the tracks of one room into a directory: one WebM file
// per track (and per stretch of one simulcast layer) and a manifest.
//
// Add and Stop may be called from any goroutine, Add even with the
// caller's locks held (it does no I/O). Each track has its own goroutine
// (trackRecorder.run); the manifest is written by one more, which
// coalesces changes; Stop waits for them all.
type Session struct {
	o   Options
	log *slog.Logger

	mu       sync.Mutex
	m        Manifest
	names    map[string]int // files started, by participant-source
	tracks   []*trackRecorder
	stopped  bool
	failErr  error
	failOnce sync.Once

	wg      sync.WaitGroup // track recorders
	dirty   chan struct{}  // the manifest changed
	mwDone  chan struct{}  // the manifest writer has ended
	mwStop  chan struct{}
	stopOut *Manifest
}

// Start writes the recording's first manifest and returns the running
// session.
func Start(o Options) (*Session, error) {
	if o.Dir == "" {
		return nil, errors.New("recording: no directory")
	}
	if o.Start.IsZero() {
		o.Start = time.Now()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.create == nil {
		o.create = func(path string) (io.WriteCloser, error) {
			return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		}
	}
	s := &Session{o: o, log: o.Logger.With("recording", o.Dir), names: make(map[string]int),
		dirty: make(chan struct{}, 1), mwDone: make(chan struct{}), mwStop: make(chan struct{})}
	s.m = Manifest{Version: ManifestVersion, MeetingID: o.MeetingID, Room: o.Room, StartedAt: o.Start.UnixMilli(),
		StartedBy: o.StartedBy, StartedByName: o.StartedByName, Status: StatusRecording, Files: []File{}}
	if err := WriteManifest(o.Dir, &s.m); err != nil {
		return nil, classify(err)
	}
	go s.manifestWriter()
	return s, nil
}

// Dir is the recording's directory.
func (s *Session) Dir() string { return s.o.Dir }

// Add records src from now until it ends or the session stops.
func (s *Session) Add(src Source, info TrackInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || s.failErr != nil {
		return
	}
	tr := newTrackRecorder(s, src, info)
	s.tracks = append(s.tracks, tr)
	s.wg.Add(1)
	tr.untap = src.Tap(tr.tap)
	go tr.run()
}

// Stop ends the recording: every track's queued packets are written, its
// file closed, and the final manifest written with reason (a failure's
// reason takes precedence). It waits for all that and returns the
// manifest; later calls return the same.
func (s *Session) Stop(reason string) *Manifest {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		<-s.mwDone
		return s.stopOut
	}
	s.stopped = true
	for _, tr := range s.tracks {
		close(tr.stop)
	}
	s.mu.Unlock()
	s.wg.Wait()
	close(s.mwStop)
	<-s.mwDone // the writer has ended: the last write is ours
	s.mu.Lock()
	s.m.StoppedAt = time.Now().UnixMilli()
	s.m.Status, s.m.StopReason = StatusComplete, reason
	if s.failErr != nil {
		s.m.Status, s.m.StopReason, s.m.StopError = StatusFailed, FailReason(s.failErr), s.failErr.Error()
	}
	out := s.copyLocked()
	s.stopOut = out
	s.mu.Unlock()
	if err := WriteManifest(s.o.Dir, out); err != nil {
		s.log.Error("recording: final manifest", "err", err)
	}
	return out
}

// FailReason names a write failure: ReasonDiskFull or ReasonWriteError.
func FailReason(err error) string {
	if errors.Is(err, ErrDiskFull) {
		return ReasonDiskFull
	}
	return ReasonWriteError
}

// fail records the session's first failure and reports it.
func (s *Session) fail(err error) {
	s.mu.Lock()
	first := s.failErr == nil
	if first {
		s.failErr = err
	}
	s.mu.Unlock()
	if first {
		s.log.Error("recording failed", "err", err)
		if s.o.OnFail != nil {
			s.o.OnFail(err)
		}
	}
}

func (s *Session) failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failErr != nil
}

// offset is at in milliseconds from the recording's start.
func (s *Session) offset(at time.Time) int64 {
	return at.Sub(s.o.Start).Milliseconds()
}

// newFile opens the next file for info and lists it in the manifest.
func (s *Session) newFile(info TrackInfo, layer string, w, h int, at time.Time) (int, io.WriteCloser, error) {
	s.mu.Lock()
	key := safeName(info.Participant) + "-" + info.Source
	s.names[key]++
	name := key + "-" + strconv.Itoa(s.names[key]) + ".webm"
	s.mu.Unlock()
	f, err := s.o.create(filepath.Join(s.o.Dir, name))
	if err != nil {
		return 0, nil, classify(err)
	}
	kind, codec := "audio", "opus"
	if info.Video {
		kind, codec = "video", "vp8"
	}
	s.mu.Lock()
	s.m.Files = append(s.m.Files, File{Name: name, Participant: info.Participant, DisplayName: info.Name,
		Source: info.Source, Kind: kind, Codec: codec, Layer: layer, Width: w, Height: h,
		StartMS: s.offset(at), EndMS: s.offset(at), Status: StatusRecording})
	idx := len(s.m.Files) - 1
	s.mu.Unlock()
	s.changed()
	return idx, f, nil
}

// endFile records how file idx ended.
func (s *Session) endFile(idx int, status string, endMS, frames, dropped int64, err error) {
	s.mu.Lock()
	f := &s.m.Files[idx]
	f.Status, f.EndMS, f.Frames, f.Dropped = status, max(endMS, f.StartMS), frames, dropped
	if err != nil {
		f.Error = err.Error()
	}
	s.mu.Unlock()
	s.changed()
}

func (s *Session) changed() {
	select {
	case s.dirty <- struct{}{}:
	default:
	}
}

func (s *Session) copyLocked() *Manifest {
	m := s.m
	m.Files = append([]File(nil), s.m.Files...)
	return &m
}

// manifestWriter rewrites the manifest when it changed, until Stop.
func (s *Session) manifestWriter() {
	defer close(s.mwDone)
	for {
		select {
		case <-s.mwStop:
			return
		case <-s.dirty:
		}
		s.mu.Lock()
		m := s.copyLocked()
		s.mu.Unlock()
		if err := WriteManifest(s.o.Dir, m); err != nil {
			s.fail(classify(err))
		}
	}
}

// NewDir makes the directory of a new recording under root: named by the
// meeting's id ("12", then "12-2" for a second recording of the same
// meeting), or, without one, by the room and time.
func NewDir(root string, meetingID int64, room string, now time.Time) (string, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", classify(fmt.Errorf("recording: %w", err))
	}
	base := strconv.FormatInt(meetingID, 10)
	if meetingID == 0 {
		base = safeName(room) + "-" + now.UTC().Format("20060102T150405")
	}
	for n := 1; n < 1000; n++ {
		name := base
		if n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		dir := filepath.Join(root, name)
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", classify(fmt.Errorf("recording: %w", err))
		}
	}
	return "", fmt.Errorf("recording: too many recordings named %s in %s", base, root)
}

// safeName makes s usable in a file name: letters, digits, '-', '_' and
// '.' are kept (not leading dots), others become '_'; at most 48 bytes.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == '.' && b.Len() > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 48 {
			break
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

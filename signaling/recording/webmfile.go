package recording

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"
)

// Cluster bounds, in milliseconds of media: a new cluster starts at a
// keyframe after clusterMin, and after clusterMax at the latest, so a file
// cut short (a kill) loses at most about a second.
const (
	clusterMin = 500
	clusterMax = 1000
)

// ErrDiskFull is the write error of a full disk (ENOSPC, EDQUOT).
var ErrDiskFull = errors.New("disk full")

// fileSink is the file a muxer writes to, through a buffer that flush
// empties. It never reports an error to the muxer: ebml-go's writer
// goroutine ends on an error and would then block every later write, so
// the first error is kept (err) for the recorder to see, and later writes
// are dropped.
type fileSink struct {
	mu  sync.Mutex
	f   io.WriteCloser
	buf *bufio.Writer
	err error
	n   int64 // bytes accepted
}

func newFileSink(f io.WriteCloser) *fileSink {
	return &fileSink{f: f, buf: bufio.NewWriterSize(f, 64<<10)}
}

func (s *fileSink) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		_, s.err = s.buf.Write(b)
		s.n += int64(len(b))
	}
	return len(b), nil
}

// flush hands what is buffered to the file (the kernel keeps it if the
// process dies) and returns the first error so far.
func (s *fileSink) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = s.buf.Flush()
	}
	return s.err
}

func (s *fileSink) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close flushes, syncs a real file, and closes it. The muxer calls it.
func (s *fileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = s.buf.Flush()
	}
	if f, ok := s.f.(*os.File); ok && s.err == nil {
		s.err = f.Sync()
	}
	if err := s.f.Close(); s.err == nil {
		s.err = err
	}
	return nil
}

// webmFile is one track's WebM file: a single Opus or VP8 track muxed by
// ebml-go in SimpleBlocks, in clusters of at most clusterMax. The
// Segment and Clusters have unknown sizes and nothing is patched at the
// end, so the file is a valid stream at every flush. Its methods are
// called by one goroutine.
type webmFile struct {
	sink *fileSink
	w    webm.BlockWriteCloser
	err  error // the muxer's own fatal error, if any
	mu   sync.Mutex
}

// newWebMFile starts a WebM stream on f with one track: audio (Opus,
// 48 kHz, channels) or video (VP8, width x height as first seen).
func newWebMFile(f io.WriteCloser, video bool, width, height, channels int) (*webmFile, error) {
	entry := webm.TrackEntry{TrackNumber: 1, TrackUID: 1, TrackType: 2, Name: "audio", CodecID: "A_OPUS",
		Audio: &webm.Audio{SamplingFrequency: 48000, Channels: uint64(channels)}}
	if video {
		entry = webm.TrackEntry{TrackNumber: 1, TrackUID: 1, TrackType: 1, Name: "video", CodecID: "V_VP8",
			Video: &webm.Video{PixelWidth: uint64(width), PixelHeight: uint64(height)}}
	}
	if !video {
		// An Opus track carries its identification header (RFC 7845
		// §5.1) as CodecPrivate, and the 80 ms SeekPreRoll the Matroska
		// Opus mapping asks for. RTP carries no pre-skip: it is 0, so the
		// first sample is at the first frame's time.
		entry.CodecPrivate = opusHead(channels)
		entry.SeekPreRoll = 80000000
	}
	wf := &webmFile{sink: newFileSink(f)}
	info := &webm.Info{TimecodeScale: 1000000, MuxingApp: "confab-server (ebml-go)", WritingApp: "confab-server"}
	ws, err := webm.NewSimpleBlockWriter(wf.sink, []webm.TrackEntry{entry},
		mkvcore.WithSegmentInfo(info),
		mkvcore.WithBlockInterceptor(nil), // one track: nothing to interleave, no delay
		mkvcore.WithMinMaxClusterDuration(1, clusterMin, clusterMax),
		mkvcore.WithOnFatalHandler(func(err error) {
			wf.mu.Lock()
			if wf.err == nil {
				wf.err = err
			}
			wf.mu.Unlock()
		}),
		mkvcore.WithOnErrorHandler(func(error) {}), // a frame older than its cluster: dropped
	)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("recording: webm: %w", err)
	}
	wf.w = ws[0]
	return wf, wf.flush()
}

// opusHead is the Opus identification header: magic, version 1, channel
// count, pre-skip 0, input rate 48000 (little endian), gain 0, mapping
// family 0.
func opusHead(channels int) []byte {
	return []byte{'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, byte(channels), 0, 0,
		0x80, 0xbb, 0, 0, 0, 0, 0}
}

// write adds one frame at ms (from the file's first frame, never less
// than the frame before). b must not be changed afterwards.
func (wf *webmFile) write(keyframe bool, ms int64, b []byte) error {
	if err := wf.failure(); err != nil {
		return err
	}
	_, _ = wf.w.Write(keyframe, ms, b)
	return nil
}

// flush writes what the muxer produced so far to the file.
func (wf *webmFile) flush() error {
	if err := wf.failure(); err != nil {
		return err
	}
	return classify(wf.sink.flush())
}

func (wf *webmFile) failure() error {
	wf.mu.Lock()
	err := wf.err
	wf.mu.Unlock()
	if err != nil {
		return classify(err)
	}
	return classify(wf.sink.failure())
}

// close ends the stream and closes the file; it returns the first error
// of the file's life.
func (wf *webmFile) close() error {
	_ = wf.w.Close() // the muxer writes its last cluster and closes the sink
	return wf.failure()
}

// classify wraps a disk-full error with ErrDiskFull.
func classify(err error) error {
	if err == nil || errors.Is(err, ErrDiskFull) {
		return err
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", ErrDiskFull, err)
	}
	return err
}

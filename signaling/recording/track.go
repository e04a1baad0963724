package recording

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
)

// Source is a published track as a recorder sees it; *sfu.Track is one.
type Source interface {
	// Tap makes fn see each RTP packet of the track (see sfu.Track.Tap).
	Tap(fn func(layer int, p *rtp.Packet)) (remove func())
	// RequestKeyframe asks the publisher for a keyframe (video).
	RequestKeyframe()
	// Done is closed when the track has ended.
	Done() <-chan struct{}
}

// TrackInfo says whose track a Source is.
type TrackInfo struct {
	Participant string // identity
	Name        string // display name
	Source      string // microphone, camera or screen
	Video       bool
	Simulcast   bool // packets come in layers 0..2 (q, h, f)
}

// Track recorder bounds.
const (
	audioQueue = 256  // packets (about 5 s of Opus)
	videoQueue = 1024 // packets (a few seconds of video)
	// flushEvery is how often a file's buffer is written out: a kill
	// loses at most this much (and the frame being written).
	flushEvery = 500 * time.Millisecond
	// keyframeEvery spaces the recorder's own keyframe requests while it
	// waits for one.
	keyframeEvery = time.Second
	// layerSettle is how long the recorder of a simulcast track waits
	// for the top layer before it settles for the highest one seen. A
	// top layer in standby (nobody watched it large) is started again
	// when the recording taps the track: that takes the server's next
	// tick (500 ms), the publisher's reply and a keyframe.
	layerSettle = 1500 * time.Millisecond
	// layerIdle is how long the recorded layer may send nothing while
	// another layer sends before the recorder goes over to that one (in
	// a new file: a file keeps one layer, one resolution).
	layerIdle = 2 * time.Second
	// resync is how far a frame's RTP time may stray from its arrival
	// time before the recorder re-anchors to the arrival time (a
	// publisher that restarted its timestamps).
	resync = 5 * time.Second
	// maxLate is how many packets the sample builder waits for a
	// missing one.
	maxLate  = 128
	topLayer = 2
)

// queued is one packet copied out of the forwarding path.
type queued struct {
	layer   int
	seq     uint16
	ts      uint32
	marker  bool
	at      time.Time
	payload []byte
}

// trackRecorder writes one published track to WebM files: one file for
// each stretch of one layer. The tap (on the forwarding goroutine) copies
// packets into a bounded queue, dropping them when it is full; run (its
// own goroutine, the owner of everything else) depacketizes them into
// frames and writes the files.
type trackRecorder struct {
	sess  *Session
	info  TrackInfo
	src   Source
	q     chan queued
	stop  chan struct{} // closed by the session's Stop
	untap func()

	dropped chan struct{} // has a token when the tap dropped packets
	drops   atomic.Int64  // packets the tap dropped

	// Owned by run.
	file      *webmFile
	idx       int // the file's index in the manifest
	sb        *samplebuilder.SampleBuilder
	layer     int // the layer recorded, -1 until chosen
	best      int // the highest layer seen while choosing
	firstAt   time.Time
	layerLast time.Time // the recorded layer's latest packet
	waitKey   bool
	lastPLI   time.Time
	arrival   time.Time // of the packet being handled
	arrivalTS uint32    // its RTP timestamp
	dropsAt   int64     // drops when the file started
	started   bool      // the file has its first frame
	fileStart time.Time
	lastTS    uint32
	ext       int64 // unwrapped RTP time of the latest frame
	anchorExt int64
	anchorMS  int64
	lastMS    int64
	lastDur   int64
	frames    int64
	lost      int64
}

func newTrackRecorder(s *Session, src Source, info TrackInfo) *trackRecorder {
	n := audioQueue
	if info.Video {
		n = videoQueue
	}
	return &trackRecorder{sess: s, info: info, src: src, q: make(chan queued, n), stop: make(chan struct{}),
		dropped: make(chan struct{}, 1), layer: -1, best: -1, idx: -1}
}

// tap runs on the forwarding goroutine: copy and queue, or drop.
func (tr *trackRecorder) tap(layer int, p *rtp.Packet) {
	pk := queued{layer: layer, seq: p.SequenceNumber, ts: p.Timestamp, marker: p.Marker, at: time.Now(),
		payload: append([]byte(nil), p.Payload...)}
	select {
	case tr.q <- pk:
	default:
		tr.drops.Add(1)
		select {
		case tr.dropped <- struct{}{}:
		default:
		}
	}
}

// run records until the track ends or the session stops.
func (tr *trackRecorder) run() {
	defer tr.sess.wg.Done()
	flush := time.NewTicker(flushEvery)
	defer flush.Stop()
	var err error
	status := StatusComplete
	for err == nil {
		select {
		case pk := <-tr.q:
			err = tr.packet(pk)
		case <-tr.dropped:
			tr.resetVideo()
		case <-flush.C:
			if tr.file != nil {
				err = tr.file.flush()
			}
		case <-tr.src.Done():
			err = tr.drain()
			tr.untap()
			tr.finish(status, err)
			return
		case <-tr.stop:
			tr.untap()
			err = tr.drain()
			tr.finish(status, err)
			return
		}
	}
	tr.untap()
	tr.finish(StatusFailed, err)
}

// drain writes what is queued.
func (tr *trackRecorder) drain() error {
	for {
		select {
		case pk := <-tr.q:
			if err := tr.packet(pk); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// finish closes the current file with status (failed if err) and tells
// the session about a failure.
func (tr *trackRecorder) finish(status string, err error) {
	if tr.file != nil {
		if tr.sb != nil && err == nil {
			tr.sb.Flush()
			err = tr.pop()
		}
		if cerr := tr.file.close(); err == nil {
			err = cerr
		}
		if err != nil {
			status = StatusFailed
		}
		tr.sess.endFile(tr.idx, status, tr.endMS(), tr.frames, tr.lost+tr.drops.Load()-tr.dropsAt, err)
		tr.file = nil
	}
	if err != nil {
		tr.sess.fail(fmt.Errorf("%s of %s: %w", tr.info.Source, tr.info.Participant, err))
	}
}

func (tr *trackRecorder) endMS() int64 {
	if !tr.started {
		return tr.sess.offset(tr.fileStart)
	}
	return tr.sess.offset(tr.fileStart) + tr.lastMS + tr.lastDur
}

// packet handles one queued packet: the layer choice, then the sample
// builder.
func (tr *trackRecorder) packet(pk queued) error {
	if tr.info.Simulcast {
		roll, ok := tr.chooseLayer(pk)
		if roll {
			if err := tr.roll(); err != nil {
				return err
			}
			roll, ok = tr.chooseLayer(pk)
		}
		if !ok {
			return nil
		}
	}
	if tr.sb == nil {
		var dep rtp.Depacketizer = &codecs.OpusPacket{}
		if tr.info.Video {
			dep = &codecs.VP8Packet{}
			tr.waitKey = true
		}
		tr.sb = samplebuilder.New(maxLate, dep, tr.rate())
	}
	p := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: pk.seq, Timestamp: pk.ts, Marker: pk.marker}, Payload: pk.payload}
	tr.sb.Push(p)
	if tr.waitKey {
		tr.askKeyframe(pk.at)
	}
	tr.arrival, tr.arrivalTS = pk.at, pk.ts
	return tr.pop()
}

// chooseLayer decides whether pk, of a simulcast track, is recorded: the
// top layer, or, when it has not come within layerSettle, the highest
// that has, starting at one of its keyframes. roll is true when the
// recorded layer has stopped and pk's layer should take over in a new
// file.
func (tr *trackRecorder) chooseLayer(pk queued) (roll, ok bool) {
	if tr.layer >= 0 {
		if pk.layer == tr.layer {
			tr.layerLast = pk.at
			return false, true
		}
		return pk.at.Sub(tr.layerLast) > layerIdle, false
	}
	if tr.firstAt.IsZero() {
		tr.firstAt = pk.at
		tr.src.RequestKeyframe()
	}
	tr.best = max(tr.best, pk.layer)
	if pk.layer != tr.best || (tr.best != topLayer && pk.at.Sub(tr.firstAt) < layerSettle) {
		return false, false
	}
	if !vp8KeyframeStart(pk.payload) {
		tr.askKeyframe(pk.at)
		return false, false
	}
	tr.layer, tr.layerLast = pk.layer, pk.at
	return false, true
}

// roll ends the current file (complete) and makes the next packets
// choose a layer afresh for a new one.
func (tr *trackRecorder) roll() error {
	tr.finish(StatusComplete, nil)
	if tr.sess.failed() {
		return errStopped
	}
	tr.sb, tr.layer, tr.best, tr.firstAt, tr.started = nil, -1, -1, time.Time{}, false
	return nil
}

// resetVideo makes a video recorder skip to the next keyframe (packets
// were lost: the frames until then would decode wrong).
func (tr *trackRecorder) resetVideo() {
	if tr.info.Video && tr.started {
		tr.waitKey = true
	}
}

func (tr *trackRecorder) askKeyframe(now time.Time) {
	if now.Sub(tr.lastPLI) >= keyframeEvery {
		tr.lastPLI = now
		tr.src.RequestKeyframe()
	}
}

// pop writes the frames the sample builder has completed.
func (tr *trackRecorder) pop() error {
	for {
		s := tr.sb.Pop()
		if s == nil {
			return nil
		}
		if err := tr.sample(s); err != nil {
			return err
		}
	}
}

// sample writes one frame.
func (tr *trackRecorder) sample(s *media.Sample) error {
	if len(s.Data) == 0 {
		return nil
	}
	key := true
	if tr.info.Video {
		key = s.Data[0]&0x01 == 0 // RFC 6386 §9.1: P=0 is a keyframe
		if s.PrevDroppedPackets > 0 && tr.started {
			tr.lost += int64(s.PrevDroppedPackets)
			tr.waitKey = true
		}
		if tr.waitKey && !key {
			tr.askKeyframe(tr.arrival)
			return nil
		}
		tr.waitKey = false
	}
	at := tr.sampleArrival(s.PacketTimestamp)
	if tr.file == nil {
		if err := tr.open(s, at); err != nil {
			return err
		}
	}
	ms := tr.timestamp(s.PacketTimestamp, at)
	tr.frames++
	tr.lastDur = s.Duration.Milliseconds()
	return tr.file.write(key, ms, s.Data)
}

// sampleArrival estimates when the first packet of the frame with RTP
// timestamp ts arrived: the sample builder hands a frame out when a
// packet of the next one arrives, which is this much later in RTP time.
func (tr *trackRecorder) sampleArrival(ts uint32) time.Time {
	d := int64(int32(tr.arrivalTS - ts))
	if d <= 0 || d > int64(tr.rate()) {
		return tr.arrival
	}
	return tr.arrival.Add(-time.Duration(d) * time.Second / time.Duration(tr.rate()))
}

func (tr *trackRecorder) rate() uint32 {
	if tr.info.Video {
		return 90000
	}
	return 48000
}

// open starts a new file with s, the first frame, which arrived at at.
func (tr *trackRecorder) open(s *media.Sample, at time.Time) error {
	w, h := 0, 0
	if tr.info.Video {
		w, h = vp8Size(s.Data)
	}
	layer := ""
	if tr.info.Simulcast && tr.layer >= 0 {
		layer = layerRIDs[tr.layer]
	}
	idx, f, err := tr.sess.newFile(tr.info, layer, w, h, at)
	if err != nil {
		return err
	}
	wf, err := newWebMFile(f, tr.info.Video, w, h, 2)
	if err != nil {
		tr.sess.endFile(idx, StatusFailed, 0, 0, 0, err)
		return classify(err)
	}
	tr.file, tr.idx, tr.fileStart, tr.frames, tr.lost, tr.dropsAt = wf, idx, at, 0, 0, tr.drops.Load()
	return nil
}

// timestamp maps a frame's RTP timestamp to milliseconds from the file's
// first frame: unwrapped across the 32-bit wrap, at 48 or 90 kHz, never
// going back, re-anchored to the arrival time when the two part by more
// than resync (a gap without timestamps, a publisher restart).
func (tr *trackRecorder) timestamp(ts uint32, at time.Time) int64 {
	rate := int64(tr.rate())
	if !tr.started {
		tr.started = true
		tr.ext, tr.anchorExt, tr.anchorMS, tr.lastMS, tr.lastTS = int64(ts), int64(ts), 0, 0, ts
		return 0
	}
	tr.ext += int64(int32(ts - tr.lastTS))
	tr.lastTS = ts
	ms := tr.anchorMS + (tr.ext-tr.anchorExt)*1000/rate
	wall := at.Sub(tr.fileStart).Milliseconds()
	if d := ms - wall; d > resync.Milliseconds() || d < -resync.Milliseconds() {
		tr.anchorExt, tr.anchorMS = tr.ext, max(wall, tr.lastMS)
		ms = tr.anchorMS
	}
	ms = max(ms, tr.lastMS+1) // strictly increasing: a demuxer needs distinct times
	tr.lastMS = ms
	return ms
}

var layerRIDs = [...]string{"q", "h", "f"}

// vp8KeyframeStart reports whether an RTP payload starts a VP8 keyframe:
// the descriptor (RFC 7741 §4.2) has S=1 and partition 0, and the frame
// tag's P bit (RFC 6386 §9.1) is 0.
func vp8KeyframeStart(p []byte) bool {
	var d codecs.VP8Packet
	frame, err := d.Unmarshal(p)
	if err != nil || d.S != 1 || d.PID != 0 || len(frame) == 0 {
		return false
	}
	return frame[0]&0x01 == 0
}

// vp8Size reads the size from a VP8 keyframe's header (RFC 6386 §9.1).
func vp8Size(frame []byte) (w, h int) {
	if len(frame) < 10 || frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a {
		return 0, 0
	}
	return int(uint16(frame[6])|uint16(frame[7])<<8) & 0x3fff, int(uint16(frame[8])|uint16(frame[9])<<8) & 0x3fff
}

package sfu

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// MaxLayers is the most simulcast layers a track has.
const MaxLayers = 3

// LayerRIDs are the RTP stream ids (RFC 8852) of the simulcast layers, by
// layer index, lowest quality first: "q" a quarter of the full size in
// each dimension, "h" half, "f" full (PROTOCOL.md §5.3).
var LayerRIDs = [MaxLayers]string{"q", "h", "f"}

// LayerIndex returns the index of the layer with RTP stream id rid, or -1.
func LayerIndex(rid string) int {
	for i, r := range LayerRIDs {
		if r == rid {
			return i
		}
	}
	return -1
}

// layerIdle is how long a layer may send nothing before it counts as
// stopped (a browser stops its top layer when its own uplink is short).
const layerIdle = 2 * time.Second

// ErrTrackEnded is returned by AddLayer when the track's last layer has
// already ended: the caller starts a new track.
var ErrTrackEnded = errors.New("sfu: track has ended")

// simulcast holds a simulcast track's layers and subscribers.
type simulcast struct {
	mu      sync.Mutex
	layers  [MaxLayers]*Layer
	running int  // layer forwarders still running
	ended   bool // the last one has returned

	downs atomic.Pointer[[]*DownTrack] // copy on write, read per packet
	dmu   sync.Mutex                   // serializes changes to downs
}

// Layer is one simulcast layer of a track, as the publisher sends it.
type Layer struct {
	index  int
	remote *webrtc.TrackRemote
	ssrc   uint32
	rate   rateMeter
	last   atomic.Int64 // Unix ns of the latest packet
	width  atomic.Int32 // from its latest keyframe header, 0 until one
	height atomic.Int32
	pli    pliGate
	cache  packetCache // the latest packets, for NACKs
	// Standby (standby.go): whether the publisher was asked to stop
	// sending the layer, since when it was asked to start again, and
	// when a subscriber last needed it (Unix ns).
	standby   atomic.Bool
	resumedAt atomic.Int64
	neededAt  atomic.Int64
	// standbyRate is the bitrate the layer measured when it was put in
	// standby: what it will need again.
	standbyRate atomic.Int64
}

func (s *simulcast) snapshot() []*Layer {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Layer
	for _, l := range s.layers {
		if l != nil {
			out = append(out, l)
		}
	}
	return out
}

func (s *simulcast) layer(i int) *Layer {
	if i < 0 || i >= MaxLayers {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.layers[i]
}

// NewSimulcastTrack prepares a simulcast track received by receiver on
// the publisher's PeerConnection pc; its layers are added with AddLayer
// as pion reports them (one TrackRemote per RID).
func NewSimulcastTrack(pc *webrtc.PeerConnection, kind webrtc.RTPCodecType, receiver *webrtc.RTPReceiver,
	id, streamID, source string, stats *Stats, opts ...TrackOption) *Track {
	t := newTrack(pc, kind, receiver, id, streamID, source, stats, opts)
	t.Simulcast = true
	empty := []*DownTrack{}
	t.sim.downs.Store(&empty)
	return t
}

// AddLayer adds remote, whose RID names its layer, to a simulcast track.
// Forward it with ForwardLayer. It fails for an unknown RID, a layer the
// track already has, or a track whose layers have all ended.
func (t *Track) AddLayer(remote *webrtc.TrackRemote) (*Layer, error) {
	i := LayerIndex(remote.RID())
	if !t.Simulcast || i < 0 {
		return nil, errors.New("sfu: not a simulcast layer: rid " + remote.RID())
	}
	s := &t.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return nil, ErrTrackEnded
	}
	if s.layers[i] != nil {
		return nil, errors.New("sfu: layer " + remote.RID() + " arrived twice")
	}
	l := &Layer{index: i, remote: remote, ssrc: uint32(remote.SSRC())}
	l.last.Store(time.Now().UnixNano())
	l.neededAt.Store(time.Now().UnixNano())
	s.layers[i] = l
	s.running++
	return l, nil
}

// Layers reports which layers the track has, by index.
func (t *Track) Layers() [MaxLayers]LayerInfo {
	var out [MaxLayers]LayerInfo
	now := time.Now()
	for _, l := range t.sim.snapshot() {
		out[l.index] = l.info(now)
	}
	return out
}

// LayerInfo describes one simulcast layer as it arrives.
type LayerInfo struct {
	Present bool // the publisher has sent on it
	Active  bool // and has within layerIdle
	// Standby: the server asked the publisher to stop sending it because
	// no subscriber needed it, or to start again less than layerIdle ago
	// (standby.go). It sends nothing, or not yet, but it is to be had.
	Standby bool
	Bitrate int // bits per second
	Width   int // from the latest keyframe; 0 until one came
	Height  int
}

func (l *Layer) info(now time.Time) LayerInfo {
	in := LayerInfo{
		Present: true,
		Active:  now.Sub(time.Unix(0, l.last.Load())) < layerIdle,
		Standby: l.standby.Load() || now.Sub(time.Unix(0, l.resumedAt.Load())) < layerIdle,
		Bitrate: l.rate.bitrate(now),
		Width:   int(l.width.Load()),
		Height:  int(l.height.Load()),
	}
	if in.Standby {
		// Stopped, or not yet measured again since it was started.
		in.Bitrate = max(in.Bitrate, int(l.standbyRate.Load()))
	}
	return in
}

// ForwardLayer copies the packets of layer l to the subscribers whose
// DownTrack carries it, until the publisher's stream ends. It reports
// whether l was the track's last running layer: then Done is closed and
// the track is over. It is called once per layer, on its own goroutine.
func (t *Track) ForwardLayer(l *Layer) (last bool, err error) {
	t.stats.TracksLive.Add(1)
	defer t.stats.TracksLive.Add(-1)
	defer func() {
		s := &t.sim
		s.mu.Lock()
		s.running--
		last = s.running == 0
		if last {
			s.ended = true
			close(t.done)
		}
		s.mu.Unlock()
	}()
	buf := make([]byte, maxPacket)
	var pkt rtp.Packet
	for {
		n, _, err := l.remote.Read(buf)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return false, nil
			}
			return false, err
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue
		}
		now := time.Now()
		t.stats.PacketsIn.Add(1)
		t.stats.BytesIn.Add(uint64(n))
		l.rate.add(n)
		l.last.Store(now.UnixNano())
		l.cache.put(pkt.SequenceNumber, buf[:n])
		vi, ok := parseVP8(pkt.Payload)
		if !ok {
			vi = vp8Info{picID: -1, tl0: -1}
		}
		if vi.keyframe && vi.width > 0 {
			l.width.Store(int32(vi.width))
			l.height.Store(int32(vi.height))
		}
		t.tap.call(l.index, &pkt)
		if t.batch != nil {
			t.batch.Begin()
		}
		for _, d := range *t.sim.downs.Load() {
			d.write(l.index, &pkt, &vi, now)
		}
		if t.batch != nil {
			t.batch.End()
		}
	}
}

func (t *Track) pliLayer(l *Layer) {
	l.pli.request(t.done, func() { t.sendPLI(l.ssrc) })
}

// Package playout mixes remote audio streams and plays them on a speaker
// through miniaudio (github.com/gen2brain/malgo). Without a usable sound
// device it plays into miniaudio's null backend, which consumes audio in
// real time like a speaker would, so a call never fails for lack of one.
//
// Audio is mono, 16-bit, 48 kHz throughout, the format of
// media/decode.AudioDecoder.
package playout

import (
	"math"
	"sync"
	"sync/atomic"
)

// SampleRate is the mixing and output rate.
const SampleRate = 48000

// Source is one stream the mixer pulls from: ReadPCM fills dst with mono
// 48 kHz samples and returns how many it wrote (0..len(dst); the rest is
// silence). *decode.AudioDecoder implements it.
type Source interface {
	ReadPCM(dst []int16) int
}

// Mixer sums any number of Sources. Add and Remove may be called from any
// goroutine; Mix is called by one goroutine, the output's.
type Mixer struct {
	mu      sync.Mutex
	sources map[string]Source
	order   []string // sorted ids for a stable mixing order
	gain    atomic.Uint64
	ref     atomic.Pointer[Reference]

	// Mix goroutine only.
	acc []int32
	tmp []int16
}

// NewMixer returns an empty mixer at unity gain.
func NewMixer() *Mixer {
	m := &Mixer{sources: make(map[string]Source)}
	m.gain.Store(math.Float64bits(1))
	return m
}

// Add mixes in src under id, replacing any source with that id.
func (m *Mixer) Add(id string, src Source) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sources[id]; !ok {
		m.order = append(m.order, id)
	}
	m.sources[id] = src
}

// Remove stops mixing id. Removing an unknown id does nothing.
func (m *Mixer) Remove(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sources[id]; !ok {
		return
	}
	delete(m.sources, id)
	for i, o := range m.order {
		if o == id {
			m.order = append(m.order[:i], m.order[i+1:]...)
			break
		}
	}
}

// Len returns the number of sources.
func (m *Mixer) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sources)
}

// SetVolume sets the output gain, 0 (mute) to 2 (+6 dB); 1 is unity.
func (m *Mixer) SetVolume(v float64) {
	m.gain.Store(math.Float64bits(max(0, min(2, v))))
}

// Volume returns the output gain.
func (m *Mixer) Volume() float64 { return math.Float64frombits(m.gain.Load()) }

// Reference receives everything the mixer plays, as it is played: an echo
// canceller's far-end reference (*audioproc.Processor implements it). It
// is called on the Mix goroutine (the audio callback) and must not block.
type Reference interface {
	ProcessRender(pcm []int16)
}

// SetReference hands every mixed buffer to r from now on (nil: to no one).
func (m *Mixer) SetReference(r Reference) {
	if r == nil {
		m.ref.Store(nil)
		return
	}
	m.ref.Store(&r)
}

// Mix fills dst with the sum of all sources, scaled by the volume and
// clipped to 16 bits, and hands it to the Reference. With no sources it
// writes silence.
func (m *Mixer) Mix(dst []int16) {
	if cap(m.acc) < len(dst) {
		m.acc = make([]int32, len(dst))
		m.tmp = make([]int16, len(dst))
	}
	acc := m.acc[:len(dst)]
	clear(acc)
	tmp := m.tmp[:len(dst)]

	m.mu.Lock()
	for _, id := range m.order {
		n := m.sources[id].ReadPCM(tmp)
		for i, s := range tmp[:n] {
			acc[i] += int32(s)
		}
	}
	m.mu.Unlock()

	gain := m.Volume()
	for i, s := range acc {
		if gain != 1 {
			s = int32(float64(s) * gain)
		}
		dst[i] = int16(max(math.MinInt16, min(math.MaxInt16, s)))
	}
	if r := m.ref.Load(); r != nil {
		(*r).ProcessRender(dst)
	}
}

// Once returns a Source that plays pcm (mono, SampleRate) once, then
// silence: a notification sound mixed over whatever else plays.
func Once(pcm []int16) Source { return &once{pcm: pcm} }

type once struct {
	mu  sync.Mutex
	pcm []int16
}

func (o *once) ReadPCM(dst []int16) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := copy(dst, o.pcm)
	o.pcm = o.pcm[n:]
	return n
}

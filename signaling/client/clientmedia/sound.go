package clientmedia

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/confab/confab/media/playout"
)

// soundSeq names the one-shot sounds in the mixer.
var soundSeq atomic.Uint64

// PlaySound mixes pcm (mono, 48 kHz) into the call's speaker output once,
// over the participants' voices, such as a chime when someone joins.
func (m *Media) PlaySound(pcm []int16) {
	if len(pcm) == 0 {
		return
	}
	id := fmt.Sprintf("sound:%d", soundSeq.Add(1))
	m.player.Mixer.Add(id, playout.Once(pcm))
	d := time.Duration(len(pcm)) * time.Second / playout.SampleRate
	time.AfterFunc(d+time.Second, func() { m.player.Mixer.Remove(id) })
}

// SetSpeakerOn turns the call's sound on or off: off silences everything
// the speaker plays (voices and sounds) without leaving the call.
func (m *Media) SetSpeakerOn(on bool) {
	v := 0.0
	if on {
		v = 1
	}
	m.player.Mixer.SetVolume(v)
}

// SpeakerOn reports whether the call's sound is on.
func (m *Media) SpeakerOn() bool { return m.player.Mixer.Volume() > 0 }

package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/confab/confab/assets/sounds"
	"github.com/confab/confab/media/playout"
	"github.com/confab/confab/signaling/calls"
	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/client/clientmedia"
	"github.com/confab/confab/ui"
)

// ringEvery is how often the ring phrase starts while a call rings.
const ringEvery = 3 * time.Second

// ringers counts the ring tones playing; shutdown waits for them.
var ringers sync.WaitGroup

// Online signs in to presence on server, the built-in one when "" (the
// People view, ui.Caller).
func (b *backend) Online(ctx context.Context, server string, hello calls.Hello) (ui.PeopleConn, error) {
	url := strings.TrimSpace(server)
	if url == "" {
		b.ensureServer()
		e := b.server()
		if e == nil {
			return nil, fmt.Errorf("%w: no server given", client.ErrUnreachable)
		}
		url = e.URL
	}
	c, err := calls.Dial(ctx, url, hello)
	if err != nil {
		return nil, err // not a nil *calls.Client in a non-nil interface
	}
	return c, nil
}

// StartRinging plays the ring phrase on the default speaker every
// ringEvery until the returned func is called (ui.Caller). Without a
// speaker it stays silent.
func (b *backend) StartRinging() func() {
	stop := make(chan struct{})
	ringers.Add(1)
	go func() {
		defer ringers.Done()
		p, err := playout.New(playout.WithLogger(b.log))
		if err != nil {
			b.log.Info("no speaker for the ring", "err", err)
			return
		}
		defer p.Close()
		pcm := sounds.PCM(sounds.Ring)
		for i := 0; ; i++ {
			id := fmt.Sprintf("ring:%d", i)
			p.Mixer.Add(id, playout.Once(pcm))
			select {
			case <-stop:
				return
			case <-time.After(ringEvery):
			}
			p.Mixer.Remove(id)
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(stop) }) }
}

// SetSpeakerOn turns the call's sound on or off (ui.SpeakerMuter).
func (c *call) SetSpeakerOn(on bool) { c.media.SetSpeakerOn(on) }

// cameraCounter is a call's local media that counts the cameras it opens
// (backend.cameraOpens), so a test can tell that an audio call never
// opened one: the camera light stayed off.
type cameraCounter struct {
	*clientmedia.Media
	opens *atomic.Int64
}

// OpenCamera opens the chosen camera and counts it.
func (m cameraCounter) OpenCamera() (client.LocalTrack, error) {
	m.opens.Add(1)
	return m.Media.OpenCamera()
}

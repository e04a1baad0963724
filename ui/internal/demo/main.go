// Command demo runs the Confab UI against a made-up backend: four people
// with moving test pictures, a little chat, and an active speaker that
// changes. It is for looking at the UI without a server:
//
//	go run ./ui/internal/demo -join -chat
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"math"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/confab/confab/media"
	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/wire"
	"github.com/confab/confab/ui"
)

func main() {
	join := flag.Bool("join", false, "join the demo room at once")
	chat := flag.Bool("chat", false, "open the chat panel after joining")
	share := flag.Bool("share", false, "have someone share a screen")
	people := flag.Int("people", 4, "number of people in the room, 1 to 16")
	noCam := flag.Bool("nocam", false, "pretend there is no camera")
	fail := flag.Bool("fail", false, "make joining fail with a full room")
	joinDelay := flag.Duration("joindelay", 600*time.Millisecond, "how long joining takes")
	hover := flag.Bool("hover", false, "show the chat button's tooltip after joining")
	flag.Parse()

	a := app.NewWithID("io.confab.demo")
	b := &backend{people: max(1, min(16, *people)), share: *share, noCam: *noCam, fail: *fail, delay: *joinDelay}
	u := ui.New(a, b, ui.Options{Name: "Dana Scully", Room: "design-review", AutoJoin: *join})
	if *chat || *hover {
		go func() {
			time.Sleep(1500 * time.Millisecond)
			fyne.Do(func() {
				cs := u.Call()
				if cs == nil {
					return
				}
				if *chat {
					cs.Controls().Chat.Tapped(nil)
				}
				if *hover {
					cs.Controls().Chat.MouseIn(nil)
				}
			})
		}()
	}
	if *fail {
		go func() {
			time.Sleep(800 * time.Millisecond)
			fyne.Do(func() { u.Entry().JoinButton.OnTapped() })
		}()
	}
	u.ShowAndRun()
}

// backend is a made-up ui.Backend.
type backend struct {
	people int
	share  bool
	noCam  bool
	fail   bool
	delay  time.Duration
}

func (b *backend) Join(ctx context.Context, req ui.JoinRequest) (ui.Call, error) {
	select {
	case <-time.After(b.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if b.fail {
		return nil, fmt.Errorf("join refused: %w", &wire.Error{Code: wire.CodeRoomFull, Message: "room is full"})
	}
	c := &call{events: make(chan client.Event, 64), stop: make(chan struct{}), req: req, b: b}
	go c.run()
	return c, nil
}

func (b *backend) Devices() ui.Devices {
	d := ui.Devices{
		Microphones: []ui.Device{{ID: "mic0", Label: "Built-in Microphone"}, {ID: "mic1", Label: "USB Headset"}},
		Speakers:    []ui.Device{{ID: "spk0", Label: "Built-in Speakers"}},
	}
	if !b.noCam {
		d.Cameras = []ui.Device{{ID: "cam0", Label: "Integrated Webcam"}}
	}
	return d
}

func (b *backend) Preview(cameraID string, testPattern bool) (client.VideoSource, func(), error) {
	src := newPattern(0, "You", 640, 360)
	return src, src.close, nil
}

func (b *backend) MicLevel(string) (func() float64, func(), error) {
	start := time.Now()
	return func() float64 {
		t := time.Since(start).Seconds()
		return math.Abs(math.Sin(t*3)) * (0.5 + 0.5*math.Sin(t*0.7))
	}, func() {}, nil
}

func (b *backend) ServerHint() string {
	return "Hosting on 127.0.0.1:7880 — others can join at 192.168.1.20:7880"
}

// call is a made-up ui.Call.
type call struct {
	b      *backend
	req    ui.JoinRequest
	events chan client.Event
	stop   chan struct{}
	once   sync.Once
	mu     sync.Mutex // guards n, srcs, closed and sending on events
	closed bool
	n      int
	srcs   []*pattern
}

var names = []string{"Fox Mulder", "Walter Skinner", "Monica Reyes", "John Doggett", "Jeffrey Spender", "Alex Krycek",
	"Marita Covarrubias", "Melvin Frohike", "John Byers", "Richard Langly", "Teena Mulder", "Bill Scully", "Margaret Scully",
	"Gibson Praise", "Cassandra Spender"}

func (c *call) run() {
	you := client.Participant{ID: "p0", Name: c.req.Name, Mic: true, Camera: true}
	var others []client.Participant
	for i := 1; i < c.b.people; i++ {
		others = append(others, client.Participant{ID: fmt.Sprintf("p%d", i), Name: names[(i-1)%len(names)], Mic: i%3 != 2, Camera: i%4 != 3})
	}
	now := time.Now()
	hist := []client.ChatMessage{
		{Seq: 1, ID: "a", From: "p1", Name: names[0], Text: "Morning! Agenda is in the doc: https://example.com/agenda", At: now.Add(-9 * time.Minute).UnixMilli()},
		{Seq: 2, ID: "b", From: "p2", Name: names[1], Text: "Thanks. I'll be 2 min late for the **review** <b>part</b>.", At: now.Add(-8 * time.Minute).UnixMilli()},
		{Seq: 3, ID: "c", From: "p0", Name: c.req.Name, Text: "No problem, we'll start with the numbers.", At: now.Add(-7 * time.Minute).UnixMilli()},
		{Seq: 4, ID: "d", From: "p1", Name: names[0], Text: "Sharing my screen in a sec.\nSecond line of the same message.", At: now.Add(-6 * time.Minute).UnixMilli()},
	}
	c.send(client.StateChanged{State: client.StateConnected})
	c.send(client.Welcome{Room: c.req.Room, You: you, Participants: others, Chat: hist, ChatMore: false})
	c.addVideo(you.ID, wire.SourceCamera, true, "You")
	for _, p := range others {
		if p.Camera {
			c.addVideo(p.ID, wire.SourceCamera, false, p.Name)
		}
	}
	if c.b.share && len(others) > 0 {
		p := others[0]
		p.Screen = true
		c.send(client.ParticipantUpdated{Participant: p})
		c.addVideo(p.ID, wire.SourceScreen, false, "Screen")
	}
	tk := time.NewTicker(2 * time.Second)
	defer tk.Stop()
	i := 0
	for {
		select {
		case <-c.stop:
			c.mu.Lock()
			c.closed = true
			c.events <- client.StateChanged{State: client.StateLeft}
			close(c.events)
			c.mu.Unlock()
			return
		case <-tk.C:
			i++
			if len(others) > 0 {
				sp := others[i%len(others)]
				c.send(client.SpeakersChanged{Speakers: []client.Speaker{{ID: sp.ID, Level: 0.8}}})
			}
			if i == 2 && len(others) > 1 {
				c.send(client.ChatReceived{Message: client.ChatMessage{Seq: 5, ID: "e", From: "p2", Name: names[1],
					Text: "Back. Can everyone see the slides?", At: time.Now().UnixMilli()}})
			}
		}
	}
}

func (c *call) addVideo(pid, source string, local bool, label string) {
	c.mu.Lock()
	c.n++
	src := newPattern(c.n, label, 640, 360)
	if source == wire.SourceScreen {
		src = newPattern(c.n, label, 1280, 800)
	}
	c.srcs = append(c.srcs, src)
	c.mu.Unlock()
	c.send(client.VideoAdded{ParticipantID: pid, Source: source, Local: local, Video: src})
}

func (c *call) send(ev client.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.events <- ev
	}
}

func (c *call) Events() <-chan client.Event { return c.events }

func (c *call) SendChat(text string) (string, error) {
	if err := wire.ValidateChatText(text); err != nil {
		return "", err
	}
	c.mu.Lock()
	c.n++
	id := fmt.Sprintf("m%d", c.n)
	seq := int64(100 + c.n)
	c.mu.Unlock()
	go func() {
		time.Sleep(400 * time.Millisecond)
		c.send(client.ChatReceived{Own: true, Message: client.ChatMessage{Seq: seq, ID: id, From: "p0", Name: c.req.Name, Text: text, At: time.Now().UnixMilli()}})
	}()
	return id, nil
}

func (c *call) RetryChat(string) error       { return nil }
func (c *call) LoadOlderChat(int64) error    { return errors.New("no older messages") }
func (c *call) SetMicMuted(bool) error       { return nil }
func (c *call) SetCameraOn(bool) error       { return nil }
func (c *call) SetScreenShare(on bool) error { return nil }
func (c *call) ReconnectNow()                {}
func (c *call) Leave() error {
	c.once.Do(func() {
		close(c.stop)
		c.mu.Lock()
		for _, s := range c.srcs {
			s.close()
		}
		c.mu.Unlock()
	})
	return nil
}

// pattern is a moving test picture: a colour wash with a bouncing ball,
// in a media.FrameSlot like a decoder's.
type pattern struct {
	*media.FrameSlot
	done chan struct{}
	once sync.Once
}

func newPattern(n int, label string, w, h int) *pattern {
	p := &pattern{FrameSlot: media.NewFrameSlot(), done: make(chan struct{})}
	go p.run(n, w, h)
	return p
}

func (p *pattern) close() { p.once.Do(func() { close(p.done) }) }

func (p *pattern) run(n, w, h int) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	hues := []color.RGBA{{40, 70, 120, 255}, {110, 60, 90, 255}, {40, 100, 80, 255}, {120, 90, 40, 255}, {70, 60, 130, 255}}
	base := hues[n%len(hues)]
	tk := time.NewTicker(time.Second / 30)
	defer tk.Stop()
	for f := 0; ; f++ {
		select {
		case <-p.done:
			return
		case <-tk.C:
		}
		t := float64(f) / 30
		bx := float64(w)/2 + math.Sin(t*1.3+float64(n))*float64(w)/3
		by := float64(h)/2 + math.Cos(t*1.7+float64(n))*float64(h)/3
		r := float64(h) / 8
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				i := img.PixOffset(x, y)
				shade := 0.6 + 0.4*float64(x+y)/float64(w+h)
				cr, cg, cb := float64(base.R)*shade, float64(base.G)*shade, float64(base.B)*shade
				if dx, dy := float64(x)-bx, float64(y)-by; dx*dx+dy*dy < r*r {
					cr, cg, cb = 235, 235, 240
				}
				if x < w/12 && y < h/12 { // a marker in the top-left corner shows mirroring
					cr, cg, cb = 250, 200, 40
				}
				img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(cr), uint8(cg), uint8(cb), 255
			}
		}
		p.Put(img)
	}
}

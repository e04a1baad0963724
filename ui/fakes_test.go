package ui

import (
	"context"
	"fmt"
	"image"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/confab/confab/signaling/client"
)

// The fakes here stand in for the network boundary (the signaling client
// and the devices) so the UI can be driven headless.

// queue collects the work the app hands to the UI goroutine and runs it
// on the test goroutine when the test asks, so tests stay race-free.
type queue struct{ ch chan func() }

func newQueue() *queue { return &queue{ch: make(chan func(), 4096)} }

func (q *queue) do(f func()) { q.ch <- f }

// drain runs everything queued now.
func (q *queue) drain() {
	for {
		select {
		case f := <-q.ch:
			f()
		default:
			return
		}
	}
}

// until runs queued work until cond holds, failing the test after 5s.
func (q *queue) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for !cond() {
		select {
		case f := <-q.ch:
			f()
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// eventually polls cond, failing the test after 5s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// fakeSource is a VideoSource whose frames the test sets. It scales
// frames the simplest way (nearest pixel) and records each Render.
type fakeSource struct {
	mu      sync.Mutex
	frame   *image.RGBA
	seq     uint64
	renders []fakeRender
}

// fakeRender is one call of fakeSource.Render.
type fakeRender struct {
	size   image.Point
	mirror bool
}

func newFakeSource(w, h int) *fakeSource {
	s := &fakeSource{}
	s.next(image.NewRGBA(image.Rect(0, 0, w, h)))
	return s
}

func (s *fakeSource) next(f *image.RGBA) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frame = f
	s.seq++
}

// Latest returns the frame last set, for tests to pass on.
func (s *fakeSource) Latest() (*image.RGBA, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frame, s.seq
}

func (s *fakeSource) Seq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

func (s *fakeSource) Render(dst *image.RGBA, w, h int, mirror bool) (*image.RGBA, image.Point, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frame == nil {
		return dst, image.Point{}, 0
	}
	b := s.frame.Bounds()
	if w <= 0 || h <= 0 {
		w, h = b.Dx(), b.Dy()
	}
	s.renders = append(s.renders, fakeRender{image.Pt(w, h), mirror})
	if dst == nil || cap(dst.Pix) < 4*w*h {
		dst = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	dst.Pix, dst.Stride, dst.Rect = dst.Pix[:4*w*h], 4*w, image.Rect(0, 0, w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sx := x * b.Dx() / w
			if mirror {
				sx = b.Dx() - 1 - sx
			}
			dst.SetRGBA(x, y, s.frame.RGBAAt(b.Min.X+sx, b.Min.Y+y*b.Dy()/h))
		}
	}
	return dst, b.Size(), s.seq
}

// rendered returns the Render calls so far.
func (s *fakeSource) rendered() []fakeRender {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]fakeRender(nil), s.renders...)
}

// fakeBackend is a Backend with made-up devices.
type fakeBackend struct {
	mu       sync.Mutex
	devices  Devices
	joinErr  error
	gate     chan struct{} // when set, Join waits for it to close
	joins    []JoinRequest
	calls    []*fakeCall
	previews []string
	stops    int
	// holdDevices makes a call hold the devices as the real backend does:
	// Preview and MicLevel fail with ErrDevicesInUse from Join until the
	// call's Leave returns.
	holdDevices bool
	busy        bool
	micOpens    int
	hint        string // ServerHint; "" for the default
	changed     func() // from OnServerChanged
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{devices: Devices{
		Cameras:     []Device{{ID: "cam1", Label: "Webcam"}, {ID: "cam2", Label: "Desk camera"}},
		Microphones: []Device{{ID: "mic1", Label: "Mic"}, {ID: "mic2", Label: "Headset"}},
		Speakers:    []Device{{ID: "spk1", Label: "Speakers"}},
	}}
}

func (b *fakeBackend) Join(ctx context.Context, req JoinRequest) (Call, error) {
	b.mu.Lock()
	b.joins = append(b.joins, req)
	gate, err := b.gate, b.joinErr
	b.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	b.mu.Lock()
	err = b.joinErr
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	c := newFakeCall()
	b.mu.Lock()
	b.calls = append(b.calls, c)
	if b.holdDevices {
		b.busy = true
		c.onLeave = func() {
			b.mu.Lock()
			b.busy = false
			b.mu.Unlock()
		}
	}
	b.mu.Unlock()
	return c, nil
}

func (b *fakeBackend) Devices() Devices {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.devices
}

func (b *fakeBackend) Preview(cameraID string, testPattern bool) (client.VideoSource, func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.previews = append(b.previews, fmt.Sprintf("%s/%v", cameraID, testPattern))
	if b.busy {
		return nil, nil, fmt.Errorf("preview: %w", ErrDevicesInUse)
	}
	return newFakeSource(64, 36), func() {
		b.mu.Lock()
		b.stops++
		b.mu.Unlock()
	}, nil
}

func (b *fakeBackend) MicLevel(string) (func() float64, func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.busy {
		return nil, nil, ErrDevicesInUse
	}
	b.micOpens++
	return func() float64 { return 0.5 }, func() {}, nil
}

func (b *fakeBackend) ServerHint() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.hint != "" {
		return b.hint
	}
	return "Hosting on 127.0.0.1:7880"
}

func (b *fakeBackend) OnServerChanged(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.changed = f
}

// serverChanged says the built-in server is now described by hint.
func (b *fakeBackend) serverChanged(hint string) {
	b.mu.Lock()
	b.hint = hint
	f := b.changed
	b.mu.Unlock()
	go f()
}

func (b *fakeBackend) joinCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.joins)
}

func (b *fakeBackend) lastCall() *fakeCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.calls) == 0 {
		return nil
	}
	return b.calls[len(b.calls)-1]
}

// fakeCall is a Call whose events the test sends.
type fakeCall struct {
	events chan client.Event

	mu      sync.Mutex
	sent    []string
	retried []string
	older   []int64
	mic     []bool
	cam     []bool
	share   []bool
	leaves  int
	camErr  error
	nextID  int
	// leaveGate, when set, makes Leave wait for it to close; onLeave runs
	// when Leave returns.
	leaveGate  chan struct{}
	onLeave    func()
	reconnects int
	sounds     []string
	used       []string // UseCamera and UseMicrophone choices
	stats      []client.RemoteStats
	hands      []bool   // SetHandRaised calls
	reacts     []string // React calls
	speakerOn  []bool   // SetSpeakerOn calls (speakerCall)
	// recording.go: StartRecording (true) and StopRecording (false)
	// calls, what they return, and the RecordingFolder it says.
	recs   []bool
	recErr error
	folder string
}

func (c *fakeCall) SetHandRaised(raised bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hands = append(c.hands, raised)
	return nil
}

func (c *fakeCall) React(emoji string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reacts = append(c.reacts, emoji)
	return nil
}

func (c *fakeCall) UseCamera(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used = append(c.used, "camera "+id)
}

func (c *fakeCall) UseMicrophone(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used = append(c.used, "mic "+id)
}

func (c *fakeCall) UseScreen(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used = append(c.used, "screen "+id)
}

func (c *fakeCall) Stats() []client.RemoteStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]client.RemoteStats(nil), c.stats...)
}

func (c *fakeCall) PlaySound(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sounds = append(c.sounds, name)
}

func (c *fakeCall) ReconnectNow() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reconnects++
}

func newFakeCall() *fakeCall { return &fakeCall{events: make(chan client.Event, 64)} }

func (c *fakeCall) Events() <-chan client.Event { return c.events }

func (c *fakeCall) SendChat(text string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	c.sent = append(c.sent, text)
	return fmt.Sprintf("msg%d", c.nextID), nil
}

func (c *fakeCall) RetryChat(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.retried = append(c.retried, id)
	return nil
}

func (c *fakeCall) LoadOlderChat(before int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.older = append(c.older, before)
	return nil
}

func (c *fakeCall) SetMicMuted(m bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mic = append(c.mic, m)
	return nil
}

func (c *fakeCall) SetCameraOn(on bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cam = append(c.cam, on)
	return c.camErr
}

func (c *fakeCall) SetScreenShare(on bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.share = append(c.share, on)
	return nil
}

func (c *fakeCall) Leave() error {
	c.mu.Lock()
	c.leaves++
	gate, done := c.leaveGate, c.onLeave
	c.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if done != nil {
		done()
	}
	return nil
}

// get reads fields of the fake under its lock.
func (c *fakeCall) get(f func(c *fakeCall)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c)
}

// harness is an App on a test Fyne app with the fakes.
type harness struct {
	t   *testing.T
	fa  fyne.App
	app *App
	b   *fakeBackend
	q   *queue
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	fa := test.NewTempApp(t)
	return newHarnessOn(t, fa, newFakeBackend(), opts)
}

func newHarnessOn(t *testing.T, fa fyne.App, b *fakeBackend, opts Options) *harness {
	t.Helper()
	q := newQueue()
	app := newApp(fa, b, opts, q.do, 0)
	app.win.Resize(fyne.NewSize(1100, 720))
	q.drain()
	return &harness{t: t, fa: fa, app: app, b: b, q: q}
}

// join types a name, taps Join and waits for the call screen.
func (h *harness) join(name string) (*CallScreen, *fakeCall) {
	h.t.Helper()
	e := h.app.Entry()
	e.NameEntry.SetText("")
	test.Type(e.NameEntry, name)
	test.Tap(e.JoinButton)
	h.q.until(h.t, "the call screen", func() bool { return h.app.Call() != nil })
	return h.app.Call(), h.b.lastCall()
}

// send delivers an event and waits until the call screen applied it.
func (h *harness) send(cs *CallScreen, c *fakeCall, ev client.Event) {
	h.t.Helper()
	want := cs.handled + 1
	c.events <- ev
	h.q.until(h.t, fmt.Sprintf("event %T", ev), func() bool { return cs.handled >= want })
}

// welcome joins and sends a Welcome with the user (p0) and others.
func (h *harness) welcome(others ...client.Participant) (*CallScreen, *fakeCall) {
	h.t.Helper()
	cs, c := h.join("Dana")
	h.send(cs, c, client.StateChanged{State: client.StateConnected})
	h.send(cs, c, client.Welcome{Room: "lobby", You: client.Participant{ID: "p0", Name: "Dana", Mic: true, Camera: true}, Participants: others})
	return cs, c
}

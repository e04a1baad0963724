package clientmedia_test

import (
	"context"
	"fmt"
	"os/exec"
	"sync"
	"testing"
	"time"

	_ "github.com/pion/mediadevices/pkg/driver/audiotest"
	_ "github.com/pion/mediadevices/pkg/driver/videotest"

	"github.com/confab/confab/internal/testbin"
	"github.com/confab/confab/media/capture"
	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/client/clientmedia"
	"github.com/confab/confab/signaling/server/servertest"
)

// party is one participant with the test camera and tone.
type party struct {
	name string
	s    *client.Session
	m    *clientmedia.Media

	mu     sync.Mutex
	people map[string]client.Participant
	left   map[string]bool
	talk   map[string]bool
	joined time.Time
}

// join joins with the test camera and tone when publish is set (one
// process can open them once), else receive-only; either way it decodes
// and plays (silently) what it receives.
func join(t *testing.T, srv *servertest.Server, room, name string, publish bool) *party {
	t.Helper()
	m, err := clientmedia.New(clientmedia.Options{Fake: publish, NoSpeaker: true,
		Capture: []capture.Option{capture.WithVideoSize(320, 240), capture.WithFrameRate(15)}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cfg := client.Config{Server: srv.URL, Room: room, Name: name, Decoders: m, Audio: m, LoopbackOnly: true}
	if publish {
		cfg.Media, cfg.Mic, cfg.Camera = m, true, true
	}
	s, err := client.Join(ctx, cfg)
	if err != nil {
		m.Close()
		t.Fatalf("%s: join: %v", name, err)
	}
	p := &party{name: name, s: s, m: m, joined: time.Now(),
		people: map[string]client.Participant{}, left: map[string]bool{}, talk: map[string]bool{}}
	go p.watch()
	t.Cleanup(func() {
		s.Leave()
		m.Close()
	})
	return p
}

func (p *party) watch() {
	for ev := range p.s.Events() {
		p.mu.Lock()
		switch e := ev.(type) {
		case client.Welcome:
			for _, q := range e.Participants {
				p.people[q.ID] = q
			}
		case client.ParticipantJoined:
			p.people[e.Participant.ID] = e.Participant
		case client.ParticipantUpdated:
			p.people[e.Participant.ID] = e.Participant
		case client.ParticipantLeft:
			p.left[e.ID] = true
		case client.SpeakersChanged:
			for _, sp := range e.Speakers {
				p.talk[sp.ID] = true
			}
		}
		p.mu.Unlock()
	}
}

func (p *party) stats(id string) client.RemoteStats {
	for _, st := range p.s.Stats() {
		if st.ID == id {
			return st
		}
	}
	return client.RemoteStats{}
}

// eventually polls cond every 50 ms until it is true or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s; last state: %s", d, what, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCall follows one publisher through a call as the others see it:
// video and sound arrive, the server reports her speaking, mute and camera
// off reach everyone and really stop the media, both come back, a late
// joiner sees her within a second, and her leaving is seen. (Three
// publishing bots in one room are tested as processes in cmd/confab-bot.)
func TestCall(t *testing.T) {
	srv := servertest.Start(t)
	ada := join(t, srv, "call", "Ada", true)
	grace := join(t, srv, "call", "Grace", false)
	linus := join(t, srv, "call", "Linus", false)
	adaID := ada.s.Self().ID
	observers := []*party{grace, linus}

	for _, p := range observers {
		// Under -race this process's pixel loops run several times slower
		// than in the app; frame rates are checked by the bot test.
		eventually(t, 8*time.Second, p.name+" decodes >= 10 frames and audio from Ada", func() (bool, string) {
			st := p.stats(adaID)
			return st.Frames >= 10 && st.AudioDecoded > 0, fmt.Sprintf("%+v", st)
		})
	}
	// The test tone is loud: the server reports Ada speaking.
	eventually(t, 3*time.Second, "Ada reported as an active speaker", func() (bool, string) {
		grace.mu.Lock()
		defer grace.mu.Unlock()
		return grace.talk[adaID], fmt.Sprint(grace.talk)
	})

	// Mute and camera off reach the others, and sending really stops.
	if err := ada.s.SetMicMuted(true); err != nil {
		t.Fatal(err)
	}
	if err := ada.s.SetCameraOn(false); err != nil {
		t.Fatal(err)
	}
	for _, p := range observers {
		eventually(t, 3*time.Second, p.name+" sees Ada muted with camera off", func() (bool, string) {
			p.mu.Lock()
			defer p.mu.Unlock()
			a := p.people[adaID]
			return !a.Mic && !a.Camera, fmt.Sprintf("%+v", a)
		})
	}
	// Ada is the only publisher, so the SFU's receive counter is hers.
	time.Sleep(300 * time.Millisecond) // packets in flight
	sfuBefore := srv.Srv.Stats().PacketsIn.Load()
	before := grace.stats(adaID)
	time.Sleep(time.Second)
	sfuAfter := srv.Srv.Stats().PacketsIn.Load()
	after := grace.stats(adaID)
	if sfuAfter != sfuBefore {
		t.Fatalf("the server still receives from Ada after mute and camera off: %d packets in 1 s", sfuAfter-sfuBefore)
	}
	if after.AudioPackets != before.AudioPackets {
		t.Fatalf("Grace still receives Ada's audio after mute: %d -> %d packets", before.AudioPackets, after.AudioPackets)
	}
	// And back on: video and sound resume.
	if err := ada.s.SetCameraOn(true); err != nil {
		t.Fatal(err)
	}
	if err := ada.s.SetMicMuted(false); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "Grace decodes Ada again", func() (bool, string) {
		st := grace.stats(adaID)
		return st.Frames > after.Frames+3 && st.VideoPackets > after.VideoPackets && st.AudioPackets > after.AudioPackets+10, fmt.Sprintf("%+v", st)
	})
	eventually(t, 3*time.Second, "Linus sees Ada unmuted with camera on", func() (bool, string) {
		linus.mu.Lock()
		defer linus.mu.Unlock()
		a := linus.people[adaID]
		return a.Mic && a.Camera, fmt.Sprintf("%+v", a)
	})

	// A late joiner decodes a first frame at once. The 1 s bound is
	// asserted with real bot processes in cmd/confab-bot; this process is
	// race-instrumented and shares two cores with three decoders.
	late := join(t, srv, "call", "Late", false)
	eventually(t, 3*time.Second, "late joiner decodes Ada", func() (bool, string) {
		st := late.stats(adaID)
		return st.Frames > 0, fmt.Sprintf("%+v", st)
	})
	if d := late.stats(adaID).FirstFrame.Sub(late.joined); d > 2*time.Second {
		t.Errorf("late joiner's first frame came %v after joining; want <= 2s", d)
	}

	// Leave is seen by the others.
	ada.s.Leave()
	for _, p := range []*party{grace, linus, late} {
		eventually(t, 3*time.Second, p.name+" sees Ada leave", func() (bool, string) {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.left[adaID], fmt.Sprint(p.left)
		})
	}
}

// TestNetworkStats checks the numbers behind the app's connection-quality
// marks: packets received and lost per participant from the RTCP-level
// statistics, and the round-trip time to the server.
func TestNetworkStats(t *testing.T) {
	srv := servertest.Start(t)
	ada := join(t, srv, "netstats", "Ada", true)
	grace := join(t, srv, "netstats", "Grace", false)
	adaID := ada.s.Self().ID
	var first client.RemoteStats
	eventually(t, 15*time.Second, "Grace's stats count Ada's packets and a round-trip time", func() (bool, string) {
		first = grace.stats(adaID)
		return first.PacketsReceived >= 50 && first.Connection > 0 && first.RTT > 0, fmt.Sprintf("%+v", first)
	})
	if first.RTT > 5*time.Second || first.PacketsLost < 0 || uint64(first.PacketsLost) > first.PacketsReceived {
		t.Fatalf("implausible stats on loopback: %+v", first)
	}
	eventually(t, 15*time.Second, "the totals keep growing", func() (bool, string) {
		st := grace.stats(adaID)
		return st.PacketsReceived > first.PacketsReceived && st.Connection == first.Connection, fmt.Sprintf("%+v", st)
	})
}

// TestUnmuteAfterANegotiationWhileMuted: someone joins while Ada is muted,
// so the server renegotiates and Ada answers while her microphone sends
// nothing; when she unmutes, the others hear her again. (With no track on
// the sender that answer declared no stream, the server stopped receiving
// on the m-line, and nobody heard her after unmuting.)
func TestUnmuteAfterANegotiationWhileMuted(t *testing.T) {
	srv := servertest.Start(t)
	ada := join(t, srv, "unmute", "Ada", true)
	grace := join(t, srv, "unmute", "Grace", false)
	adaID := ada.s.Self().ID
	eventually(t, 10*time.Second, "Grace hears Ada", func() (bool, string) {
		st := grace.stats(adaID)
		return st.AudioPackets > 20, fmt.Sprintf("%+v", st)
	})
	if err := ada.s.SetMicMuted(true); err != nil {
		t.Fatal(err)
	}
	// Linus (a bot process: this process's test devices are Ada's) makes
	// the server send Ada a new offer while she is muted.
	bot, err := testbin.Build(t.TempDir(), "./cmd/confab-bot", "CONFAB_BOT_BIN")
	if err != nil {
		t.Fatal(err)
	}
	linus := exec.Command(bot, "--server", srv.URL, "--room", "unmute", "--name", "Linus", "--duration", "5m", "--fps", "10",
		"--width", "320", "--height", "240")
	if err := linus.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = linus.Process.Kill(); _ = linus.Wait() })
	eventually(t, 30*time.Second, "Ada receives Linus (the new offer was answered)", func() (bool, string) {
		for _, st := range ada.s.Stats() {
			if st.Name == "Linus" && st.AudioPackets > 20 {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", ada.s.Stats())
	})
	before := grace.stats(adaID).AudioPackets
	if err := ada.s.SetMicMuted(false); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "Grace hears Ada again after she unmutes", func() (bool, string) {
		st := grace.stats(adaID)
		return st.AudioPackets > before+50, fmt.Sprintf("%d packets before unmuting, now %+v", before, st)
	})
}

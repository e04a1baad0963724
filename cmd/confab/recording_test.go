package main

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/recording"
	"github.com/confab/confab/signaling/wire"
	"github.com/confab/confab/ui"
)

// nextEvent returns the first event from events that match accepts,
// failing t after d (events on the way are dropped).
func nextEvent(t *testing.T, events <-chan client.Event, d time.Duration, what string, match func(client.Event) bool) client.Event {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("%s: the session ended", what)
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("%s: nothing after %v", what, d)
		}
	}
}

// TestAppRecordsOnItsBuiltInServer: the app's user, on the server the
// app hosts, may record (joined says can_record) and does: everyone is
// told, the recording lands under DATA/recordings, and the call says
// which folder; someone who joined with a token from /api/token may not
// record and is refused with permission_denied.
func TestAppRecordsOnItsBuiltInServer(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	data := t.TempDir()
	emb, err := startEmbedded("127.0.0.1:0", data, log)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Stop()
	b := newBackend(log, true)
	b.embedded = emb
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const room = "record me"
	c, err := b.Join(ctx, ui.JoinRequest{Name: "Ada", Room: room, MicOff: true, CameraOff: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Leave()
	w := nextEvent(t, c.Events(), 30*time.Second, "Ada's welcome", func(ev client.Event) bool { _, ok := ev.(client.Welcome); return ok }).(client.Welcome)
	if !w.CanRecord || w.Recording {
		t.Fatalf("the app's user on its own server: can_record %v, recording %v", w.CanRecord, w.Recording)
	}

	guest, err := client.Join(ctx, client.Config{Server: emb.URL, Room: room, Name: "Guest", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer guest.Leave()
	gw := nextEvent(t, guest.Events(), 30*time.Second, "the guest's welcome", func(ev client.Event) bool { _, ok := ev.(client.Welcome); return ok }).(client.Welcome)
	if gw.CanRecord {
		t.Fatal("a participant with a token from /api/token may record")
	}
	if err := guest.StartRecording(); err != nil {
		t.Fatal(err)
	}
	refused := nextEvent(t, guest.Events(), 30*time.Second, "the guest's refusal", func(ev client.Event) bool { _, ok := ev.(client.ErrorEvent); return ok }).(client.ErrorEvent)
	var we *wire.Error
	if !errors.As(refused.Err, &we) || we.Code != wire.CodePermissionDenied {
		t.Fatalf("the guest's start: %v", refused.Err)
	}

	rec, ok := c.(ui.Recorder)
	if !ok {
		t.Fatal("the app's call is no ui.Recorder")
	}
	if err := rec.StartRecording(); err != nil {
		t.Fatal(err)
	}
	isRec := func(active bool) func(client.Event) bool {
		return func(ev client.Event) bool { r, ok := ev.(client.RecordingChanged); return ok && r.Active == active }
	}
	on := nextEvent(t, c.Events(), 30*time.Second, "Ada's recording started", isRec(true)).(client.RecordingChanged)
	if on.Reason != wire.RecordingAdmin || on.ByName != "Ada" {
		t.Errorf("started: %+v", on)
	}
	nextEvent(t, guest.Events(), 30*time.Second, "the guest told of the recording", isRec(true))
	// The files start once the server has the meeting (within 2 s); a
	// user stops later than that.
	recordings := filepath.Join(data, "recordings")
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if m, _ := filepath.Glob(filepath.Join(recordings, "*", recording.ManifestName)); len(m) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no recording started under", recordings)
		}
	}
	if err := rec.StopRecording(); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, c.Events(), 30*time.Second, "Ada's recording stopped", isRec(false))

	folder := c.(ui.RecordingFolder).RecordingFolder(room)
	if filepath.Dir(folder) != recordings {
		t.Fatalf("RecordingFolder = %q, want a folder in %s", folder, recordings)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, err := recording.ReadManifest(folder)
		if err == nil && m.Status == recording.StatusComplete {
			if m.Room != room || m.StartedByName != "Ada" || !strings.HasPrefix(m.StartedBy, "u-") {
				t.Errorf("manifest: %+v", m)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no complete manifest in %s: %v %+v", folder, err, m)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if other := c.(ui.RecordingFolder).RecordingFolder("another room"); other != recordings {
		t.Errorf("RecordingFolder of a room never recorded = %q, want the recordings folder", other)
	}
}

// TestHostTokenChecksNames: the app's own token is refused for a room or
// name /api/token would refuse, and on a server another app hosts.
func TestHostTokenChecksNames(t *testing.T) {
	e := &embedded{secret: []byte("0123456789abcdef0123456789abcdef")}
	if _, err := e.hostToken("room", "Ada"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range [][2]string{{"", "Ada"}, {"room", ""}, {" room", "Ada"}, {"room", "Ada "}, {strings.Repeat("r", 200), "Ada"}} {
		if _, err := e.hostToken(tc[0], tc[1]); err == nil {
			t.Errorf("hostToken(%q, %q) made a token", tc[0], tc[1])
		}
	}
	shared := &embedded{Shared: true}
	if _, err := shared.hostToken("room", "Ada"); !errors.Is(err, errNotHosting) {
		t.Errorf("shared server: %v", err)
	}
}

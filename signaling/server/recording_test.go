package server_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/confab/confab/signaling/recording"
	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

// joinGrants joins room over a raw websocket as id with grants.
func joinGrants(t *testing.T, srv *servertest.Server, room, id string, g token.Grants) (*websocket.Conn, wire.Joined) {
	t.Helper()
	tok := srv.Token(token.Claims{Identity: id, Name: id, Room: room, Grants: g}, time.Hour, time.Now())
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	send(t, ws, wire.TypeJoin, wire.Join{Token: tok, Room: room})
	var j wire.Joined
	expect(t, ws, wire.TypeJoined, &j)
	return ws, j
}

func adminGrants() token.Grants {
	g := token.DefaultGrants()
	g.Admin = true
	return g
}

func recordIn(dir string, policy string) servertest.Option {
	return servertest.Config(func(c *server.Config) {
		c.RecordDir = dir
		c.Record, _ = recording.ParsePolicy(policy)
	})
}

// TestRecordingStartStopByAdmin: an admin starts and stops recording
// over the protocol and everyone is told, with who did it; a participant
// without the admin grant is refused; someone joining a recorded room
// learns it in joined; a start that changes nothing answers the admin
// alone with the state. The recording's manifest is written.
func TestRecordingStartStopByAdmin(t *testing.T) {
	dir := t.TempDir()
	srv := servertest.Start(t, recordIn(dir, "none"))
	const room = "rec"
	admin, j := joinGrants(t, srv, room, "boss", adminGrants())
	if j.Recording {
		t.Fatal("joined says recording before anyone started it")
	}
	if !j.CanRecord {
		t.Error("joined does not tell the admin of a recording server that they may record")
	}
	guest, gj := joinGrants(t, srv, room, "guest", token.DefaultGrants())
	if gj.CanRecord {
		t.Error("joined tells a participant without the admin grant that they may record")
	}

	send(t, guest, wire.TypeStartRecording, nil)
	var e wire.Error
	expect(t, guest, wire.TypeError, &e)
	if e.Code != wire.CodePermissionDenied {
		t.Fatalf("non-admin start: %+v", e)
	}

	send(t, admin, wire.TypeStartRecording, nil)
	for who, ws := range map[string]*websocket.Conn{"admin": admin, "guest": guest} {
		var r wire.Recording
		expect(t, ws, wire.TypeRecording, &r)
		if !r.Active || r.Reason != wire.RecordingAdmin || r.By != "boss" || r.ByName != "boss" || r.Since == 0 {
			t.Errorf("%s got %+v", who, r)
		}
	}
	late, lj := joinGrants(t, srv, room, "late", token.DefaultGrants())
	if !lj.Recording {
		t.Error("joined does not say the room is recorded")
	}
	send(t, admin, wire.TypeStartRecording, nil) // already on: the admin alone hears the state
	var again wire.Recording
	expect(t, admin, wire.TypeRecording, &again)
	if !again.Active || again.By != "boss" {
		t.Errorf("second start: %+v", again)
	}
	send(t, guest, wire.TypeStopRecording, nil)
	expect(t, guest, wire.TypeError, &e)
	if e.Code != wire.CodePermissionDenied {
		t.Fatalf("non-admin stop: %+v", e)
	}

	send(t, admin, wire.TypeStopRecording, nil)
	for who, ws := range map[string]*websocket.Conn{"admin": admin, "guest": guest, "late": late} {
		var r wire.Recording
		expect(t, ws, wire.TypeRecording, &r)
		if r.Active || r.Reason != wire.RecordingAdmin || r.By != "boss" {
			t.Errorf("%s got %+v", who, r)
		}
	}
	// The recording's directory holds its manifest, stopped by the admin.
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, err := onlyManifest(dir)
		if err == nil && m.Status == recording.StatusComplete {
			if m.Room != room || m.StartedBy != "boss" || m.StopReason != recording.ReasonAdmin || m.MeetingID == 0 {
				t.Errorf("manifest: %+v", m)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finished manifest: %v %+v", err, m)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// onlyManifest reads the manifest of the one recording under root.
func onlyManifest(root string) (*recording.Manifest, error) {
	dirs, err := filepath.Glob(filepath.Join(root, "*", recording.ManifestName))
	if err != nil || len(dirs) != 1 {
		return nil, os.ErrNotExist
	}
	return recording.ReadManifest(filepath.Dir(dirs[0]))
}

// TestRecordingUnavailable: a server without a recording directory
// refuses an admin's start with recording_unavailable; a policy without
// a directory is a config error.
func TestRecordingUnavailable(t *testing.T) {
	srv := servertest.Start(t)
	admin, j := joinGrants(t, srv, "r", "boss", adminGrants())
	if j.CanRecord {
		t.Error("joined tells an admin of a server that does not record that they may record")
	}
	send(t, admin, wire.TypeStartRecording, nil)
	var e wire.Error
	expect(t, admin, wire.TypeError, &e)
	if e.Code != wire.CodeRecordingUnavailable {
		t.Errorf("start without a directory: %+v", e)
	}
	p, _ := recording.ParsePolicy("all")
	dd, err := server.OpenDataDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dd.Close()
	if _, err := server.New(server.Config{Store: dd.Store, Secret: dd.Secret, Record: p}); err == nil {
		t.Error("a policy without a directory was accepted")
	}
}

// TestRecordingPolicySimulcast: a room the policy names is recorded from
// its first join (joined says so); of a simulcast camera the top layer is
// recorded, one file with its size; the microphone has its own file; the
// recording ends with the meeting.
func TestRecordingPolicySimulcast(t *testing.T) {
	dir := t.TempDir()
	srv := servertest.Start(t, recordIn(dir, "stand*"))
	watcher, j := joinGrants(t, srv, "standup", "watcher", token.DefaultGrants())
	if !j.Recording {
		t.Fatal("joined does not say the policy records the room")
	}
	pub, _ := joinSimulcast(t, srv, "standup", "pub")
	// Another room is not recorded.
	_, other := joinGrants(t, srv, "other", "x", token.DefaultGrants())
	if other.Recording {
		t.Error("a room outside the policy is recorded")
	}

	deadline := time.Now().Add(45 * time.Second)
	var m *recording.Manifest
	for {
		var err error
		m, err = onlyManifest(dir)
		if err == nil && len(m.Files) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("files not started: %v %+v", err, m)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // some media
	_ = pub.Leave()
	watcher.Close()
	for {
		var err error
		m, err = onlyManifest(dir)
		if err == nil && m.Status != recording.StatusRecording {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recording not stopped: %v %+v", err, m)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if m.Status != recording.StatusComplete || m.StopReason != recording.ReasonMeetingEnd {
		t.Errorf("manifest: %+v", m)
	}
	for _, f := range m.Files {
		t.Logf("%+v", f)
		if f.Participant != pub.Self().ID || f.Status != recording.StatusComplete || f.Frames < 10 {
			t.Errorf("file: %+v", f)
		}
		if f.Source == wire.SourceCamera && (f.Layer != "f" || f.Width != 640 || f.Height != 480) {
			t.Errorf("camera recorded from layer %q at %dx%d, want f at 640x480", f.Layer, f.Width, f.Height)
		}
	}
}

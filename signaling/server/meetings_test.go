package server_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/confab/confab/signaling/meeting"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/token"
)

// getMeetings reads path with tok into v and returns the status and the
// error code, if any.
func getMeetings(t *testing.T, srv *servertest.Server, path, tok string, v any) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct{ Code string }
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e.Code
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, ""
}

func newestMeeting(t *testing.T, srv *servertest.Server, tok string, ok func(meeting.Analytics) bool) meeting.Analytics {
	t.Helper()
	deadline := time.Now().Add(presenceWait)
	for {
		var list struct{ Meetings []meeting.Analytics }
		if code, _ := getMeetings(t, srv, "/api/meetings", tok, &list); code == http.StatusOK && len(list.Meetings) > 0 && ok(list.Meetings[0]) {
			return list.Meetings[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no such meeting: %+v", list.Meetings)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMeetingLifecycle follows meetings through the API: one running, one
// ended by its last leave, one ended by a server stop; and the API's
// refusals.
func TestMeetingLifecycle(t *testing.T) {
	srv := servertest.Start(t)
	admin := token.DefaultGrants()
	admin.Admin = true
	tok := srv.Token(token.Claims{Identity: "admin", Name: "Admin", Room: "m", Grants: admin}, time.Hour, time.Now())
	plain := srv.Token(token.Claims{Identity: "x", Name: "X", Room: "m", Grants: token.DefaultGrants()}, time.Hour, time.Now())

	for _, c := range []struct {
		path, tok string
		status    int
		code      string
	}{
		{"/api/meetings", "", 401, "token_invalid"},
		{"/api/meetings", "nonsense", 401, "token_invalid"},
		{"/api/meetings", plain, 403, "permission_denied"},
		{"/api/meetings?room=other", tok, 403, "room_mismatch"},
		{"/api/meetings?since=yesterday", tok, 400, "bad_message"},
		{"/api/meetings?limit=0", tok, 400, "bad_message"},
		{"/api/meetings/abc", tok, 404, "meeting_not_found"},
		{"/api/meetings/1", tok, 404, "meeting_not_found"},
		{"/api/meetings/1", plain, 403, "permission_denied"},
	} {
		var v any
		if status, code := getMeetings(t, srv, c.path, c.tok, &v); status != c.status || code != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.path, status, code, c.status, c.code)
		}
	}

	a := joinAs(t, srv, "m", "alice", "Alice")
	b := joinAs(t, srv, "m", "bob", "Bob")
	live := newestMeeting(t, srv, tok, func(m meeting.Analytics) bool { return m.Running && len(m.Participants) == 2 })
	if live.PeakParticipants != 2 || live.EndedAt != 0 || live.EndedBy != "" {
		t.Errorf("running: %+v", live)
	}
	time.Sleep(300 * time.Millisecond)
	b.Leave()
	a.Leave()
	m := newestMeeting(t, srv, tok, func(m meeting.Analytics) bool { return !m.Running })
	if m.EndedBy != meeting.EndedLastLeave || len(m.Participants) != 2 || m.PeakParticipants != 2 {
		t.Fatalf("ended: %+v", m)
	}
	for _, p := range m.Participants {
		// Both joined without mic or camera (receive only).
		// Muted and camera-off time run from the join's event to the
		// leave's, presence from the join to the leave: a millisecond or
		// two apart.
		near := func(a, b int64) bool { return a-b <= 50 && b-a <= 50 }
		if p.Joins != 1 || p.Leaves != 1 || p.PresentMS < 300 || !near(p.MutedMS, p.PresentMS) || !near(p.CameraOffMS, p.PresentMS) || p.TalkMS != 0 {
			t.Errorf("%+v", p)
		}
	}
	var one meeting.Analytics
	if status, _ := getMeetings(t, srv, "/api/meetings/1", tok, &one); status != 200 || one.ID != m.ID || one.DurationMS != m.DurationMS {
		t.Errorf("by id: %d %+v", status, one)
	}
	other := srv.Token(token.Claims{Identity: "admin", Name: "Admin", Room: "elsewhere", Grants: admin}, time.Hour, time.Now())
	if status, code := getMeetings(t, srv, "/api/meetings/1", other, &one); status != 404 || code != "meeting_not_found" {
		t.Errorf("another room's admin: %d %s", status, code)
	}

	// A server stop with someone in the room ends the meeting.
	joinAs(t, srv, "m", "carol", "Carol")
	newestMeeting(t, srv, tok, func(m meeting.Analytics) bool { return m.Running && m.ID != 1 })
	srv.Restart()
	stopped := newestMeeting(t, srv, tok, func(m meeting.Analytics) bool { return !m.Running })
	if stopped.ID == 1 || stopped.EndedBy != meeting.EndedServerStop || len(stopped.Participants) != 1 {
		t.Errorf("after a stop: %+v", stopped)
	}
}

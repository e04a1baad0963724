package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/confab/confab/internal/testbin"
	"github.com/confab/confab/signaling/meeting"
)

// meetingServer is a confab-server process on 127.0.0.1 with its data
// directory.
type meetingServer struct {
	t    *testing.T
	bin  string
	data string
	addr string
	udp  int
	cmd  *exec.Cmd
	log  testbin.Output

	exited chan struct{}
}

func startMeetingServer(t *testing.T, bin, data, addr string, udp int, extra ...string) *meetingServer {
	t.Helper()
	return startServerWrapped(t, nil, bin, data, addr, udp, extra...)
}

// startServerWrapped starts the server with extra serve flags, its
// command line passed through wrap when not nil (to run it in a mount
// namespace).
func startServerWrapped(t *testing.T, wrap func([]string) []string, bin, data, addr string, udp int, extra ...string) *meetingServer {
	t.Helper()
	if udp == 0 {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		udp = c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
	}
	if addr == "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = l.Addr().String()
		l.Close()
	}
	s := &meetingServer{t: t, bin: bin, data: data, addr: addr, udp: udp}
	argv := append([]string{bin, "serve", "--data", data, "--addr", addr, "--udp-port", strconv.Itoa(udp), "--open", "--interfaces", "lo", "--turn=false", "--log-level", "info"}, extra...)
	if wrap != nil {
		argv = wrap(argv)
	}
	s.cmd = exec.Command(argv[0], argv[1:]...)
	s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(exited) }()
	s.exited = exited
	t.Cleanup(func() { _ = s.cmd.Process.Kill(); <-exited })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-exited:
			t.Fatalf("server exited:\n%s", s.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up: %v\n%s", err, s.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// adminToken makes a token with the admin grant for room with the CLI.
func (s *meetingServer) adminToken(room string) string {
	out, err := exec.Command(s.bin, "token", "--data", s.data, "--room", room, "--identity", "admin", "--admin").Output()
	if err != nil {
		s.t.Fatalf("token: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// get reads an /api/meetings URL with tok and decodes it into v.
func (s *meetingServer) get(path, tok string, v any) int {
	req, _ := http.NewRequest("GET", "http://"+s.addr+path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		_ = json.NewDecoder(resp.Body).Decode(v)
	}
	return resp.StatusCode
}

// scriptBot starts a confab-bot process running script from zero.
func scriptBot(t *testing.T, bot, addr, room, name string, zero time.Time, script string, args ...string) *exec.Cmd {
	t.Helper()
	a := append([]string{"--server", "ws://" + addr, "--room", room, "--name", name,
		"--aec=false", "--ns=false", "--agc=false", // the bots' tones are all alike: an echo canceller would take one for another's echo
		"--width", "320", "--height", "240", "--fps", "15",
		"--script-start", strconv.FormatInt(zero.UnixMilli(), 10), "--script", script}, args...)
	cmd := exec.Command(bot, a...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s:\n%s", name, out.String())
		}
	})
	return cmd
}

// waitMeeting polls the API until room's newest meeting satisfies ok.
func waitMeeting(t *testing.T, s *meetingServer, tok string, d time.Duration, ok func(meeting.Analytics) bool) meeting.Analytics {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var list struct{ Meetings []meeting.Analytics }
		code := s.get("/api/meetings", tok, &list)
		if code == http.StatusOK && len(list.Meetings) > 0 && ok(list.Meetings[0]) {
			return list.Meetings[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no such meeting after %v (status %d): %+v\n%s", d, code, list.Meetings, s.log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func near(t *testing.T, what string, gotMS int64, want float64, tol float64) {
	t.Helper()
	got := float64(gotMS) / 1000
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.3f s, script says %.3f s (more than %.1f s off)", what, got, want, tol)
	} else {
		t.Logf("%s = %.3f s, script %.3f s (off by %+.3f s)", what, got, want, got-want)
	}
}

// TestMeetingAnalyticsMatchTheScript runs a 3-bot meeting from a script
// (join, mute, unmute, camera off and on, share, leave; one bot silent) and
// checks every figure of the computed analytics against the script, while
// it runs and after it ended, by the API and the CLI.
func TestMeetingAnalyticsMatchTheScript(t *testing.T) {
	if testing.Short() {
		t.Skip("runs bot processes for about 15 s")
	}
	bin, bot := buildServerAndBot(t)
	data := t.TempDir()
	s := startMeetingServer(t, bin, data, "", 0)
	tok := s.adminToken("script")

	if code := s.get("/api/meetings", "", nil); code != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", code)
	}
	plain, _ := exec.Command(bin, "token", "--data", data, "--room", "script", "--identity", "x").Output()
	if code := s.get("/api/meetings", strings.TrimSpace(string(plain)), nil); code != http.StatusForbidden {
		t.Errorf("without the admin grant: %d, want 403", code)
	}

	zero := time.Now().Add(3 * time.Second) // the bots' media are ready by then
	alice := scriptBot(t, bot, s.addr, "script", "Alice", zero, "join@0s,mute@3s,unmute@5s,camera-off@6.5s,camera-on@7.5s,leave@10s")
	bob := scriptBot(t, bot, s.addr, "script", "Bob", zero, "join@1s,share@6s,unshare@8s,leave@9s", "--no-video")
	carol := scriptBot(t, bot, s.addr, "script", "Carol", zero, "join@2s,leave@11s", "--no-video", "--silent", "--chat", "2")

	// While it runs: readable, running, the three there.
	time.Sleep(time.Until(zero.Add(4 * time.Second)))
	live := waitMeeting(t, s, tok, 10*time.Second, func(a meeting.Analytics) bool { return a.Running && len(a.Participants) == 3 })
	if live.EndedAt != 0 || live.DurationMS < 3500 {
		t.Errorf("running meeting: %+v", live)
	}
	for _, c := range []*exec.Cmd{alice, bob, carol} {
		if err := c.Wait(); err != nil {
			t.Errorf("bot: %v", err)
		}
	}
	a := waitMeeting(t, s, tok, 20*time.Second, func(a meeting.Analytics) bool { return !a.Running })
	if a.EndedBy != meeting.EndedLastLeave || a.PeakParticipants != 3 || len(a.Participants) != 3 || a.ChatMessages != 2 {
		t.Fatalf("meeting: %+v", a)
	}
	const tol = 0.5
	near(t, "duration", a.DurationMS, 11, tol)
	near(t, "start", a.StartedAt-zero.UnixMilli(), 0, tol)
	type want struct{ present, talk, muted, camOff, screen float64 }
	wants := map[string]want{
		"Alice": {present: 10, talk: 8, muted: 2, camOff: 1, screen: 0},
		"Bob":   {present: 8, talk: 8, muted: 0, camOff: 8, screen: 2},
		"Carol": {present: 9, talk: 0, muted: 0, camOff: 9, screen: 0},
	}
	for i, p := range a.Participants {
		w, ok := wants[p.Name]
		if !ok || p.Name != []string{"Alice", "Bob", "Carol"}[i] {
			t.Fatalf("participant %d: %+v", i, p)
		}
		if p.Joins != 1 || p.Leaves != 1 {
			t.Errorf("%s: joins %d leaves %d", p.Name, p.Joins, p.Leaves)
		}
		near(t, p.Name+" present", p.PresentMS, w.present, tol)
		near(t, p.Name+" talk", p.TalkMS, w.talk, tol)
		near(t, p.Name+" muted", p.MutedMS, w.muted, tol)
		near(t, p.Name+" camera off", p.CameraOffMS, w.camOff, tol)
		near(t, p.Name+" screen", p.ScreenMS, w.screen, tol)
	}
	if a.Participants[2].TalkMS > 100 {
		t.Errorf("the silent bot talked for %d ms", a.Participants[2].TalkMS)
	}

	// The same by ID and from the CLI.
	var one meeting.Analytics
	if code := s.get(fmt.Sprintf("/api/meetings/%d", a.ID), tok, &one); code != http.StatusOK || one.DurationMS != a.DurationMS {
		t.Errorf("/api/meetings/%d: %d %+v", a.ID, code, one)
	}
	if code := s.get("/api/meetings/999", tok, nil); code != http.StatusNotFound {
		t.Errorf("unknown meeting: %d, want 404", code)
	}
	out, err := exec.Command(bin, "meetings", "--data", data, "--room", "script", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var cli struct{ Meetings []meeting.Analytics }
	if err := json.Unmarshal(out, &cli); err != nil || len(cli.Meetings) != 1 || cli.Meetings[0].Participants[0].TalkMS != a.Participants[0].TalkMS {
		t.Errorf("meetings --json: %v %s", err, out)
	}
	table, err := exec.Command(bin, "meetings", "--data", data).Output()
	if err != nil || !strings.Contains(string(table), "Carol") || !strings.Contains(string(table), "ended (last leave)") {
		t.Errorf("meetings: %v\n%s", err, table)
	}
	t.Logf("confab-server meetings:\n%s", table)
}

// TestMeetingClosedAfterKill kills the server with SIGKILL in the middle
// of a meeting and starts it again: the meeting is closed at about the
// kill with its analytics.
func TestMeetingClosedAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs bot processes")
	}
	bin, bot := buildServerAndBot(t)
	data := t.TempDir()
	s := startMeetingServer(t, bin, data, "", 0)
	zero := time.Now().Add(3 * time.Second)
	a := scriptBot(t, bot, s.addr, "kill", "Alice", zero, "join@0s,leave@60s")
	b := scriptBot(t, bot, s.addr, "kill", "Bob", zero, "join@0.5s,mute@1.5s,leave@60s", "--no-video")
	tok := s.adminToken("kill")
	waitMeeting(t, s, tok, 20*time.Second, func(m meeting.Analytics) bool { return len(m.Participants) == 2 && m.DurationMS > 3000 })
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	<-s.exited
	_ = a.Process.Kill()
	_ = b.Process.Kill()
	if _, err := os.Stat(filepath.Join(data, "confab.db")); err != nil {
		t.Fatal(err)
	}

	s2 := startMeetingServer(t, bin, data, s.addr, s.udp)
	m := waitMeeting(t, s2, tok, 10*time.Second, func(m meeting.Analytics) bool { return !m.Running })
	if m.EndedBy != meeting.EndedServerRestart || len(m.Participants) != 2 {
		t.Fatalf("meeting after restart: %+v", m)
	}
	end := time.UnixMilli(m.EndedAt)
	// Its end is the last time the server marked it alive (every second)
	// or its last event, so up to about a second before the kill.
	if d := killed.Sub(end); d < -100*time.Millisecond || d > 1500*time.Millisecond {
		t.Errorf("ended %v before the kill", d)
	}
	for _, p := range m.Participants {
		if p.LastLeaveAt != m.EndedAt || p.PresentMS <= 0 {
			t.Errorf("%s: %+v", p.Name, p)
		}
	}
	t.Logf("closed after the restart: ended %v before the kill; %+v", killed.Sub(end), m)
}

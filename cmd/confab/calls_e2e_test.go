package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab/confab/ui"
)

// botProc is a confab-bot process whose output lines the test reads as
// they come, each with the time it arrived.
type botProc struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []botLine
	wg    sync.WaitGroup
}

// botLine is one line the bot printed: stderr lines say what it does,
// stdout lines are its JSON reports.
type botLine struct {
	at     time.Time
	stderr bool
	text   string
}

// botReport is what the tests read of a bot's JSON report.
type botReport struct {
	Remote map[string]struct {
		Frames           uint64  `json:"frames"`
		AudioDecoded     uint64  `json:"audio_decoded"`
		FirstFrameUnixMS int64   `json:"first_frame_unix_ms"`
		FPS              float64 `json:"fps"`
		RecentFPS        float64 `json:"recent_fps"`
	} `json:"remote"`
	Call *struct {
		ID     string            `json:"call_id"`
		End    string            `json:"call_end"`
		States map[string]string `json:"call_states"`
	} `json:"call"`
	Final bool   `json:"final"`
	Error string `json:"error"`
}

// startBot runs confab-bot with args against the built-in server; it is
// killed when the test ends.
func startBot(t *testing.T, args ...string) *botProc {
	t.Helper()
	b := &botProc{cmd: exec.Command(e2e.bot, append([]string{"--server", e2e.emb.URL}, args...)...)}
	out, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errOut, err := b.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	read := func(r io.Reader, stderr bool) {
		defer b.wg.Done()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			b.mu.Lock()
			b.lines = append(b.lines, botLine{at: time.Now(), stderr: stderr, text: sc.Text()})
			b.mu.Unlock()
		}
	}
	b.wg.Add(2)
	go read(out, false)
	go read(errOut, true)
	t.Cleanup(func() {
		_ = b.cmd.Process.Kill()
		b.wg.Wait()
		_ = b.cmd.Wait()
	})
	return b
}

// line waits for a stderr line containing s.
func (b *botProc) line(t *testing.T, d time.Duration, s string) botLine {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		b.mu.Lock()
		for _, l := range b.lines {
			if l.stderr && strings.Contains(l.text, s) {
				b.mu.Unlock()
				return l
			}
		}
		b.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("after %v the bot has not printed %q:\n%s", d, s, b.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// report waits for a JSON report that ok accepts.
func (b *botProc) report(t *testing.T, d time.Duration, what string, ok func(botReport) bool) (botReport, time.Time) {
	t.Helper()
	deadline := time.Now().Add(d)
	seen := 0
	for {
		b.mu.Lock()
		lines := b.lines[seen:]
		seen = len(b.lines)
		b.mu.Unlock()
		for _, l := range lines {
			var r botReport
			if l.stderr || json.Unmarshal([]byte(l.text), &r) != nil {
				continue
			}
			if ok(r) {
				return r, l.at
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s; the bot printed:\n%s", d, what, b.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// output is everything the bot printed (the last reports cut short).
func (b *botProc) output() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var sb strings.Builder
	start := max(0, len(b.lines)-40)
	for _, l := range b.lines[start:] {
		sb.WriteString(l.at.Format("15:04:05.000 "))
		if len(l.text) > 400 {
			l.text = l.text[:400] + "…"
		}
		sb.WriteString(l.text + "\n")
	}
	return sb.String()
}

// callsReady waits until the app is on its first screen and online, and
// returns the name it is online as. The test's end leaves any call and
// closes the summary, back to the first screen.
func callsReady(t *testing.T) string {
	t.Helper()
	t.Cleanup(func() {
		onUI(func() {
			if r := e2e.ui.Ringing(); r != nil {
				r.Decline.OnTapped()
			}
			if c := e2e.ui.Call(); c != nil {
				c.Controls().Leave.OnTapped()
			}
			if p := e2e.ui.People(); p != nil {
				p.Back.OnTapped()
			}
		})
		waitUI(t, 60*time.Second, "out of the call", func() (bool, string) { return e2e.ui.Call() == nil, "in a call" })
		onUI(func() {
			if s := e2e.ui.Summary(); s != nil {
				s.Done.OnTapped()
			}
		})
		// The entry screen opens the camera and microphone again: let it
		// finish before the next test opens devices.
		waitUI(t, 30*time.Second, "the entry screen's preview running", func() (bool, string) {
			en := e2e.ui.Entry()
			return !en.PreviewNote.Visible() && en.JoinButton.Visible(), en.PreviewNote.Text
		})
	})
	var name string
	waitUI(t, 60*time.Second, "the app online on its first screen", func() (bool, string) {
		me, ok := e2e.ui.Online()
		name = me.Name
		return ok && e2e.ui.Call() == nil && e2e.ui.Ringing() == nil, fmt.Sprintf("online %v, in a call %v", ok, e2e.ui.Call() != nil)
	})
	return name
}

// remoteTile waits for the call screen's tile of name showing video and
// returns when its first frame was drawn (and, within the polling's 0.1 s,
// when the call screen came up).
func remoteTile(t *testing.T, d time.Duration, name string) (*ui.CallScreen, time.Time, time.Time) {
	t.Helper()
	var cs *ui.CallScreen
	var first, screen time.Time
	waitUI(t, d, name+"'s tile showing video", func() (bool, string) {
		cs = e2e.ui.Call()
		if cs == nil {
			return false, "no call screen"
		}
		if screen.IsZero() {
			screen = time.Now()
		}
		var state []string
		for _, tl := range cs.Tiles() {
			state = append(state, fmt.Sprintf("%s placeholder=%v", tl.Name(), tl.ShowsPlaceholder()))
			if tl.Name() == name && !tl.IsScreen() && !tl.ShowsPlaceholder() {
				first = tl.Video.FirstFrameAt()
				return true, ""
			}
		}
		return false, strings.Join(state, ", ")
	})
	return cs, first, screen
}

// appCall returns the backend's call (the one open now).
func appCall(t *testing.T) *call {
	t.Helper()
	e2e.backend.mu.Lock()
	defer e2e.backend.mu.Unlock()
	if len(e2e.backend.calls) != 1 {
		t.Fatalf("%d calls open in the backend, want 1", len(e2e.backend.calls))
	}
	for c := range e2e.backend.calls {
		return c
	}
	return nil
}

// loadNote is the machine's load, for the figures.
func loadNote() string {
	out, err := exec.Command("uptime").Output()
	if err != nil {
		return "uptime: " + err.Error()
	}
	return strings.TrimSpace(string(out))
}

// TestCallFromABot: a bot calls the app; the app rings (the dialog shows
// wherever it is); the test accepts with video; both sides see the
// other's video; the speaker button silences the app's playout and
// brings it back; the app hangs up and the bot learns hung_up. It logs
// the time from the bot's call to the app's ring, and from Accept to
// each side's first frame.
func TestCallFromABot(t *testing.T) {
	if e2e.skip != "" {
		t.Skip(e2e.skip)
	}
	me := callsReady(t)
	bot := startBot(t, "--name", "Grace", "--call", me, "--duration", "600s", "--fps", "10", "--progress", "250ms")
	called := bot.line(t, 30*time.Second, "confab-bot: calling")
	var r *ui.RingDialog
	waitUI(t, 30*time.Second, "the app ringing", func() (bool, string) {
		r = e2e.ui.Ringing()
		return r != nil && r.AcceptVideo.Visible(), ""
	})
	var caller string
	onUI(func() { caller = r.Caller.Text })
	if caller != "Grace is calling you: a video call" {
		t.Errorf("the dialog says %q", caller)
	}
	ring := r.Shown.Sub(called.at)
	screenshot(t, "incoming-call-e2e.png")

	opens := e2e.backend.cameraOpens.Load()
	accepted := time.Now()
	onUI(func() { r.AcceptVideo.OnTapped() })
	cs, appFirst, screen := remoteTile(t, 60*time.Second, "Grace")
	rep, _ := bot.report(t, 60*time.Second, "the bot decoding the app's video", func(r botReport) bool {
		return r.Remote[me].Frames > 0 && r.Remote[me].FirstFrameUnixMS > 0
	})
	botFirst := time.UnixMilli(rep.Remote[me].FirstFrameUnixMS)
	appVideo, botVideo := appFirst.Sub(accepted), botFirst.Sub(accepted)
	t.Logf("bot's Call -> app rings: %v; Accept -> app's call screen up: ~%v, app shows Grace's video: %v, Grace decodes %s's video: %v; both: %v (load: %s)",
		ring.Round(time.Millisecond), screen.Sub(accepted).Round(time.Millisecond), appVideo.Round(time.Millisecond), me,
		botVideo.Round(time.Millisecond), max(appVideo, botVideo).Round(time.Millisecond), loadNote())
	rep, _ = bot.report(t, 60*time.Second, "the bot decoding the app's video at 3 fps or more", func(r botReport) bool {
		return r.Remote[me].RecentFPS >= 3
	})
	t.Logf("the bot decodes %s's video at %.1f fps (%.1f over the last 250 ms)", me, rep.Remote[me].FPS, rep.Remote[me].RecentFPS)
	if n := e2e.backend.cameraOpens.Load() - opens; n != 1 {
		t.Errorf("a video call opened the camera %d times, want 1", n)
	}
	var room string
	onUI(func() { room = cs.Controls().Room.Text })
	if room != "Call with Grace" {
		t.Errorf("the call bar says %q, want Call with Grace", room)
	}

	// Speaker off silences the call's playout; on brings it back.
	c := appCall(t)
	onUI(func() { cs.SpeakerButton().OnTapped() })
	if c.media.SpeakerOn() {
		t.Error("the speaker still plays after Speaker off")
	}
	onUI(func() { cs.SpeakerButton().OnTapped() })
	if !c.media.SpeakerOn() {
		t.Error("the speaker is still off after Speaker on")
	}

	// The app hangs up: the bot's call ends, hung_up.
	onUI(func() { cs.Controls().Leave.OnTapped() })
	final, _ := bot.report(t, 60*time.Second, "the bot's final report", func(r botReport) bool { return r.Final })
	if final.Call == nil || final.Call.End != "hung_up" || final.Error != "" {
		t.Errorf("the bot's final report: call %+v, error %q", final.Call, final.Error)
	}
	waitUI(t, 30*time.Second, "the summary named for Grace", func() (bool, string) {
		s := e2e.ui.Summary()
		if s == nil {
			return false, "no summary"
		}
		return strings.HasPrefix(s.Subtitle.Text, "Call with Grace · "), s.Subtitle.Text
	})
}

// TestAudioOnlyAcceptFromABot: a bot's video call accepted with Accept
// (audio only) opens no camera at all for the whole call (the backend
// counts every camera a call opens); the bot hears the app but gets no
// video from it; the app's own tile shows initials.
func TestAudioOnlyAcceptFromABot(t *testing.T) {
	if e2e.skip != "" {
		t.Skip(e2e.skip)
	}
	me := callsReady(t)
	bot := startBot(t, "--name", "Linus", "--call", me, "--duration", "600s", "--fps", "10", "--progress", "250ms")
	var r *ui.RingDialog
	waitUI(t, 30*time.Second, "the app ringing", func() (bool, string) {
		r = e2e.ui.Ringing()
		return r != nil && r.AcceptAudio.Visible(), ""
	})
	opens := e2e.backend.cameraOpens.Load()
	onUI(func() { r.AcceptAudio.OnTapped() })
	cs, _, _ := remoteTile(t, 60*time.Second, "Linus")
	bot.report(t, 60*time.Second, "the bot hearing the app", func(r botReport) bool { return r.Remote[me].AudioDecoded > 50 })
	// A few seconds in the call: still no camera, and no video at the bot.
	time.Sleep(3 * time.Second)
	rep, _ := bot.report(t, 10*time.Second, "a report after 3 s", func(r botReport) bool { return r.Remote[me].AudioDecoded > 150 })
	if f := rep.Remote[me].Frames; f != 0 {
		t.Errorf("the bot decoded %d video frames from an audio-only member", f)
	}
	if n := e2e.backend.cameraOpens.Load() - opens; n != 0 {
		t.Errorf("an audio-only accept opened the camera %d times", n)
	}
	waitUI(t, 10*time.Second, "the app's own tile with initials", func() (bool, string) {
		for _, tl := range cs.Tiles() {
			if tl.IsSelf() && !tl.IsScreen() {
				return tl.CameraOff() && tl.ShowsPlaceholder(), fmt.Sprintf("camera off %v", tl.CameraOff())
			}
		}
		return false, "no own tile"
	})
}

// TestAppCallsABot: the app calls a bot from the People view; the strip
// says "Ringing Ben…" with Cancel until the bot accepts; both sides see
// video. A second bot declines (after 5 s): the strip says so in plain words. It logs
// the time from the app's Call to the bot's ring, and from the bot's
// accept to each side's first frame. With CONFAB_SCREENSHOTS it saves
// calling-ringing.png and calling-declined.png.
func TestAppCallsABot(t *testing.T) {
	if e2e.skip != "" {
		t.Skip(e2e.skip)
	}
	me := callsReady(t)
	ben := startBot(t, "--name", "Ben", "--answer", "accept", "--answer-after", "2s", "--duration", "600s", "--fps", "10", "--progress", "250ms")
	cat := startBot(t, "--name", "Cat", "--answer", "decline", "--answer-after", "5s", "--duration", "600s")
	onUI(func() { e2e.ui.PeopleButton().OnTapped() })
	var ps *ui.PeopleScreen
	waitUI(t, 30*time.Second, "Ben and Cat in the People view", func() (bool, string) {
		ps = e2e.ui.People()
		return ps != nil && ps.Row("Ben") != nil && ps.Row("Cat") != nil, ""
	})

	// Cat declines after 2 s; the strip says so.
	onUI(func() { ps.Row("Cat").Vid.OnTapped() })
	waitUI(t, 30*time.Second, "Ringing Cat… with Cancel", func() (bool, string) {
		s := e2e.ui.Strip()
		return s.Visible() && s.Text.Text == "Ringing Cat…" && s.Cancel.Visible(), s.Text.Text
	})
	time.Sleep(500 * time.Millisecond)
	screenshot(t, "calling-ringing.png")
	waitUI(t, 30*time.Second, "Cat declined, said on the strip over the People view", func() (bool, string) {
		s := e2e.ui.Strip()
		return s.Visible() && s.Text.Text == "Cat declined the call." && e2e.ui.Call() == nil && e2e.ui.People() != nil, s.Text.Text
	})
	time.Sleep(300 * time.Millisecond)
	screenshot(t, "calling-declined.png")

	// Ben accepts after 2 s.
	cat.line(t, 10*time.Second, "confab-bot: declining call")
	waitUI(t, 30*time.Second, "the People view again", func() (bool, string) {
		if ps = e2e.ui.People(); ps == nil {
			if b := e2e.ui.PeopleButton(); b != nil && e2e.ui.Call() == nil {
				b.OnTapped()
			}
			return false, "not on People"
		}
		return ps.Row("Ben") != nil, ""
	})
	called := time.Now()
	onUI(func() { ps.Row("Ben").Vid.OnTapped() })
	rang := ben.line(t, 30*time.Second, "from "+me+" rings")
	acc := ben.line(t, 30*time.Second, "confab-bot: accepting call")
	_, appFirst, _ := remoteTile(t, 60*time.Second, "Ben")
	rep, _ := ben.report(t, 60*time.Second, "Ben decoding the app's video", func(r botReport) bool {
		return r.Remote[me].Frames > 0 && r.Remote[me].FirstFrameUnixMS > 0
	})
	botFirst := time.UnixMilli(rep.Remote[me].FirstFrameUnixMS)
	appVideo, botVideo := appFirst.Sub(acc.at), botFirst.Sub(acc.at)
	t.Logf("app's Call -> Ben's bot rings: %v; Ben accepts -> app shows Ben's video: %v, Ben decodes %s's video: %v; both: %v (load: %s)",
		rang.at.Sub(called).Round(time.Millisecond), appVideo.Round(time.Millisecond), me, botVideo.Round(time.Millisecond),
		max(appVideo, botVideo).Round(time.Millisecond), loadNote())
	waitUI(t, 10*time.Second, "the strip gone with Ben in the call", func() (bool, string) {
		s := e2e.ui.Strip()
		return !s.Visible(), s.Text.Text
	})
}

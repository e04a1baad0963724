package ui

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/confab/confab/signaling/support"
)

// fakeDesk is a backend with a support desk: one valid key, a remembered
// sign-in, and the agent sessions it made.
type fakeDesk struct {
	*fakeBackend
	mu       sync.Mutex
	key      string
	saved    *[2]string // server, key
	sessions []*fakeAgent
}

func (d *fakeDesk) SavedAgentSignIn() (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.saved == nil {
		return "", false
	}
	return d.saved[0], true
}

func (d *fakeDesk) SignInAgent(ctx context.Context, server, key string, remember bool) (AgentSession, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if key == "" && d.saved != nil {
		key = d.saved[1]
	}
	if key != d.key {
		return nil, &support.Error{Code: support.CodeAgentKeyInvalid, Message: "this key does not sign anyone in here"}
	}
	if remember {
		d.saved = &[2]string{server, key}
	} else {
		d.saved = nil
	}
	a := &fakeAgent{events: make(chan support.Event, 64), server: firstNonEmpty(server, "http://127.0.0.1:7880")}
	d.sessions = append(d.sessions, a)
	return a, nil
}

func (d *fakeDesk) ForgetAgentSignIn() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.saved = nil
	return nil
}

func (d *fakeDesk) session() *fakeAgent {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.sessions) == 0 {
		return nil
	}
	return d.sessions[len(d.sessions)-1]
}

// fakeAgent is an AgentSession whose events the test sends; it records
// what the view asked for.
type fakeAgent struct {
	events chan support.Event
	server string

	mu     sync.Mutex
	calls  []string
	sounds []string
	closed bool
}

func (a *fakeAgent) record(s string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, s)
	return nil
}

func (a *fakeAgent) did(s string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Contains(a.calls, s)
}

func (a *fakeAgent) Agent() support.AgentInfo              { return support.AgentInfo{ID: "a-1", Name: "Sam"} }
func (a *fakeAgent) Server() string                        { return a.server }
func (a *fakeAgent) Events() <-chan support.Event          { return a.events }
func (a *fakeAgent) Send(conv, text string) error          { return a.record("send " + conv + " " + text) }
func (a *fakeAgent) Open(conv string, before int64) error  { return a.record("open " + conv) }
func (a *fakeAgent) MarkRead(conv string, seq int64) error { return a.record("read " + conv) }
func (a *fakeAgent) StartVideo(conv string) error          { return a.record("video " + conv) }
func (a *fakeAgent) EndVideo() error                       { return a.record("end video") }
func (a *fakeAgent) CloseConversation(conv string) error   { return a.record("close " + conv) }
func (a *fakeAgent) PlaySound(name string) {
	a.mu.Lock()
	a.sounds = append(a.sounds, name)
	a.mu.Unlock()
}
func (a *fakeAgent) SignOut() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.closed {
		a.closed = true
		close(a.events)
	}
}

func newSupportHarness(t *testing.T) (*harness, *fakeDesk) {
	t.Helper()
	fa := test.NewTempApp(t)
	fb := newFakeBackend()
	d := &fakeDesk{fakeBackend: fb, key: "a-00000001.right"}
	q := newQueue()
	app := newApp(fa, d, Options{}, q.do, 0)
	app.win.Resize(fyne.NewSize(1100, 720))
	q.drain()
	return &harness{t: t, fa: fa, app: app, b: fb, q: q}, d
}

// signIn signs in through the entry screen's button and the dialog.
func (h *harness) signIn(d *fakeDesk) (*SupportScreen, *fakeAgent) {
	h.t.Helper()
	test.Tap(h.app.SupportButton())
	dlg := h.app.SupportSignIn()
	if dlg == nil {
		h.t.Fatal("no sign-in dialog")
	}
	test.Type(dlg.KeyEntry, d.key)
	test.Tap(dlg.SignIn)
	h.q.until(h.t, "the Support view", func() bool { return h.app.Support() != nil && h.app.Support().visible() })
	return h.app.Support(), d.session()
}

// deliver sends a support event and waits until the view applied it.
func (h *harness) deliver(a *fakeAgent, ev support.Event) {
	h.t.Helper()
	ss := h.app.Support()
	want := ss.handled + 1
	a.events <- ev
	h.q.until(h.t, "the event applied", func() bool { return ss.handled >= want })
}

// TestSupportSignIn: a wrong key is refused with plain words; the right
// one opens the Support view and is remembered; signing out forgets it,
// and the next sign-in uses nothing remembered.
func TestSupportSignIn(t *testing.T) {
	h, d := newSupportHarness(t)
	if h.app.SupportButton() == nil {
		t.Fatal("no Support desk button on the entry screen")
	}
	test.Tap(h.app.SupportButton())
	dlg := h.app.SupportSignIn()
	test.Type(dlg.ServerEntry, "http://192.0.2.1:7880")
	test.Type(dlg.KeyEntry, "a-00000001.wrong")
	test.Tap(dlg.SignIn)
	h.q.until(t, "the refusal", func() bool { return dlg.ErrorLabel.Visible() })
	if !strings.Contains(dlg.ErrorLabel.Text, "does not sign anyone in") || h.app.Support() != nil {
		t.Fatalf("error %q, view %v", dlg.ErrorLabel.Text, h.app.Support())
	}
	dlg.KeyEntry.SetText("")
	test.Type(dlg.KeyEntry, d.key)
	test.Tap(dlg.SignIn)
	h.q.until(t, "signed in", func() bool { return h.app.Support() != nil })
	if h.app.SupportSignIn() != nil {
		t.Error("the dialog stays up after signing in")
	}
	if d.saved == nil || d.saved[0] != "http://192.0.2.1:7880" {
		t.Errorf("remembered %v", d.saved)
	}
	ss := h.app.Support()
	test.Tap(ss.SignOut)
	h.q.drain()
	if h.app.Support() != nil || d.saved != nil {
		t.Fatalf("after sign out: view %v, remembered %v", h.app.Support(), d.saved)
	}
	if objs := h.app.root.Objects; len(objs) != 1 || objs[0] != h.app.entry.content {
		t.Error("not back on the entry screen")
	}
	// Remembered sign-ins are used without the dialog.
	d.saved = &[2]string{"", d.key}
	test.Tap(h.app.SupportButton())
	h.q.until(t, "signed in with the remembered key", func() bool { return h.app.Support() != nil })
	if h.app.SupportSignIn() != nil {
		t.Error("the dialog showed although a sign-in was remembered")
	}
}

// TestSupportView: several conversations with unread counts and waiting
// times (waiting ones first), a new one announced with a sound and, in
// the background, a desktop notification; reading and replying; Start
// video, the customer entering and the app joining the call by itself
// and saying so, back to the Support view after the call; closing.
func TestSupportView(t *testing.T) {
	h, d := newSupportHarness(t)
	ss, a := h.signIn(d)
	now := time.Now()
	ms := func(ago time.Duration) int64 { return now.Add(-ago).UnixMilli() }
	h.deliver(a, &support.Ready{Agent: support.AgentInfo{ID: "a-1", Name: "Sam"}, Conversations: []support.Summary{
		{ID: "c-1", Name: "Ada", Status: "open", Unread: 2, WaitingSince: ms(3 * time.Minute),
			Last: support.Message{Seq: 2, From: "customer", Name: "Ada", Text: "Any news?", At: ms(time.Minute)}},
		{ID: "c-2", Name: "Bob", Status: "open", Last: support.Message{Seq: 3, From: "agent", Name: "Sam", Text: "Done!", At: ms(time.Second)}},
	}})
	rows := ss.Rows()
	if len(rows) != 2 || rows[0] != [3]string{"Ada", "2 new · waiting 3 min", "Any news?"} || rows[1][0] != "Bob" || rows[1][1] != "" {
		t.Fatalf("rows %q", rows)
	}
	if !strings.Contains(ss.Status.Text, "Signed in as Sam · Connected") {
		t.Errorf("status %q", ss.Status.Text)
	}

	// A new conversation while the window is in the background.
	h.app.focused = false
	newConv := &support.Summary{ID: "c-3", Name: "Cleo", Status: "open", Unread: 1, WaitingSince: ms(0), New: true,
		Last: support.Message{Seq: 1, From: "customer", Name: "Cleo", Text: "Hello?", At: ms(0)}}
	test.AssertNotificationSent(t, &fyne.Notification{Title: "New support conversation: Cleo", Content: "Hello?"}, func() {
		h.deliver(a, newConv)
	})
	h.app.focused = true
	if ss.Announced() != 1 {
		t.Errorf("%d announced", ss.Announced())
	}
	eventually(t, "a sound for the new conversation", func() bool { a.mu.Lock(); defer a.mu.Unlock(); return len(a.sounds) == 1 })
	if rows := ss.Rows(); len(rows) != 3 || rows[0][0] != "Ada" || rows[1][0] != "Cleo" {
		t.Fatalf("rows after Cleo %q", rows)
	}
	if h.app.SupportButton().Text != "Support desk (3 unread)" {
		t.Errorf("button %q", h.app.SupportButton().Text)
	}

	// Reading and replying.
	if !ss.Select("Ada") {
		t.Fatal("no row for Ada")
	}
	h.q.drain()
	if !a.did("open c-1") || !a.did("read c-1") {
		t.Fatalf("calls %q", a.calls)
	}
	h.deliver(a, &support.History{Conversation: "c-1", Messages: []support.Message{
		{Conversation: "c-1", Seq: 1, From: "customer", Name: "Ada", Text: "My parcel is broken"},
		{Conversation: "c-1", Seq: 2, From: "customer", Name: "Ada", Text: "Any news?"},
	}})
	if got := ss.Messages(); len(got) != 2 || got[1] != "Ada: Any news?" || ss.Title.Text != "Ada" {
		t.Fatalf("messages %q title %q", got, ss.Title.Text)
	}
	test.Type(ss.Entry, "Let me look")
	test.Tap(ss.Send)
	if !a.did("send c-1 Let me look") || ss.Entry.Text != "" {
		t.Fatalf("calls %q, entry %q", a.calls, ss.Entry.Text)
	}
	h.deliver(a, &support.Message{Conversation: "c-1", Seq: 3, From: "agent", Name: "Sam", Text: "Let me look"})
	if got := ss.Messages(); len(got) != 3 || got[2] != "Sam: Let me look" {
		t.Fatalf("messages %q", got)
	}

	// Start video; a refusal shows; the customer enters: the app joins.
	test.Tap(ss.StartVideo)
	if !a.did("video c-1") {
		t.Fatal("no start_video")
	}
	h.deliver(a, &support.Error{Code: support.CodeAgentBusy, Message: "busy", Ref: "c-1"})
	if !strings.Contains(ss.Notice.Text, "in a video call already") {
		t.Errorf("notice %q", ss.Notice.Text)
	}
	v := &support.Video{Conversation: "c-1", Room: "support-abc", Code: "K7QX2MP", Link: "/j/K7QX2MP", Token: "tok"}
	h.deliver(a, v)
	if !strings.HasPrefix(ss.Banner(), "Video call started with Ada") {
		t.Errorf("banner %q", ss.Banner())
	}
	a.events <- &support.CustomerEntered{Conversation: "c-1", Room: "support-abc", Name: "Ada"}
	h.q.until(t, "the app in the call", func() bool { return h.app.Call() != nil })
	req := h.b.joins[len(h.b.joins)-1]
	if req.Room != "support-abc" || req.Token != "tok" || req.Name != "Sam" || req.Server != a.server || req.MicOff || req.CameraOff {
		t.Fatalf("joined with %+v", req)
	}
	cs := h.app.Call()
	if n := cs.Notice(); n != "Ada joined the video call, so you were brought in." {
		t.Errorf("call notice %q", n)
	}
	// A message meanwhile reaches the view.
	h.deliver(a, &support.Message{Conversation: "c-1", Seq: 4, From: "system", Text: "Ada joined the video call."})
	cs.Leave()
	h.q.drain()
	if !ss.visible() {
		t.Fatal("not back on the Support view after the call")
	}
	h.deliver(a, &support.VideoEnded{Conversation: "c-1", Room: "support-abc", Reason: "left"})
	if ss.Banner() != "" {
		t.Errorf("banner %q after the call", ss.Banner())
	}

	// Closing: it leaves the list.
	test.Tap(ss.Close)
	if !a.did("close c-1") {
		t.Fatal("no close")
	}
	h.deliver(a, &support.Summary{ID: "c-1", Name: "Ada", Status: "closed", ClosedBy: "Sam"})
	if rows := ss.Rows(); len(rows) != 2 || ss.Title.Visible() && ss.detail.Visible() {
		t.Errorf("after close: rows %q", rows)
	}

	// Back to the entry screen, still signed in; then the connection is refused.
	test.Tap(ss.Back)
	if h.app.Support() == nil || ss.visible() {
		t.Fatal("Back signed out or stayed")
	}
	a.events <- &support.Error{Code: support.CodeAgentKeyInvalid, Message: "removed"}
	a.SignOut()
	h.q.until(t, "signed out after the key stopped working", func() bool { return h.app.Support() == nil })
	if !h.app.entry.ErrorLabel.Visible() || !strings.Contains(h.app.entry.ErrorLabel.Text, "no longer signs in") {
		t.Errorf("entry says %q", h.app.entry.ErrorLabel.Text)
	}
}

package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/confab/confab/signaling/calls"
	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/wire"
)

// callerBackend is a fakeBackend that can go online: Online gives a
// fakeConn whose events the test sends, and StartRinging counts rings.
type callerBackend struct {
	*fakeBackend
	mu        sync.Mutex
	people    []calls.Person // who else is online at hello
	onlineErr error
	conns     []*fakeConn
	hellos    []calls.Hello
	rings     int
	ringStops int
	speaker   bool // calls are SpeakerMuters
}

func newCallerBackend(people ...calls.Person) *callerBackend {
	return &callerBackend{fakeBackend: newFakeBackend(), people: people}
}

func (b *callerBackend) Online(ctx context.Context, server string, hello calls.Hello) (PeopleConn, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.hellos = append(b.hellos, hello)
	if b.onlineErr != nil {
		return nil, b.onlineErr
	}
	c := &fakeConn{events: make(chan calls.Event, 64), ready: calls.Ready{
		You: calls.Person{ID: "p-dana", Name: hello.Name}, People: slices.Clone(b.people), RingTimeoutMS: 30000}}
	b.conns = append(b.conns, c)
	return c, nil
}

func (b *callerBackend) StartRinging() func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rings++
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			b.ringStops++
			b.mu.Unlock()
		})
	}
}

// Join makes the call a SpeakerMuter when the test asks.
func (b *callerBackend) Join(ctx context.Context, req JoinRequest) (Call, error) {
	c, err := b.fakeBackend.Join(ctx, req)
	b.mu.Lock()
	speaker := b.speaker
	b.mu.Unlock()
	if err != nil || !speaker {
		return c, err
	}
	return speakerCall{c.(*fakeCall)}, nil
}

// conn returns the latest presence connection, nil before one.
func (b *callerBackend) conn() *fakeConn {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.conns) == 0 {
		return nil
	}
	return b.conns[len(b.conns)-1]
}

// ringing reports how many rings started and stopped.
func (b *callerBackend) ringing() (started, stopped int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rings, b.ringStops
}

// speakerCall is a fakeCall whose sound can be turned off (SpeakerMuter).
type speakerCall struct{ *fakeCall }

func (c speakerCall) SetSpeakerOn(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.speakerOn = append(c.speakerOn, on)
}

// fakeConn is a PeopleConn: the test sends its events, it records the
// requests and answers them with answer (or a default that acknowledges
// with the call as the test last sent it).
type fakeConn struct {
	ready  calls.Ready
	events chan calls.Event

	mu     sync.Mutex
	reqs   []string // "call video p-ben,p-cat", "accept c1", ...
	busy   []bool
	answer func(typ, call string, to []string) (*calls.CallMsg, error)
	closed bool
}

func (c *fakeConn) Ready() calls.Ready         { return c.ready }
func (c *fakeConn) Events() <-chan calls.Event { return c.events }

func (c *fakeConn) request(typ, call string, to []string) (*calls.CallMsg, error) {
	c.mu.Lock()
	c.reqs = append(c.reqs, strings.TrimSpace(typ+" "+call+" "+strings.Join(to, ",")))
	answer, closed := c.answer, c.closed
	c.mu.Unlock()
	if closed {
		return nil, calls.ErrClosed
	}
	if answer == nil {
		return &calls.CallMsg{Call: calls.Call{ID: call}}, nil
	}
	return answer(typ, call, to)
}

func (c *fakeConn) Call(ctx context.Context, kind string, to ...string) (*calls.CallMsg, error) {
	return c.request("call", kind, to)
}

func (c *fakeConn) InviteMore(ctx context.Context, call string, to ...string) (*calls.CallMsg, error) {
	return c.request("invite", call, to)
}

func (c *fakeConn) Accept(ctx context.Context, call string) (*calls.CallMsg, error) {
	return c.request("accept", call, nil)
}

func (c *fakeConn) Decline(ctx context.Context, call string) (*calls.CallMsg, error) {
	return c.request("decline", call, nil)
}

func (c *fakeConn) Cancel(ctx context.Context, call string, to ...string) (*calls.CallMsg, error) {
	return c.request("cancel", call, to)
}

func (c *fakeConn) Hangup(ctx context.Context, call string) (*calls.CallMsg, error) {
	return c.request("hangup", call, nil)
}

func (c *fakeConn) SetBusy(busy bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy = append(c.busy, busy)
	return nil
}

func (c *fakeConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.events)
	}
	return nil
}

// requests returns the requests so far.
func (c *fakeConn) requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.reqs)
}

// setAnswer sets how requests are answered.
func (c *fakeConn) setAnswer(f func(typ, call string, to []string) (*calls.CallMsg, error)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answer = f
}

var (
	ben = calls.Person{ID: "p-ben", Name: "Ben"}
	cat = calls.Person{ID: "p-cat", Name: "Cat"}
	dan = calls.Person{ID: "p-dan", Name: "Dan"}
)

// peopleHarness is an App online as Dana with a callerBackend.
type peopleHarness struct {
	*harness
	cb *callerBackend
	pc *fakeConn
}

func newPeopleHarness(t *testing.T, people ...calls.Person) *peopleHarness {
	t.Helper()
	return newPeopleHarnessWith(t, test.NewTempApp(t), newCallerBackend(people...))
}

// newPeopleHarnessOn starts a second app on the preferences of fa.
func newPeopleHarnessOn(t *testing.T, fa fyne.App) *peopleHarness {
	t.Helper()
	return newPeopleHarnessWith(t, fa, newCallerBackend())
}

func newPeopleHarnessWith(t *testing.T, fa fyne.App, cb *callerBackend) *peopleHarness {
	t.Helper()
	q := newQueue()
	app := newApp(fa, cb, Options{Name: "Dana"}, q.do, 0)
	app.win.Resize(fyne.NewSize(1100, 720))
	q.drain()
	t.Cleanup(app.Close) // offline: the presence reader ends
	return &peopleHarness{harness: &harness{t: t, fa: fa, app: app, b: cb.fakeBackend, q: q}, cb: cb}
}

// online waits until the app is online on its fakeConn.
func (p *peopleHarness) online() {
	p.t.Helper()
	p.q.until(p.t, "the app online", func() bool { return p.app.people.pc != nil })
	p.pc = p.cb.conn()
}

// event hands ev to the app and waits until the UI applied it.
func (p *peopleHarness) event(ev calls.Event, what string, applied func() bool) {
	p.t.Helper()
	p.pc.events <- ev
	p.q.until(p.t, what, applied)
}

// names are the names in the People view's rows.
func names(s *PeopleScreen) []string {
	var out []string
	for _, r := range s.Rows {
		out = append(out, r.Name)
	}
	return out
}

// incoming is a call from ben ringing Dana.
func incoming(id, kind string, others ...calls.Member) calls.Call {
	c := calls.Call{ID: id, Kind: kind, From: ben.ID, FromName: ben.Name, Created: time.Now().UnixMilli(),
		Members: []calls.Member{{ID: ben.ID, Name: ben.Name, State: calls.StateAccepted},
			{ID: "p-dana", Name: "Dana", State: calls.StateRinging, InvitedBy: ben.ID}}}
	c.Members = append(c.Members, others...)
	return c
}

// withState returns c with member id in state, and the call ended with
// ended ("" for still on).
func withState(c calls.Call, id, state, ended string) calls.Call {
	c.Members = slices.Clone(c.Members)
	c.Member(id).State = state
	c.Ended = ended
	return c
}

// sync waits until the app applied every presence event sent so far: a
// marker person comes online after them, then goes again.
func (p *peopleHarness) sync() {
	p.t.Helper()
	mark := calls.Person{ID: "p-marker", Name: "Marker"}
	p.event(calls.PersonOnline{Person: mark}, "the marker online", func() bool { _, ok := p.app.people.people[mark.ID]; return ok })
	p.event(calls.PersonOffline{ID: mark.ID}, "the marker gone", func() bool { _, ok := p.app.people.people[mark.ID]; return !ok })
}

// accepting answers an accept of call c with its room and token.
func accepting(c calls.Call) func(typ, call string, to []string) (*calls.CallMsg, error) {
	return func(typ, call string, to []string) (*calls.CallMsg, error) {
		if typ != "accept" || call != c.ID {
			return nil, &calls.Error{Code: calls.CodeNoSuchCall, Message: "no such call"}
		}
		return &calls.CallMsg{Call: withState(c, "p-dana", calls.StateAccepted, ""),
			Join: &calls.Join{Room: calls.RoomPrefix + c.ID, Token: "tok-" + c.ID}}, nil
	}
}

// calling answers a new call from Dana to the people with ids, as call id.
func calling(id string, people ...calls.Person) func(typ, kind string, to []string) (*calls.CallMsg, error) {
	return func(typ, kind string, to []string) (*calls.CallMsg, error) {
		if typ != "call" {
			return &calls.CallMsg{Call: calls.Call{ID: id}}, nil
		}
		c := calls.Call{ID: id, Kind: kind, From: "p-dana", FromName: "Dana", Created: time.Now().UnixMilli(),
			Members: []calls.Member{{ID: "p-dana", Name: "Dana", State: calls.StateAccepted}}}
		for _, p := range people {
			c.Members = append(c.Members, calls.Member{ID: p.ID, Name: p.Name, State: calls.StateRinging, InvitedBy: "p-dana"})
		}
		return &calls.CallMsg{Call: c, Join: &calls.Join{Room: calls.RoomPrefix + id, Token: "tok-" + id}}, nil
	}
}

// The People view lists who is online on the server and follows people
// coming, changing and going; a person's Video button calls them.
func TestPeopleViewListsWhoIsOnline(t *testing.T) {
	p := newPeopleHarness(t, ben)
	p.online()
	hello := p.cb.hellos[0]
	if hello.Name != "Dana" || len(hello.Key) < calls.MinKeyBytes || hello.Token != "" {
		t.Fatalf("hello %+v, want Dana with a key", hello)
	}
	if got := p.fa.Preferences().String(prefPresenceKey + "(built-in)"); got != hello.Key {
		t.Errorf("the key %q is not the one kept in the preferences (%q)", hello.Key, got)
	}
	p.app.showPeople()
	s := p.app.People()
	if s == nil {
		t.Fatal("no People view after showPeople")
	}
	if got := names(s); !slices.Equal(got, []string{"Ben"}) {
		t.Fatalf("listed %v, want [Ben]", got)
	}
	if !strings.Contains(s.Status.Text, "online on the built-in server as Dana") {
		t.Errorf("status %q", s.Status.Text)
	}
	p.event(calls.PersonOnline{Person: cat}, "Cat listed", func() bool { return slices.Equal(names(s), []string{"Ben", "Cat"}) })
	busy := ben
	busy.Busy = true
	p.event(calls.PersonUpdated{Person: busy}, "Ben shown in a call", func() bool {
		r := s.Row("Ben")
		return r != nil && r.Busy && r.BusyLabel.Visible()
	})
	p.event(calls.PersonOffline{ID: ben.ID}, "Ben gone", func() bool { return slices.Equal(names(s), []string{"Cat"}) })

	if !s.CallVideo.Disabled() {
		t.Error("the group call button is enabled with nobody checked")
	}
	s.Select(cat.ID, true)
	if s.CallVideo.Disabled() || s.CallVideo.Text != "Video call 1 selected" {
		t.Errorf("after checking Cat: %q disabled=%v", s.CallVideo.Text, s.CallVideo.Disabled())
	}
	test.Tap(s.Row("Cat").Vid)
	eventually(t, "a video call to Cat", func() bool { return slices.Contains(p.pc.requests(), "call video p-cat") })
	// The same key next time: the identity is stable.
	p2 := newPeopleHarnessOn(t, p.fa)
	p2.online()
	if got := p2.cb.hellos[0].Key; got != hello.Key {
		t.Errorf("second start signed in with key %q, want %q", got, hello.Key)
	}
}

// An incoming call rings (tone, dialog with the three answers) wherever
// the app is; Decline sends decline, stops the ring and joins nothing.
func TestIncomingCallDecline(t *testing.T) {
	p := newPeopleHarness(t, ben)
	p.online()
	c := incoming("c1", calls.KindVideo)
	p.event(&calls.CallMsg{Call: c}, "the incoming call dialog", func() bool { return p.app.Ringing() != nil })
	r := p.app.Ringing()
	if r.Caller.Text != "Ben is calling you: a video call" {
		t.Errorf("dialog says %q", r.Caller.Text)
	}
	for b, want := range map[string]string{r.AcceptVideo.Text: "Accept (video)", r.AcceptAudio.Text: "Accept (audio only)", r.Decline.Text: "Decline"} {
		if b != want {
			t.Errorf("button %q, want %q", b, want)
		}
	}
	if !r.pop.Visible() || r.Shown.IsZero() {
		t.Error("the dialog is not shown")
	}
	if started, stopped := p.cb.ringing(); started != 1 || stopped != 0 {
		t.Errorf("ring started %d, stopped %d times while ringing; want 1, 0", started, stopped)
	}
	test.Tap(r.Decline)
	eventually(t, "decline sent", func() bool { return slices.Contains(p.pc.requests(), "decline c1") })
	if p.app.Ringing() != nil || r.pop.Visible() {
		t.Error("the dialog still shows after Decline")
	}
	if _, stopped := p.cb.ringing(); stopped != 1 {
		t.Errorf("the ring stopped %d times after Decline, want 1", stopped)
	}
	// The server's answer: the call ended, declined. No missed call, no join.
	p.pc.events <- &calls.CallMsg{Call: withState(c, "p-dana", calls.StateDeclined, calls.EndDeclined)}
	p.sync()
	if p.b.joinCount() != 0 || len(p.app.Missed()) != 0 || p.app.Call() != nil {
		t.Errorf("after declining: %d joins, missed %v", p.b.joinCount(), p.app.Missed())
	}
	if got := p.pc.requests(); !slices.Equal(got, []string{"decline c1"}) {
		t.Errorf("requests %v, want only the decline", got)
	}
}

// Accepting joins the call's room with its token, named for the caller;
// Accept (audio only) joins with the camera never opened: the backend is
// asked for no camera and no preview opens.
func TestAcceptIncomingCall(t *testing.T) {
	for _, tc := range []struct {
		name  string
		audio bool
	}{{"video", false}, {"audio only", true}} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeopleHarness(t, ben)
			p.online()
			c := incoming("c1", calls.KindVideo)
			p.pc.setAnswer(accepting(c))
			p.event(&calls.CallMsg{Call: c}, "the incoming call dialog", func() bool { return p.app.Ringing() != nil })
			var previews int
			p.b.mu.Lock()
			previews = len(p.b.previews)
			p.b.mu.Unlock()
			if tc.audio {
				test.Tap(p.app.Ringing().AcceptAudio)
			} else {
				test.Tap(p.app.Ringing().AcceptVideo)
			}
			p.q.until(t, "the call screen", func() bool { return p.app.Call() != nil })
			if !slices.Contains(p.pc.requests(), "accept c1") {
				t.Errorf("requests %v, no accept", p.pc.requests())
			}
			p.b.mu.Lock()
			req := p.b.joins[len(p.b.joins)-1]
			newPreviews := len(p.b.previews) - previews
			p.b.mu.Unlock()
			if req.Room != "call-c1" || req.Token != "tok-c1" || req.Name != "Dana" || req.Title != "Call with Ben" {
				t.Errorf("joined %+v", req)
			}
			if req.CameraOff != tc.audio {
				t.Errorf("joined with CameraOff %v, want %v", req.CameraOff, tc.audio)
			}
			if newPreviews != 0 {
				t.Errorf("%d camera previews opened while accepting", newPreviews)
			}
			if started, stopped := p.cb.ringing(); started != 1 || stopped != 1 {
				t.Errorf("ring started %d, stopped %d; want 1, 1", started, stopped)
			}
			cs, call := p.app.Call(), p.b.lastCall()
			p.send(cs, call, client.StateChanged{State: client.StateConnected})
			p.send(cs, call, client.Welcome{Room: "call-c1", You: client.Participant{ID: "p-dana", Name: "Dana", Mic: true, Camera: !tc.audio},
				Participants: []client.Participant{{ID: "p-ben", Name: "Ben", Mic: true, Camera: true}}})
			if got := cs.Controls().Room.Text; got != "Call with Ben" {
				t.Errorf("the call bar says %q, want Call with Ben", got)
			}
			self := cs.Tile(tileKey("p-dana", false))
			if self == nil || self.CameraOff() != tc.audio {
				t.Errorf("own tile camera off = %v, want %v", self != nil && self.CameraOff(), tc.audio)
			}
			call.get(func(c *fakeCall) {
				if slices.Contains(c.cam, true) {
					t.Errorf("the camera was turned on: %v", c.cam)
				}
			})
			if cs.Controls().Invite.Visible() || cs.InviteButton.Visible() {
				t.Error("a call between people offers an invite link to its private room")
			}
		})
	}
}

// A call the caller cancels, or that rings out, or whose caller went
// offline, is a missed call: listed with the time and a Call back button
// that calls back the same way; it is kept for the next start.
func TestMissedCalls(t *testing.T) {
	for _, tc := range []struct {
		state, ended, strip string
	}{
		{calls.StateCancelled, calls.EndCancelled, "Ben cancelled the call."},
		{calls.StateNoAnswer, calls.EndNoAnswer, "Missed call from Ben."},
		{calls.StateFailed, calls.EndFailed, "The call failed: Ben went offline or the network dropped."},
	} {
		t.Run(tc.state, func(t *testing.T) {
			p := newPeopleHarness(t, ben)
			p.online()
			c := incoming("c1", calls.KindAudio)
			p.event(&calls.CallMsg{Call: c}, "the incoming call dialog", func() bool { return p.app.Ringing() != nil })
			if got := p.app.Ringing().Caller.Text; got != "Ben is calling you: an audio call" {
				t.Errorf("dialog says %q", got)
			}
			p.event(&calls.CallMsg{Call: withState(c, "p-dana", tc.state, tc.ended)}, "the dialog gone", func() bool { return p.app.Ringing() == nil })
			if _, stopped := p.cb.ringing(); stopped != 1 {
				t.Errorf("ring stopped %d times, want 1", stopped)
			}
			if got := p.app.Strip().Text.Text; got != tc.strip || !p.app.Strip().Visible() {
				t.Errorf("strip %q (shown %v), want %q", got, p.app.Strip().Visible(), tc.strip)
			}
			missed := p.app.Missed()
			if len(missed) != 1 || missed[0].ID != ben.ID || missed[0].Name != "Ben" || missed[0].Kind != calls.KindAudio {
				t.Fatalf("missed %+v", missed)
			}
			p.app.showPeople()
			s := p.app.People()
			if len(s.MissedRows) != 1 {
				t.Fatalf("%d missed rows", len(s.MissedRows))
			}
			row := s.MissedRows[0]
			if want := "Ben — audio call, " + missed[0].At.Format("15:04"); row.Text.Text != want {
				t.Errorf("missed row %q, want %q", row.Text.Text, want)
			}
			if row.CallBack.Disabled() || row.CallBack.Text != "Call back" {
				t.Fatalf("Call back %q disabled=%v with Ben online", row.CallBack.Text, row.CallBack.Disabled())
			}
			test.Tap(row.CallBack)
			eventually(t, "the call back", func() bool { return slices.Contains(p.pc.requests(), "call audio p-ben") })
			// Offline, Call back is off; the list is kept for next time.
			p.event(calls.PersonOffline{ID: ben.ID}, "Ben offline", func() bool { return len(p.app.people.people) == 0 })
			if b := s.MissedRows[0].CallBack; !b.Disabled() || b.Text != "Offline" {
				t.Errorf("Call back of someone offline: %q disabled=%v", b.Text, b.Disabled())
			}
			p2 := newPeopleHarnessOn(t, p.fa)
			p2.online()
			if got := p2.app.Missed(); len(got) != 1 || got[0].Name != "Ben" {
				t.Errorf("after a restart missed %+v", got)
			}
		})
	}
}

// The caller sees "Ringing Ben…" with Cancel; Cancel withdraws the call,
// and every way the call can end unanswered is said in plain words, back
// on the People view the call was made from.
func TestCallerSeesEndReason(t *testing.T) {
	for _, tc := range []struct {
		state, ended, want string
		cancel             bool
	}{
		{calls.StateDeclined, calls.EndDeclined, "Ben declined the call.", false},
		{calls.StateNoAnswer, calls.EndNoAnswer, "Ben didn't answer.", false},
		{calls.StateBusy, calls.EndBusy, "Ben is busy in another call.", false},
		{calls.StateFailed, calls.EndFailed, "The call failed: Ben went offline or the network dropped.", false},
		{calls.StateCancelled, calls.EndCancelled, "Call cancelled.", true},
	} {
		t.Run(tc.state, func(t *testing.T) {
			p := newPeopleHarness(t, ben)
			p.online()
			p.pc.setAnswer(calling("c3", ben))
			p.app.showPeople()
			test.Tap(p.app.People().Row("Ben").Vid)
			p.q.until(t, "the call screen", func() bool { return p.app.Call() != nil })
			strip := p.app.Strip()
			if !strip.Visible() || strip.Text.Text != "Ringing Ben…" || !strip.Cancel.Visible() {
				t.Fatalf("strip %q shown=%v cancel=%v", strip.Text.Text, strip.Visible(), strip.Cancel.Visible())
			}
			if tc.cancel {
				test.Tap(strip.Cancel)
				eventually(t, "cancel sent", func() bool { return slices.Contains(p.pc.requests(), "cancel c3") })
			}
			out, _ := calling("c3", ben)("call", calls.KindVideo, nil)
			c := out.Call
			p.event(&calls.CallMsg{Call: withState(c, ben.ID, tc.state, tc.ended)}, "back on the People view",
				func() bool { return p.app.Call() == nil && p.app.People() != nil })
			if strip.Text.Text != tc.want || !strip.Visible() {
				t.Errorf("strip %q shown=%v, want %q", strip.Text.Text, strip.Visible(), tc.want)
			}
			if p.app.Summary() != nil {
				t.Error("a summary of a call nobody answered")
			}
			if slices.Contains(p.pc.requests(), "hangup c3") {
				t.Error("hangup sent for a call that had ended")
			}
		})
	}
}

// A group call shows each invitee's state on the strip, Cancel while the
// caller's invitations ring; the call bar and the summary name the call
// for the people in it, never its call-… room.
func TestGroupCallStrip(t *testing.T) {
	p := newPeopleHarness(t, ben, cat, dan)
	p.online()
	p.pc.setAnswer(calling("c4", ben, cat, dan))
	p.app.showPeople()
	s := p.app.People()
	for _, id := range []string{ben.ID, cat.ID, dan.ID} {
		s.Select(id, true)
	}
	test.Tap(s.CallVideo)
	p.q.until(t, "the call screen", func() bool { return p.app.Call() != nil })
	if !slices.Contains(p.pc.requests(), "call video p-ben,p-cat,p-dan") {
		t.Fatalf("requests %v", p.pc.requests())
	}
	strip := p.app.Strip()
	if want := "Ben: ringing · Cat: ringing · Dan: ringing"; strip.Text.Text != want || !strip.Cancel.Visible() {
		t.Errorf("strip %q cancel=%v, want %q with Cancel", strip.Text.Text, strip.Cancel.Visible(), want)
	}
	c := calling("c4", ben, cat, dan)
	base, _ := c("call", calls.KindVideo, nil)
	call := withState(base.Call, ben.ID, calls.StateJoined, "")
	call = withState(call, cat.ID, calls.StateDeclined, "")
	p.event(&calls.CallMsg{Call: call}, "Ben joined, Cat declined", func() bool {
		return strip.Text.Text == "Ben: joined · Cat: declined · Dan: ringing"
	})
	call = withState(call, dan.ID, calls.StateNoAnswer, "")
	p.event(&calls.CallMsg{Call: call}, "Dan no answer", func() bool {
		return strip.Text.Text == "Ben: joined · Cat: declined · Dan: no answer"
	})
	if strip.Cancel.Visible() {
		t.Error("Cancel shows with nobody ringing")
	}
	cs, fc := p.app.Call(), p.b.lastCall()
	p.send(cs, fc, client.StateChanged{State: client.StateConnected})
	p.send(cs, fc, client.Welcome{Room: "call-c4", You: client.Participant{ID: "p-dana", Name: "Dana", Mic: true, Camera: true},
		Participants: []client.Participant{{ID: ben.ID, Name: "Ben", Mic: true, Camera: true}}})
	if got := cs.Controls().Room.Text; got != "Call with Ben, Cat, Dan" {
		t.Errorf("the call bar says %q", got)
	}
	// Ben hangs up: the call is over, the app leaves it with a summary.
	call = withState(call, ben.ID, calls.StateLeft, calls.EndHungUp)
	p.event(&calls.CallMsg{Call: call}, "the summary", func() bool { return p.app.Summary() != nil })
	if got := strip.Text.Text; got != "The call ended: Ben hung up." {
		t.Errorf("strip %q", got)
	}
	if got := p.app.Summary().Subtitle.Text; !strings.HasPrefix(got, "Call with Ben, Cat, Dan · ") || strings.Contains(got, "call-") {
		t.Errorf("summary says %q", got)
	}
}

// The call bar's speaker button silences all playout and brings it back.
func TestSpeakerOnOff(t *testing.T) {
	p := newPeopleHarness(t)
	p.cb.speaker = true
	cs, c := p.join("Dana")
	b := cs.SpeakerButton()
	if !b.Visible() {
		t.Fatal("no speaker button")
	}
	test.Tap(b)
	c.get(func(c *fakeCall) {
		if !slices.Equal(c.speakerOn, []bool{false}) {
			t.Errorf("SetSpeakerOn calls %v after one tap, want [false]", c.speakerOn)
		}
	})
	if !strings.HasPrefix(cs.Notice(), "Sound off") {
		t.Errorf("notice %q", cs.Notice())
	}
	test.Tap(b)
	c.get(func(c *fakeCall) {
		if !slices.Equal(c.speakerOn, []bool{false, true}) {
			t.Errorf("SetSpeakerOn calls %v after two taps, want [false true]", c.speakerOn)
		}
	})
	// A call that cannot silence its sound has no button.
	q := newPeopleHarness(t)
	cs2, _ := q.join("Dana")
	if cs2.SpeakerButton().Visible() {
		t.Error("a speaker button on a call that cannot turn its sound off")
	}
}

// On a server with tokens the app (which signs in with its key) cannot be
// online: the People view says so in plain words, not as an error.
func TestPeopleOnTokenServer(t *testing.T) {
	cb := newCallerBackend()
	cb.onlineErr = &calls.Error{Code: wire.CodePermissionDenied, Message: "this server needs a token; a key is accepted in open mode only", Fatal: true}
	p := newPeopleHarnessWith(t, test.NewTempApp(t), cb)
	p.q.until(t, "the sign-in refused", func() bool { return !p.app.people.connecting && len(cb.hellos) > 0 })
	p.app.showPeople()
	s := p.app.People()
	// Opening People tries again; the answer is the same.
	p.q.until(t, "the People view saying why", func() bool { return s.Status.Text == tokenOnlyText })
	if !s.CallVideo.Disabled() || !s.CallAudio.Disabled() {
		t.Error("call buttons enabled while offline")
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&calls.Error{Code: calls.CodeTooManyConnections, Message: "x"}, "Not online: you are online from too many windows or computers. Close one and try again."},
		{calls.ErrNoPresence, "This server does not list who is online (it runs an older Confab)."},
		{fmt.Errorf("%w: %w", calls.ErrUnreachable, context.DeadlineExceeded), "Not online: The built-in server did not answer in time. Check the address and your connection, then try again."},
		{errors.New("boom"), "Not online: Something went wrong: Boom."},
	} {
		if got := onlineErrorText(tc.err, ""); got != tc.want {
			t.Errorf("onlineErrorText(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

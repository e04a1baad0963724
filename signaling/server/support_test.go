package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/support"
)

// addAgent makes an agent in srv's store and returns its key.
func addAgent(t *testing.T, srv *servertest.Server, name string) string {
	t.Helper()
	id, key, hash, err := support.NewAgentKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Data.Store.AddAgent(context.Background(), store.Agent{ID: id, Name: name, KeyHash: hash}); err != nil {
		t.Fatal(err)
	}
	return key
}

// events collects a support connection's events for waiting on.
type events struct {
	t  *testing.T
	ch <-chan support.Event
	ev []support.Event
}

// wait reads events until one satisfies match, failing t after 20 s.
func (e *events) wait(what string, match func(support.Event) bool) support.Event {
	e.t.Helper()
	for _, ev := range e.ev {
		if match(ev) {
			return ev
		}
	}
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-e.ch:
			if !ok {
				e.t.Fatalf("%s: the connection closed; events: %s", what, e.dump())
			}
			e.ev = append(e.ev, ev)
			if match(ev) {
				return ev
			}
		case <-deadline:
			e.t.Fatalf("%s: not within 20s; events: %s", what, e.dump())
		}
	}
}

func (e *events) dump() string {
	var b strings.Builder
	for _, ev := range e.ev {
		fmt.Fprintf(&b, "\n  %T %+v", ev, ev)
	}
	return b.String()
}

func summaryOf(conv string, cond func(*support.Summary) bool) func(support.Event) bool {
	return func(ev support.Event) bool {
		s, ok := ev.(*support.Summary)
		return ok && s.ID == conv && cond(s)
	}
}

func messageOf(cond func(*support.Message) bool) func(support.Event) bool {
	return func(ev support.Event) bool {
		m, ok := ev.(*support.Message)
		return ok && cond(m)
	}
}

func errorOf(code string) func(support.Event) bool {
	return func(ev support.Event) bool {
		e, ok := ev.(*support.Error)
		return ok && e.Code == code
	}
}

// TestSupportDeskFlow goes through a support conversation with Go clients
// on both sides, on a server in closed mode: a customer opens it, chat
// both ways with unread counts and waiting time, Start video (one at a
// time), the customer enters the call through the link and the agent is
// told, the agent joins and leaves, the customer rates the call, the
// agent closes the conversation, and all of it survives a restart.
func TestSupportDeskFlow(t *testing.T) {
	srv := servertest.Start(t, servertest.Closed())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	key := addAgent(t, srv, "Sam")

	agent, err := support.DialAgent(ctx, srv.URL, key)
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	ae := &events{t: t, ch: agent.Events()}
	ae.wait("ready", func(ev support.Event) bool { r, ok := ev.(*support.Ready); return ok && r.Agent.Name == "Sam" })

	nc, err := support.CreateConversation(ctx, srv.URL, "Ada", "ada@example.com", "My order 1234 is late")
	if err != nil {
		t.Fatal(err)
	}
	conv := nc.Conversation
	ae.wait("the new conversation announced", summaryOf(conv, func(s *support.Summary) bool {
		return s.New && s.Unread == 1 && s.Name == "Ada" && s.Email == "ada@example.com" && s.WaitingSince > 0 && s.Last.Text == "My order 1234 is late"
	}))

	cust, err := support.DialCustomer(ctx, srv.URL, conv, nc.Key, 0)
	if err != nil {
		t.Fatal(err)
	}
	ce := &events{t: t, ch: cust.Events()}
	if len(cust.State.Messages) != 1 || cust.State.Status != support.StatusOpen {
		t.Fatalf("resumed state %+v", cust.State)
	}
	if err := cust.Send("m-2", "Any news?"); err != nil {
		t.Fatal(err)
	}
	ae.wait("the customer's message", messageOf(func(m *support.Message) bool {
		return m.Conversation == conv && m.Text == "Any news?" && m.From == support.FromCustomer && m.Seq == 2
	}))
	ae.wait("two unread", summaryOf(conv, func(s *support.Summary) bool { return s.Unread == 2 }))

	if err := agent.Open(conv, 0); err != nil {
		t.Fatal(err)
	}
	h := ae.wait("the history", func(ev support.Event) bool { h, ok := ev.(*support.History); return ok && h.Conversation == conv }).(*support.History)
	if len(h.Messages) != 2 || h.More {
		t.Fatalf("history %+v", h)
	}
	agent.MarkRead(conv, 2)
	ae.wait("read", summaryOf(conv, func(s *support.Summary) bool { return s.Unread == 0 }))
	if err := agent.Send(conv, "r-1", "Let me look, Ada."); err != nil {
		t.Fatal(err)
	}
	ce.wait("the agent's answer", messageOf(func(m *support.Message) bool {
		return m.From == support.FromAgent && m.Name == "Sam" && m.Text == "Let me look, Ada."
	}))
	ae.wait("no longer waiting", summaryOf(conv, func(s *support.Summary) bool { return s.WaitingSince == 0 && s.Last.From == support.FromAgent }))

	// Start video: the customer gets the link, the agent the room and a
	// token; a second call is refused.
	if err := agent.StartVideo(conv); err != nil {
		t.Fatal(err)
	}
	v := ae.wait("the video call", func(ev support.Event) bool { _, ok := ev.(*support.Video); return ok }).(*support.Video)
	link := ce.wait("the link in the chat", messageOf(func(m *support.Message) bool { return m.Link != "" })).(*support.Message)
	if link.Link != "/j/"+v.Code || !strings.HasPrefix(v.Room, "support-") || v.Token == "" {
		t.Fatalf("video %+v, link message %+v", v, link)
	}
	agent.StartVideo(conv)
	ae.wait("a second call refused", errorOf(support.CodeAgentBusy))

	// The customer enters through the link (as the guest page does).
	st, body, _ := apiCall(t, "POST", srv.URL+"/api/invite/"+v.Code+"/token", "", map[string]any{"name": "Ada"})
	if st != http.StatusOK {
		t.Fatalf("exchange: %d %v", st, body)
	}
	guestTok := body["token"].(string)
	guest, err := client.Join(ctx, client.Config{Server: srv.URL, Token: guestTok, Room: v.Room, LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ae.wait("the customer entered", func(ev support.Event) bool {
		e, ok := ev.(*support.CustomerEntered)
		return ok && e.Room == v.Room && e.Name == "Ada" && e.Conversation == conv
	})
	ce.wait("a note that Ada joined", messageOf(func(m *support.Message) bool {
		return m.From == support.FromSystem && m.Text == "Ada joined the video call."
	}))
	// The agent joins with the call's token, then leaves: the call is over.
	sam, err := client.Join(ctx, client.Config{Server: srv.URL, Token: v.Token, Room: v.Room, LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if sam.Self().Name != "Sam" {
		t.Errorf("the agent is %+v in the call", sam.Self())
	}
	sam.Leave()
	ae.wait("the call ended", func(ev support.Event) bool { e, ok := ev.(*support.VideoEnded); return ok && e.Room == v.Room })
	guest.Leave()
	// The link is withdrawn with the call.
	if st, body, _ := apiCall(t, "GET", srv.URL+"/api/invite/"+v.Code, "", nil); st != http.StatusGone {
		t.Errorf("the link after the call: %d %v", st, body)
	}

	// Feedback: asked of the customer, not the agent; once.
	st, body, _ = apiCall(t, "GET", srv.URL+"/api/support/feedback", guestTok, nil)
	if st != 200 || body["agent"] != "Sam" || body["rated"] != false {
		t.Fatalf("feedback info: %d %v", st, body)
	}
	if st, body, _ := apiCall(t, "GET", srv.URL+"/api/support/feedback", v.Token, nil); st != http.StatusForbidden {
		t.Errorf("feedback info for the agent: %d %v", st, body)
	}
	if st, body, _ := apiCall(t, "POST", srv.URL+"/api/support/feedback", guestTok, map[string]any{"rating": 6}); st != 400 {
		t.Errorf("rating 6: %d %v", st, body)
	}
	if st, body, _ := apiCall(t, "POST", srv.URL+"/api/support/feedback", guestTok, map[string]any{"rating": 5, "comment": "Quick and kind"}); st != 200 || body["rating"] != 5.0 {
		t.Fatalf("feedback: %d %v", st, body)
	}
	if st, body, _ := apiCall(t, "POST", srv.URL+"/api/support/feedback", guestTok, map[string]any{"rating": 1}); st != http.StatusConflict || body["code"] != support.CodeAlreadyRated {
		t.Errorf("second rating: %d %v", st, body)
	}
	ae.wait("the rating in the conversation", messageOf(func(m *support.Message) bool {
		return m.Conversation == conv && m.Text == "Ada rated the video call 5 of 5. “Quick and kind”"
	}))
	call, err := srv.Data.Store.Call(ctx, v.Room)
	if err != nil || call.Rating != 5 || call.Comment != "Quick and kind" || call.Conversation != conv {
		t.Fatalf("stored call %+v, %v", call, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		evs, _ := srv.Data.Store.Events(ctx, v.Room, 100)
		found := false
		for _, e := range evs {
			found = found || e.Kind == "rating" && strings.Contains(e.Detail, `"rating":5`)
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rating in the meeting's events: %+v", evs)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A second video call is allowed now; closing the conversation ends it.
	agent.StartVideo(conv)
	v2 := ae.wait("a second video call", func(ev support.Event) bool { x, ok := ev.(*support.Video); return ok && x.Room != v.Room }).(*support.Video)
	agent.CloseConversation(conv)
	ce.wait("closed", func(ev support.Event) bool { c, ok := ev.(*support.Closed); return ok && c.By == "Sam" })
	ae.wait("the second call ended by the close", func(ev support.Event) bool { e, ok := ev.(*support.VideoEnded); return ok && e.Room == v2.Room })
	ae.wait("closed in the list", summaryOf(conv, func(s *support.Summary) bool { return s.Status == support.StatusClosed }))
	cust.Send("m-late", "hello?")
	ce.wait("no more messages", errorOf(support.CodeConversationClosed))
	cust.Close()

	// After a restart the customer resumes after what they had.
	var had int64
	for _, ev := range ce.ev {
		if m, ok := ev.(*support.Message); ok && m.Seq > had && m.Text != "Sam closed the conversation." {
			had = m.Seq
		}
	}
	agent.Close()
	srv.Restart()
	cust2, err := support.DialCustomer(ctx, srv.URL, conv, nc.Key, had)
	if err != nil {
		t.Fatal(err)
	}
	defer cust2.Close()
	if cust2.State.Status != support.StatusClosed || cust2.State.ClosedBy != "Sam" || len(cust2.State.Messages) == 0 ||
		cust2.State.Messages[len(cust2.State.Messages)-1].Text != "Sam closed the conversation." || cust2.State.Messages[0].Seq != had+1 {
		t.Fatalf("after the restart: %+v", cust2.State)
	}
	all, _, _ := srv.Data.Store.SupportMessages(ctx, conv, 0, 0, 200)
	if len(all) < 8 {
		t.Errorf("%d messages stored", len(all))
	}
}

// TestSupportTwoCustomersOneAgent: one agent gets both conversations with
// their own unread counts, and each customer sees only their own.
func TestSupportTwoCustomersOneAgent(t *testing.T) {
	srv := servertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	agent, err := support.DialAgent(ctx, srv.URL, addAgent(t, srv, "Sam"))
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	ae := &events{t: t, ch: agent.Events()}
	var convs [2]support.NewConversation
	var custs [2]*events
	for i, name := range []string{"Ada", "Bob"} {
		if convs[i], err = support.CreateConversation(ctx, srv.URL, name, "", "Hello from "+name); err != nil {
			t.Fatal(err)
		}
		c, err := support.DialCustomer(ctx, srv.URL, convs[i].Conversation, convs[i].Key, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		custs[i] = &events{t: t, ch: c.Events()}
		c.Send("m-2", "Second from "+name)
	}
	for i := range convs {
		ae.wait("two unread in each", summaryOf(convs[i].Conversation, func(s *support.Summary) bool { return s.Unread == 2 }))
	}
	for i, name := range []string{"Ada", "Bob"} {
		agent.Send(convs[i].Conversation, "r-1", "Hi "+name)
	}
	for i, name := range []string{"Ada", "Bob"} {
		custs[i].wait("the answer", messageOf(func(m *support.Message) bool { return m.Text == "Hi "+name }))
		for _, ev := range custs[i].ev {
			if m, ok := ev.(*support.Message); ok && strings.Contains(m.Text, "Hi ") && m.Text != "Hi "+name {
				t.Errorf("%s got another's message %q", name, m.Text)
			}
		}
	}
	// A second agent connection (another window) sees the same list.
	agent2, err := support.DialAgent(ctx, srv.URL, addAgent(t, srv, "Kim"))
	if err != nil {
		t.Fatal(err)
	}
	defer agent2.Close()
	r := (<-agent2.Events()).(*support.Ready)
	if len(r.Conversations) != 2 {
		t.Fatalf("the second agent sees %d conversations", len(r.Conversations))
	}
}

// TestSupportRefusals: wrong agent and customer keys are refused and,
// after 10, the address gets 429; new conversations are validated and
// limited per address.
func TestSupportRefusals(t *testing.T) {
	srv := servertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	key := addAgent(t, srv, "Sam")
	id, _, _ := support.SplitAgentKey(key)
	_, other, _, _ := support.NewAgentKey()
	_, wrongSecret, _ := support.SplitAgentKey(other)
	for _, bad := range []string{"", "nonsense", id + "." + wrongSecret, other} {
		_, err := support.DialAgent(ctx, srv.URL, bad)
		var e *support.Error
		if !errors.As(err, &e) || e.Code != support.CodeAgentKeyInvalid {
			t.Fatalf("key %q: %v, want agent_key_invalid", bad, err)
		}
	}
	nc, err := support.CreateConversation(ctx, srv.URL, "Ada", "", "hi")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		_, err := support.DialCustomer(ctx, srv.URL, nc.Conversation, fmt.Sprint("wrong", i), 0)
		var e *support.Error
		if !errors.As(err, &e) || e.Code != support.CodeSupportKeyInvalid {
			t.Fatalf("wrong customer key %d: %v", i, err)
		}
	}
	// 4 + 6 = 10 misses: the right key is refused now too.
	_, err = support.DialAgent(ctx, srv.URL, key)
	var e *support.Error
	if !errors.As(err, &e) || e.Code != "rate_limited" {
		t.Fatalf("after 10 wrong keys: %v, want rate_limited", err)
	}

	for _, tc := range []struct{ name, email, text string }{
		{"", "", "hi"}, {" Ada", "", "hi"}, {strings.Repeat("x", 65), "", "hi"},
		{"Ada", "not-an-address", "hi"}, {"Ada", "a b@example.com", "hi"}, {"Ada", strings.Repeat("a", 250) + "@example.com", "hi"},
		{"Ada", "", ""}, {"Ada", "", strings.Repeat("x", 4097)}, {"Ada", "", "bell\a"},
	} {
		_, err := support.CreateConversation(ctx, srv.URL, tc.name, tc.email, tc.text)
		var e *support.Error
		if !errors.As(err, &e) || (e.Code != "bad_message" && e.Code != "too_large") {
			t.Errorf("%+v: %v", tc, err)
		}
	}
	// One made above; four more (the first with the longest text, which
	// JSON doubles), then 429.
	for i := range 5 {
		text := "hi"
		if i == 0 {
			text = strings.Repeat(`"`, 4096)
		}
		_, err := support.CreateConversation(ctx, srv.URL, "Ada", "", text)
		var e *support.Error
		if i < 4 && err != nil || i == 4 && (!errors.As(err, &e) || e.Code != "rate_limited") {
			t.Fatalf("conversation %d: %v", i+2, err)
		}
	}
	if open, _ := srv.Data.Store.OpenConversations(ctx); len(open) != 5 {
		t.Errorf("%d conversations stored, want 5", len(open))
	}
}

// TestSupportAgentReconnects: an agent's connection survives a server
// restart: Disconnected, then Ready again with the conversations, and
// sending works again.
func TestSupportAgentReconnects(t *testing.T) {
	srv := servertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	agent, err := support.DialAgent(ctx, srv.URL, addAgent(t, srv, "Sam"))
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	ae := &events{t: t, ch: agent.Events()}
	nc, err := support.CreateConversation(ctx, srv.URL, "Ada", "", "hello")
	if err != nil {
		t.Fatal(err)
	}
	ae.wait("the conversation", summaryOf(nc.Conversation, func(s *support.Summary) bool { return s.New }))
	srv.Restart()
	ae.wait("disconnected", func(ev support.Event) bool { _, ok := ev.(support.Disconnected); return ok })
	ae.wait("ready again with the conversation", func(ev support.Event) bool {
		r, ok := ev.(*support.Ready)
		return ok && len(r.Conversations) == 1 && r.Conversations[0].ID == nc.Conversation
	})
	if err := agent.Send(nc.Conversation, "r-1", "Back again"); err != nil {
		t.Fatal(err)
	}
	ae.wait("the reply stored", messageOf(func(m *support.Message) bool { return m.Text == "Back again" && m.Seq == 2 }))
}

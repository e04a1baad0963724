package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestSupportConversation(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	if err := s.AddAgent(ctx, Agent{ID: "a-1", Name: "Sam", KeyHash: []byte("h1"), Created: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAgent(ctx, Agent{ID: "a-1", Name: "Other", KeyHash: []byte("h2")}); !errors.Is(err, ErrExists) {
		t.Fatalf("second agent a-1: %v", err)
	}
	first, err := s.CreateConversation(ctx, Conversation{ID: "c-1", KeyHash: []byte("k"), Name: "Ada", Email: "ada@example.com", Created: t0},
		SupportMessage{ID: "m-1", Name: "Ada", Text: "My order is late"})
	if err != nil || first.Seq != 1 || first.From != SenderCustomer {
		t.Fatalf("create = %+v, %v", first, err)
	}
	if _, err := s.CreateConversation(ctx, Conversation{ID: "c-1", KeyHash: []byte("k"), Name: "Eve"}, SupportMessage{ID: "m", Text: "x"}); !errors.Is(err, ErrExists) {
		t.Fatalf("second c-1: %v", err)
	}
	app := func(from, id, text string, at time.Time) SupportMessage {
		t.Helper()
		m, dup, err := s.AppendSupportMessage(ctx, SupportMessage{Conversation: "c-1", ID: id, From: from, Name: from, Text: text, At: at})
		if err != nil || dup {
			t.Fatalf("append %s: %+v %v %v", id, m, dup, err)
		}
		return m
	}
	app(SenderCustomer, "m-2", "Order 1234", t0.Add(time.Second))
	sum, err := s.ConversationSummary(ctx, "c-1")
	if err != nil || sum.Unread != 2 || !sum.WaitingSince.Equal(t0) || sum.Last.Text != "Order 1234" || sum.Last.Seq != 2 {
		t.Fatalf("summary after two customer messages = %+v, %v", sum, err)
	}
	app("a-1", "r-1", "Looking into it", t0.Add(time.Minute))
	if err := s.MarkRead(ctx, "c-1", 3); err != nil {
		t.Fatal(err)
	}
	sum, _ = s.ConversationSummary(ctx, "c-1")
	if sum.Unread != 0 || !sum.WaitingSince.IsZero() || sum.Last.From != "a-1" {
		t.Fatalf("summary after the agent's answer = %+v", sum)
	}
	app(SenderCustomer, "m-3", "Thanks", t0.Add(2*time.Minute))
	sum, _ = s.ConversationSummary(ctx, "c-1")
	if sum.Unread != 1 || !sum.WaitingSince.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("summary after a new customer message = %+v", sum)
	}
	// A resend is stored once.
	m, dup, err := s.AppendSupportMessage(ctx, SupportMessage{Conversation: "c-1", ID: "m-3", From: SenderCustomer, Text: "Thanks again"})
	if err != nil || !dup || m.Seq != 4 || m.Text != "Thanks" {
		t.Fatalf("resend = %+v %v %v", m, dup, err)
	}
	// Paging.
	msgs, more, err := s.SupportMessages(ctx, "c-1", 0, 0, 2)
	if err != nil || !more || len(msgs) != 2 || msgs[0].Seq != 3 || msgs[1].Seq != 4 {
		t.Fatalf("newest page = %+v %v %v", msgs, more, err)
	}
	msgs, more, _ = s.SupportMessages(ctx, "c-1", 2, 0, 10)
	if more || len(msgs) != 2 || msgs[0].Seq != 3 {
		t.Fatalf("after 2 = %+v %v", msgs, more)
	}
	if open, err := s.OpenConversations(ctx); err != nil || len(open) != 1 || open[0].ID != "c-1" {
		t.Fatalf("open = %+v, %v", open, err)
	}

	// Calls and their rating.
	if err := s.CreateCall(ctx, SupportCall{Room: "support-x", Conversation: "c-1", Agent: "a-1", Created: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RateCall(ctx, "support-x", 6, "", t0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("rating 6: %v", err)
	}
	c, err := s.RateCall(ctx, "support-x", 5, "Quick and kind", t0.Add(time.Hour))
	if err != nil || c.Rating != 5 || c.Comment != "Quick and kind" || c.Conversation != "c-1" {
		t.Fatalf("rate = %+v, %v", c, err)
	}
	if _, err := s.RateCall(ctx, "support-x", 1, "changed my mind", t0); !errors.Is(err, ErrRated) {
		t.Fatalf("second rating: %v", err)
	}
	if _, err := s.RateCall(ctx, "nope", 3, "", t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rating no call: %v", err)
	}

	// Closing: the customer and agents can no longer write, the system can.
	cc, err := s.CloseConversation(ctx, "c-1", "Sam", t0.Add(3*time.Hour))
	if err != nil || cc.Closed.IsZero() || cc.ClosedBy != "Sam" {
		t.Fatalf("close = %+v, %v", cc, err)
	}
	if _, _, err := s.AppendSupportMessage(ctx, SupportMessage{Conversation: "c-1", ID: "m-9", From: SenderCustomer, Text: "hello?"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("customer after close: %v", err)
	}
	if _, _, err := s.AppendSupportMessage(ctx, SupportMessage{Conversation: "c-1", ID: "s-9", From: SenderSystem, Text: "closed"}); err != nil {
		t.Fatalf("system after close: %v", err)
	}
	if _, _, err := s.AppendSupportMessage(ctx, SupportMessage{Conversation: "c-x", ID: "m", From: SenderCustomer, Text: "x"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown conversation: %v", err)
	}
	if open, _ := s.OpenConversations(ctx); len(open) != 0 {
		t.Fatalf("open after close = %+v", open)
	}

	// Everything survives a reopen.
	s.Close()
	s2, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	all, _, err := s2.SupportMessages(ctx, "c-1", 0, 0, 100)
	if err != nil || len(all) != 5 {
		t.Fatalf("after reopen: %d messages, %v", len(all), err)
	}
	if c, err := s2.Call(ctx, "support-x"); err != nil || c.Rating != 5 {
		t.Fatalf("call after reopen = %+v, %v", c, err)
	}
	if err := s2.RemoveAgent(ctx, "a-1", t0); err != nil {
		t.Fatal(err)
	}
	if a, err := s2.Agent(ctx, "a-1"); err != nil || a.Removed.IsZero() {
		t.Fatalf("removed agent = %+v, %v", a, err)
	}
	if err := s2.RemoveAgent(ctx, "a-9", t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove unknown: %v", err)
	}
}

// TestSupportMessagesConcurrent appends from many goroutines: seqs have no
// gaps and no duplicates.
func TestSupportMessagesConcurrent(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	if _, err := s.CreateConversation(ctx, Conversation{ID: "c", KeyHash: []byte("k"), Name: "N"}, SupportMessage{ID: "0", Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			if _, _, err := s.AppendSupportMessage(ctx, SupportMessage{Conversation: "c", ID: fmt.Sprint("m", i), From: SenderCustomer, Text: "x"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	msgs, _, _ := s.SupportMessages(ctx, "c", 0, 0, 100)
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Fatalf("message %d has seq %d", i, m.Seq)
		}
	}
	if len(msgs) != 41 {
		t.Fatalf("%d messages", len(msgs))
	}
}

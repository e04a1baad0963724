package main

import (
	"context"
	"slices"
	"time"

	"github.com/confab/confab/signaling/meeting"
	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/ui"
)

// CallSummary implements ui.CallSummarizer for a call on the built-in
// server: the server's own analytics of the meeting (the same figures as
// confab-server meetings), read from its database. Calls on another server
// answer false and the app shows what it counted itself.
func (c *call) CallSummary() (ui.CallSummary, bool) {
	e := c.b.server()
	if e == nil || e.dataDir == "" {
		return ui.CallSummary{}, false
	}
	dd, err := server.OpenDataDir(e.dataDir)
	if err != nil {
		c.b.log.Warn("call summary", "err", err)
		return ui.CallSummary{}, false
	}
	defer dd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	self := c.Session.Self().ID
	ms, err := dd.Store.Meetings(ctx, store.MeetingFilter{Room: c.Session.Room(), Limit: 5})
	if err != nil {
		c.b.log.Warn("call summary", "err", err)
		return ui.CallSummary{}, false
	}
	now := time.Now()
	for _, m := range ms { // newest first: the one this call was in
		a, err := meeting.Load(ctx, dd.Store, m, now)
		if err != nil {
			c.b.log.Warn("call summary", "err", err)
			return ui.CallSummary{}, false
		}
		if !slices.ContainsFunc(a.Participants, func(p meeting.Participant) bool { return p.Identity == self }) {
			continue
		}
		s := ui.CallSummary{Room: a.Room, Duration: time.Duration(a.DurationMS) * time.Millisecond}
		for _, p := range a.Participants {
			s.People = append(s.People, ui.SummaryPerson{Name: p.Name, You: p.Identity == self, Talk: time.Duration(p.TalkMS) * time.Millisecond})
		}
		return s, true
	}
	return ui.CallSummary{}, false
}

var _ ui.CallSummarizer = (*call)(nil)

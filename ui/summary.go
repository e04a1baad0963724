package ui

import (
	"fmt"
	"image/color"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/confab/confab/signaling/client"
)

// CallSummary is what the app shows after the user leaves a call: how long
// it lasted, who was there and each person's talk time.
type CallSummary struct {
	Room     string
	Duration time.Duration
	People   []SummaryPerson // in order of arrival
}

// SummaryPerson is one person of a CallSummary.
type SummaryPerson struct {
	Name string
	You  bool
	Talk time.Duration
}

// CallSummarizer is implemented by a Call that can give its own summary
// (the server's analytics of the meeting, say). CallSummary runs on a
// background goroutine; ok false means the app's own count is shown.
type CallSummarizer interface {
	CallSummary() (s CallSummary, ok bool)
}

// callSummary counts, from the call's events, who was there and how long
// each person was among the speakers the server announced. The call
// screen's handle alone calls note; result is called on the UI goroutine
// after the call is left.
type callSummary struct {
	room    string
	start   time.Time
	selfID  string
	order   []string
	names   map[string]string
	talk    map[string]time.Duration
	talking map[string]time.Time // who speaks now, since when
}

// note takes one event of the call at now.
func (s *callSummary) note(ev client.Event, now time.Time) {
	if s.names == nil {
		s.names, s.talk, s.talking = map[string]string{}, map[string]time.Duration{}, map[string]time.Time{}
	}
	add := func(p client.Participant) {
		if _, ok := s.names[p.ID]; !ok {
			s.order = append(s.order, p.ID)
		}
		s.names[p.ID] = p.Name
	}
	switch e := ev.(type) {
	case client.Welcome:
		if s.start.IsZero() {
			s.start = now
		}
		s.room, s.selfID = e.Room, e.You.ID
		add(e.You)
		for _, p := range e.Participants {
			add(p)
		}
	case client.ParticipantJoined:
		add(e.Participant)
	case client.ParticipantUpdated:
		add(e.Participant)
	case client.ParticipantLeft:
		s.stopTalking(e.ID, now)
	case client.SpeakersChanged:
		on := map[string]bool{}
		for _, sp := range e.Speakers {
			on[sp.ID] = true
			if _, ok := s.talking[sp.ID]; !ok {
				s.talking[sp.ID] = now
			}
		}
		for id := range s.talking {
			if !on[id] {
				s.stopTalking(id, now)
			}
		}
	case client.StateChanged:
		if e.State != client.StateConnected {
			for id := range s.talking {
				s.stopTalking(id, now)
			}
		}
	}
}

func (s *callSummary) stopTalking(id string, now time.Time) {
	if since, ok := s.talking[id]; ok {
		s.talk[id] += now.Sub(since)
		delete(s.talking, id)
	}
}

// result returns the summary as of now; ok is false for a call that never
// started.
func (s *callSummary) result(now time.Time) (CallSummary, bool) {
	if s.start.IsZero() {
		return CallSummary{}, false
	}
	for id := range s.talking {
		s.stopTalking(id, now)
	}
	out := CallSummary{Room: s.room, Duration: now.Sub(s.start)}
	for _, id := range s.order {
		out.People = append(out.People, SummaryPerson{Name: s.names[id], You: id == s.selfID, Talk: s.talk[id]})
	}
	return out, true
}

// SummaryView is the post-call summary: a card over the entry screen.
type SummaryView struct {
	Content fyne.CanvasObject
	// Done closes the summary.
	Done *widget.Button
	// Subtitle says what the call was, how long it lasted and how many
	// were in it.
	Subtitle *canvas.Text
	// Bars are the talk-share bars, one per person, in People order.
	Bars []*canvas.Rectangle

	popup *widget.PopUp
}

// summaryBarWidth is the width of a 100% talk-share bar.
const summaryBarWidth = 260

// newSummaryView builds the summary card of s; done runs on "Close".
func newSummaryView(s CallSummary, done func()) *SummaryView {
	v := &SummaryView{Done: widget.NewButton("Close", done)}
	v.Done.Importance = widget.HighImportance
	title := canvas.NewText("Call ended", colorText)
	title.TextSize = 22
	title.TextStyle.Bold = true
	sub := canvas.NewText(fmt.Sprintf("%s · %s · %d %s", s.Room, formatCallDuration(s.Duration), len(s.People), plural(len(s.People), "person", "people")), colorTextDim)
	sub.TextSize = 14
	v.Subtitle = sub

	var total time.Duration
	for _, p := range s.People {
		total += p.Talk
	}
	people := slices.Clone(s.People)
	rows := container.New(layout.NewFormLayout())
	for _, p := range people {
		name := p.Name
		if p.You {
			name += " (you)"
		}
		share := 0.0
		if total > 0 {
			share = float64(p.Talk) / float64(total)
		}
		label := canvas.NewText(name, colorText)
		label.TextSize = 14
		track := canvas.NewRectangle(colorTile)
		track.SetMinSize(fyne.NewSize(summaryBarWidth, 14))
		track.CornerRadius = 4
		bar := canvas.NewRectangle(colorSpeaking)
		bar.CornerRadius = 4
		w := float32(share * summaryBarWidth)
		bar.SetMinSize(fyne.NewSize(w, 14))
		v.Bars = append(v.Bars, bar)
		pct := canvas.NewText(fmt.Sprintf("%3.0f%%  %s", share*100, formatCallDuration(p.Talk)), colorTextDim)
		pct.TextSize = 13
		barBox := container.NewStack(track, container.NewHBox(bar))
		rows.Add(container.NewPadded(label))
		rows.Add(container.NewHBox(container.NewPadded(barBox), container.NewCenter(pct)))
	}
	heading := canvas.NewText("Share of talk time", colorTextDim)
	heading.TextSize = 13
	gap := canvas.NewRectangle(color.Transparent)
	gap.SetMinSize(fyne.NewSize(1, 10))
	body := container.NewVBox(title, sub, gap, heading, rows, container.NewHBox(layout.NewSpacer(), v.Done))
	if total == 0 {
		none := canvas.NewText("Nobody was heard speaking.", colorTextDim)
		none.TextSize = 13
		body.Objects = slices.Insert(body.Objects, 4, fyne.CanvasObject(none))
	}
	bg := canvas.NewRectangle(colorBar)
	bg.CornerRadius = 12
	v.Content = container.NewStack(bg, container.New(layout.NewCustomPaddedLayout(20, 20, 24, 24), body))
	return v
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// formatCallDuration writes d as 1:02:03, 2:03 or 12 s.
func formatCallDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	case m > 0:
		return fmt.Sprintf("%d:%02d", m, sec)
	}
	return fmt.Sprintf("%d s", sec)
}

// showSummary goes back to the entry screen after the user left the call
// cs and shows the call's summary over it: the call's own when it can give
// one (CallSummarizer), else what the app counted. Tapping "Close" or
// outside the card closes it; so does the next call. A call that never
// started shows none.
func (a *App) showSummary(cs *CallScreen) {
	a.showEntry("")
	own, ok := cs.summary.result(time.Now())
	if !ok || a.closing {
		return
	}
	// A call between people is named for who was in it ("Call with
	// Ben"), not for its call-… room.
	title := cs.req.Title
	if title != "" {
		own.Room = title
	}
	shown := a.openSummary(own)
	sz, ok := cs.call.(CallSummarizer)
	if !ok {
		return
	}
	go func() {
		s, ok := sz.CallSummary()
		if !ok {
			return
		}
		if title != "" {
			s.Room = title
		}
		a.do(func() {
			if a.summary == shown && shown.popup.Visible() {
				a.openSummary(s)
			}
		})
	}()
}

// openSummary shows s over the current screen, in place of the summary
// shown before, if any.
func (a *App) openSummary(s CallSummary) *SummaryView {
	a.closeSummary()
	v := newSummaryView(s, a.closeSummary)
	v.popup = widget.NewPopUp(v.Content, a.win.Canvas())
	cs, ps := a.win.Canvas().Size(), v.Content.MinSize()
	v.popup.ShowAtPosition(fyne.NewPos(max(0, (cs.Width-ps.Width)/2), max(0, (cs.Height-ps.Height)/2)))
	a.summary = v
	return v
}

// closeSummary closes the post-call summary, if one is shown.
func (a *App) closeSummary() {
	if a.summary != nil {
		a.summary.popup.Hide()
		a.summary = nil
	}
}

// Summary returns the post-call summary on screen, nil if none.
func (a *App) Summary() *SummaryView { return a.summary }

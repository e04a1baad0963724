package ui

import (
	"fmt"
	"image/color"
	"sort"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/confab/confab/assets/sounds"
	"github.com/confab/confab/signaling/client"
)

// Presence is implemented by a Call that can raise the user's hand and
// send emoji reactions (PROTOCOL.md: set_hand, react). Both are called
// from background goroutines.
type Presence interface {
	SetHandRaised(raised bool) error
	React(emoji string) error
}

// reactionTime is how long a reaction floats over the sender's tile; a
// variable so tests can shorten it.
var reactionTime = 4 * time.Second

// shortcutHand raises or lowers the hand.
var shortcutHand = shortcut{key: fyne.KeyH, shift: true}

// handOrder numbers the raised hands 1, 2, ... in the order they went up,
// as Meet and Zoom list them; a participant without a raised hand is not
// in the map.
func (m *callModel) handOrder() map[string]int {
	var up []client.Participant
	for _, p := range m.people {
		if p.HandRaisedAt > 0 {
			up = append(up, p)
		}
	}
	sort.Slice(up, func(i, j int) bool {
		if up[i].HandRaisedAt != up[j].HandRaisedAt {
			return up[i].HandRaisedAt < up[j].HandRaisedAt
		}
		return up[i].ID < up[j].ID
	})
	out := make(map[string]int, len(up))
	for i, p := range up {
		out[p.ID] = i + 1
	}
	return out
}

// toggleHand raises or lowers the user's hand: at once on screen, then
// through the call; a refusal puts it back and says why.
func (cs *CallScreen) toggleHand() {
	pr, ok := cs.call.(Presence)
	if !ok {
		return
	}
	was := cs.model.self.HandRaisedAt
	raise := was == 0
	cs.setSelf(func(p *client.Participant) {
		if raise {
			p.HandRaisedAt = time.Now().UnixMilli()
		} else {
			p.HandRaisedAt = 0
		}
	}, func() error { return pr.SetHandRaised(raise) },
		func(p *client.Participant) { p.HandRaisedAt = was }, "Couldn't change your raised hand")
}

// showReactions opens the reaction picker above its button.
func (cs *CallScreen) showReactions() {
	if cs.detached {
		return
	}
	c := cs.app.win.Canvas()
	row := container.NewHBox()
	var pop *widget.PopUp
	cs.ReactionButtons = cs.ReactionButtons[:0]
	for _, e := range client.Reactions {
		emoji := e
		b := newEmojiButton(emoji, func() {
			pop.Hide()
			cs.react(emoji)
		})
		cs.ReactionButtons = append(cs.ReactionButtons, b)
		row.Add(b)
	}
	pop = widget.NewPopUp(row, c)
	cs.reactions = pop
	size := pop.MinSize()
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(cs.controls.React)
	x := min(pos.X-size.Width/2+controlSize/2, c.Size().Width-size.Width-8)
	pop.ShowAtPosition(fyne.NewPos(max(x, 8), max(pos.Y-size.Height-8, 8)))
}

// ReactionsOpen reports whether the reaction picker shows.
func (cs *CallScreen) ReactionsOpen() bool { return cs.reactions != nil && cs.reactions.Visible() }

// react sends a reaction; the server echoes it to everyone, the user
// included, so the user's tile shows it when it comes back.
func (cs *CallScreen) react(emoji string) {
	pr, ok := cs.call.(Presence)
	if !ok || cs.detached {
		return
	}
	do := cs.app.do
	cs.ops <- func() {
		if err := pr.React(emoji); err != nil {
			do(func() {
				if !cs.detached {
					cs.showNotice("Couldn't send the reaction. " + causeText(err, cs.req.Server))
				}
			})
		}
	}
}

// reactionArrived floats a reaction over the sender's camera tile.
func (cs *CallScreen) reactionArrived(e client.ReactionReceived) {
	t := cs.tiles[tileKey(e.From, false)]
	if t == nil {
		return
	}
	gen := t.showReaction(e.Emoji)
	do := cs.app.do
	time.AfterFunc(reactionTime, func() {
		do(func() { t.clearReaction(gen) })
	})
}

// handNotice announces a hand going up, with a sound; the user's own hand
// and hands already up when the user joined are not announced.
func (cs *CallScreen) handNotice(before client.Participant, known bool, after client.Participant) {
	if !known || after.ID == cs.model.selfID || before.HandRaisedAt != 0 || after.HandRaisedAt == 0 {
		return
	}
	cs.announce(after.Name+" raised their hand", sounds.Hand)
}

// handText is what a tile's hand badge says.
func handText(order int) string { return fmt.Sprintf("✋ %d", order) }

// emojiButton is a large emoji that can be clicked: one choice of the
// reaction picker.
type emojiButton struct {
	widget.BaseWidget
	// Emoji is the reaction it sends.
	Emoji   string
	tapped  func()
	hovered bool
}

func newEmojiButton(emoji string, tapped func()) *emojiButton {
	b := &emojiButton{Emoji: emoji, tapped: tapped}
	b.ExtendBaseWidget(b)
	return b
}

// Tapped sends the reaction.
func (b *emojiButton) Tapped(*fyne.PointEvent) { b.tapped() }

// MouseIn highlights the button.
func (b *emojiButton) MouseIn(*desktop.MouseEvent) { b.hovered = true; b.Refresh() }

// MouseMoved does nothing.
func (b *emojiButton) MouseMoved(*desktop.MouseEvent) {}

// MouseOut removes the highlight.
func (b *emojiButton) MouseOut() { b.hovered = false; b.Refresh() }

// Cursor shows a pointing hand.
func (b *emojiButton) Cursor() desktop.Cursor { return desktop.PointerCursor }

// CreateRenderer builds the renderer.
func (b *emojiButton) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(color.Transparent)
	bg.CornerRadius = 8
	text := canvas.NewText(b.Emoji, colorText)
	text.TextSize = 28
	text.Alignment = fyne.TextAlignCenter
	return &emojiRenderer{b: b, bg: bg, text: text}
}

type emojiRenderer struct {
	b    *emojiButton
	bg   *canvas.Rectangle
	text *canvas.Text
}

func (r *emojiRenderer) MinSize() fyne.Size { return fyne.NewSize(48, 48) }

func (r *emojiRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	ts := r.text.MinSize()
	r.text.Move(fyne.NewPos(0, (size.Height-ts.Height)/2))
	r.text.Resize(fyne.NewSize(size.Width, ts.Height))
}

func (r *emojiRenderer) Refresh() {
	if r.b.hovered {
		r.bg.FillColor = colorButtonHov
	} else {
		r.bg.FillColor = color.Transparent
	}
	r.bg.Refresh()
	r.text.Refresh()
}

func (r *emojiRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.bg, r.text} }

func (r *emojiRenderer) Destroy() {}

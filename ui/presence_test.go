package ui

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/confab/confab/assets/sounds"
	"github.com/confab/confab/signaling/client"
)

func TestRaiseHand(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox, walter)
	b := cs.Controls().Hand
	if b.Tooltip() != "Raise your hand (Ctrl+Shift+H)" {
		t.Errorf("hand button tooltip %q", b.Tooltip())
	}
	test.Tap(b)
	if cs.Tile("p0").Hand() != 1 || b.look != lookActive || b.Tooltip() != "Lower your hand (Ctrl+Shift+H)" {
		t.Errorf("after raising: own badge %d, look %v, tooltip %q", cs.Tile("p0").Hand(), b.look, b.Tooltip())
	}
	eventually(t, "the call is asked to raise the hand", func() (ok bool) {
		c.get(func(c *fakeCall) { ok = slices.Equal(c.hands, []bool{true}) })
		return
	})
	if cs.Notice() != "" {
		t.Errorf("own hand announced: %q", cs.Notice())
	}

	// Someone else raises theirs later: second in the order, announced
	// with a sound.
	self := client.Participant{ID: "p0", Name: "Dana", Mic: true, Camera: true, HandRaisedAt: 1000}
	h.send(cs, c, client.ParticipantUpdated{Participant: self})
	up := walter
	up.HandRaisedAt = 2000
	h.send(cs, c, client.ParticipantUpdated{Participant: up})
	if cs.Tile("p2").Hand() != 2 || cs.Tile("p0").Hand() != 1 || cs.Tile("p1").Hand() != 0 {
		t.Errorf("hand order: Dana %d, Walter %d, Fox %d", cs.Tile("p0").Hand(), cs.Tile("p2").Hand(), cs.Tile("p1").Hand())
	}
	if cs.Notice() != "Walter Skinner raised their hand" {
		t.Errorf("notice %q", cs.Notice())
	}
	eventually(t, "the hand sound", func() (ok bool) {
		c.get(func(c *fakeCall) { ok = slices.Contains(c.sounds, sounds.Hand) })
		return
	})
	// The same state again is not announced again.
	h.send(cs, c, client.ParticipantUpdated{Participant: up})

	// Lowering with the shortcut; the others move up.
	cs.handleShortcut(shortcutHand.fyne())
	self.HandRaisedAt = 0
	h.send(cs, c, client.ParticipantUpdated{Participant: self})
	if cs.Tile("p0").Hand() != 0 || cs.Tile("p2").Hand() != 1 {
		t.Errorf("after lowering: Dana %d, Walter %d", cs.Tile("p0").Hand(), cs.Tile("p2").Hand())
	}
	eventually(t, "the call is asked to lower the hand", func() (ok bool) {
		c.get(func(c *fakeCall) { ok = slices.Equal(c.hands, []bool{true, false}) })
		return
	})
	c.get(func(c *fakeCall) {
		if n := len(slices.DeleteFunc(slices.Clone(c.sounds), func(s string) bool { return s != sounds.Hand })); n != 1 {
			t.Errorf("%d hand sounds, want 1: %v", n, c.sounds)
		}
	})
}

func TestReactions(t *testing.T) {
	old := reactionTime
	reactionTime = 300 * time.Millisecond
	defer func() { reactionTime = old }()
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox)

	test.Tap(cs.Controls().React)
	if !cs.ReactionsOpen() || len(cs.ReactionButtons) != len(client.Reactions) {
		t.Fatalf("picker open %v with %d choices, want %d", cs.ReactionsOpen(), len(cs.ReactionButtons), len(client.Reactions))
	}
	pick := cs.ReactionButtons[1]
	test.Tap(pick)
	if cs.ReactionsOpen() {
		t.Error("the picker stays open after a choice")
	}
	eventually(t, "the call sends the reaction", func() (ok bool) {
		c.get(func(c *fakeCall) { ok = slices.Equal(c.reacts, []string{pick.Emoji}) })
		return
	})

	// Reactions come back from the server, the user's own included.
	h.send(cs, c, client.ReactionReceived{From: "p1", Emoji: "🎉", At: time.Now()})
	h.send(cs, c, client.ReactionReceived{From: "p0", Emoji: pick.Emoji, At: time.Now()})
	h.send(cs, c, client.ReactionReceived{From: "nobody", Emoji: "🎉", At: time.Now()}) // ignored
	if cs.Tile("p1").Reaction() != "🎉" || cs.Tile("p0").Reaction() != pick.Emoji {
		t.Errorf("reactions shown: Fox %q, Dana %q", cs.Tile("p1").Reaction(), cs.Tile("p0").Reaction())
	}
	h.q.until(t, "the reactions fade", func() bool {
		return cs.Tile("p1").Reaction() == "" && cs.Tile("p0").Reaction() == ""
	})
	// A newer reaction is not cut short by the older one's timer.
	tile := cs.Tile("p1")
	first := tile.showReaction("👍")
	tile.showReaction("😂")
	tile.clearReaction(first)
	if got := tile.Reaction(); got != "😂" {
		t.Errorf("the newer reaction was cut short: %q", got)
	}
}

package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/confab/confab/ui"
)

// TestAppTour goes through what people do in a call besides talking, in
// the real app under Xvfb with a bot: join with the microphone and camera
// off, see a join notice, chat in Chinese, Japanese, Korean and emoji,
// raise a hand and react (and see a bot's hand and reaction), switch to
// speaker view, and share the screen through the picker and its
// "presenting" bar. With CONFAB_SCREENSHOTS set it keeps a window capture
// of each step.
func TestAppTour(t *testing.T) {
	if e2e.skip != "" {
		t.Skip(e2e.skip)
	}
	entry := e2e.ui.Entry()
	waitUI(t, 30*time.Second, "entry screen ready", func() (bool, string) {
		return e2e.ui.Call() == nil && entry.JoinButton.Visible() && !entry.JoinButton.Disabled(), "join button not ready"
	})

	// Join muted, with the camera off.
	onUI(func() {
		entry.RoomEntry.SetText("tour")
		entry.MicToggle.OnTapped()
		entry.CameraToggle.OnTapped()
	})
	waitUI(t, 10*time.Second, "the entry screen says the camera will be off", func() (bool, string) {
		return entry.PreviewNote.Visible() && strings.Contains(entry.PreviewNote.Text, "off"), entry.PreviewNote.Text
	})
	screenshot(t, "tour-entry-muted.png")
	onUI(func() { entry.JoinButton.OnTapped() })
	var cs *ui.CallScreen
	t.Cleanup(func() { // a failed step still leaves the call, for the next test
		onUI(func() {
			if c := e2e.ui.Call(); c != nil {
				c.Controls().Leave.OnTapped()
			}
		})
	})
	waitUI(t, 60*time.Second, "in the call, muted, camera off, alone", func() (bool, string) {
		cs = e2e.ui.Call()
		if cs == nil || cs.Tile(selfID(cs)) == nil {
			return false, "no call screen yet"
		}
		own := cs.Tile(selfID(cs))
		return own.MicMuted() && own.CameraOff() && cs.Alone(), fmt.Sprintf("muted %v, camera off %v, alone %v", own.MicMuted(), own.CameraOff(), cs.Alone())
	})
	screenshot(t, "tour-joined-muted.png")

	// A bot joins: a notice says so. After the notice it raises its hand
	// and reacts.
	bot := exec.Command(e2e.bot, "--server", e2e.emb.URL, "--room", "tour", "--name", "Grace",
		"--duration", "1800s", "--fps", "5", "--presence-after", "8s", "--raise-hand", "--react", "🎉", "--react-every", "2s")
	if err := bot.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = bot.Process.Kill()
		_ = bot.Wait()
	})
	waitUI(t, 60*time.Second, "a notice that Grace joined", func() (bool, string) {
		return cs.Notice() == "Grace joined", cs.Notice()
	})
	screenshot(t, "tour-join-notice.png")
	graceID := func() string {
		for _, tl := range cs.Tiles() {
			if tl.Name() == "Grace" && !tl.IsScreen() {
				return tl.ParticipantID
			}
		}
		return ""
	}

	// Chat in three scripts and emoji.
	const cjk = "你好！こんにちは。안녕하세요 👋 🙂"
	onUI(func() { cs.Controls().Chat.OnTapped() })
	for _, text := range []string{cjk, "🎉👍"} {
		onUI(func() {
			cs.Chat().Entry.SetText(text)
			cs.Chat().SendButton.OnTapped()
		})
		waitUI(t, 30*time.Second, "the message "+text+" sent", func() (bool, string) {
			for _, it := range cs.Chat().Items() {
				if it.Own && it.Text == text {
					return it.State == ui.Sent, fmt.Sprint(it.State)
				}
			}
			return false, "not in the panel"
		})
	}

	// Raise a hand and react; the bot's hand and reaction show too. A
	// reaction shows for 4 s, so on a slow machine Ada reacts again until
	// both show at once.
	onUI(func() { cs.Controls().Hand.OnTapped() })
	var pick string
	var reacted time.Time
	waitUI(t, 60*time.Second, "hands up and reactions on both tiles", func() (bool, string) {
		own, grace := cs.Tile(selfID(cs)), cs.Tile(graceID())
		if own == nil || grace == nil {
			return false, "tiles missing"
		}
		if own.Reaction() == "" && time.Since(reacted) > 2*time.Second {
			cs.Controls().React.OnTapped()
			b := cs.ReactionButtons[0]
			pick = b.Emoji
			b.Tapped(nil)
			reacted = time.Now()
		}
		ok := own.Hand() > 0 && grace.Hand() > 0 && own.Reaction() == pick && grace.Reaction() == "🎉"
		return ok, fmt.Sprintf("own hand %d reaction %q, Grace hand %d reaction %q", own.Hand(), own.Reaction(), grace.Hand(), grace.Reaction())
	})
	screenshot(t, "tour-hand-reaction.png")
	onUI(func() { cs.Controls().Chat.OnTapped() })

	// Camera on, then speaker view.
	onUI(func() { cs.Controls().Camera.OnTapped() })
	onUI(func() { cs.Controls().View.OnTapped() })
	waitUI(t, 60*time.Second, "speaker view with the own video", func() (bool, string) {
		own := cs.Tile(selfID(cs))
		return cs.SpeakerView() && cs.Large() != "" && !own.ShowsPlaceholder(), fmt.Sprintf("speaker view %v, large %q, own placeholder %v", cs.SpeakerView(), cs.Large(), own.ShowsPlaceholder())
	})
	screenshot(t, "tour-speaker-view.png")
	onUI(func() { cs.Controls().View.OnTapped() })

	// Share the screen: the picker, then the presenting bar.
	onUI(func() { cs.Controls().Share.OnTapped() })
	waitUI(t, 10*time.Second, "the screen picker", func() (bool, string) {
		return cs.ScreenPicker() != nil, "no picker"
	})
	screenshot(t, "tour-screen-picker.png")
	onUI(func() { cs.ScreenPicker().ShareButton.OnTapped() })
	waitUI(t, 30*time.Second, "the presenting bar", func() (bool, string) {
		return cs.Presenting(), "not presenting"
	})
	screenshot(t, "tour-presenting.png")
	onUI(func() { cs.StopPresenting.OnTapped() })
	waitUI(t, 30*time.Second, "presenting stopped", func() (bool, string) {
		return !cs.Presenting(), "still presenting"
	})

	onUI(func() { cs.Controls().Leave.OnTapped() })
	waitUI(t, 30*time.Second, "back on the entry screen", func() (bool, string) {
		return e2e.ui.Call() == nil, "still in the call"
	})
	// Leave the entry screen as the other tests expect it.
	onUI(func() {
		entry.MicToggle.OnTapped()
		entry.CameraToggle.OnTapped()
	})
}

// selfID is the user's own participant id in the call, "" before welcome.
func selfID(cs *ui.CallScreen) string {
	for _, tl := range cs.Tiles() {
		if tl.IsSelf() && !tl.IsScreen() {
			return tl.ParticipantID
		}
	}
	return ""
}

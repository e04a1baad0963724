package ui

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/confab/confab/signaling/client"
)

func msg(seq int64, from, text string) client.ChatMessage {
	return client.ChatMessage{Seq: seq, ID: fmt.Sprintf("id%d", seq), From: from, Name: "Name " + from, Text: text, At: 1_700_000_000_000 + seq*1000}
}

func seqs(items []ChatItem) []int64 {
	var out []int64
	for _, it := range items {
		out = append(out, it.Seq)
	}
	return out
}

func TestChatEnterSendsAndAckMarksSent(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox)
	test.Tap(cs.Controls().Chat)
	chat := cs.Chat()
	if !cs.ChatOpen() {
		t.Fatal("chat did not open")
	}
	test.Type(chat.Entry, "hello there")
	chat.Entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})

	var sent []string
	c.get(func(c *fakeCall) { sent = append(sent, c.sent...) })
	if len(sent) != 1 || sent[0] != "hello there" {
		t.Fatalf("sent = %q, want [hello there]", sent)
	}
	if chat.Entry.Text != "" {
		t.Errorf("entry not cleared: %q", chat.Entry.Text)
	}
	items := chat.Items()
	if len(items) != 1 || !items[0].Own || items[0].State != Sending || items[0].ID != "msg1" {
		t.Fatalf("items = %+v, want one own message sending", items)
	}
	row := chat.Rows()[0]
	if row.Sender.Text != "You" || row.Status.Text != "Sending…" || !row.Status.Visible() || row.RetryButton.Visible() {
		t.Errorf("row: sender %q status %q retry %v", row.Sender.Text, row.Status.Text, row.RetryButton.Visible())
	}

	h.send(cs, c, client.ChatReceived{Own: true, Message: client.ChatMessage{Seq: 7, ID: "msg1", From: "p0", Name: "Dana", Text: "hello there", At: 1}})
	items = chat.Items()
	if len(items) != 1 || items[0].State != Sent || items[0].Seq != 7 {
		t.Fatalf("after the ack: %+v, want one sent message with seq 7", items)
	}
	if chat.Rows()[0] != row || row.footer.Visible() {
		t.Error("sent message still shows a status")
	}
	if cs.Unread() != 0 {
		t.Errorf("own message counted as unread: %d", cs.Unread())
	}

	// The send button works too; blank text is not sent.
	test.Type(chat.Entry, "   ")
	test.Tap(chat.SendButton)
	test.Type(chat.Entry, "second")
	test.Tap(chat.SendButton)
	c.get(func(c *fakeCall) { sent = append([]string(nil), c.sent...) })
	if len(sent) != 2 || sent[1] != "   second" {
		t.Errorf("sent = %q", sent)
	}
}

func TestChatShiftEnterAddsNewline(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome()
	e := cs.Chat().Entry
	test.Type(e, "line one")
	e.KeyDown(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
	e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	e.KeyUp(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
	test.Type(e, "line two")
	if e.Text != "line one\nline two" {
		t.Errorf("entry = %q, want two lines", e.Text)
	}
	var n int
	c.get(func(c *fakeCall) { n = len(c.sent) })
	if n != 0 {
		t.Errorf("Shift+Enter sent the message")
	}
	e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEnter})
	c.get(func(c *fakeCall) { n = len(c.sent) })
	if n != 1 {
		t.Errorf("Enter did not send")
	}
}

func TestChatFailedAndRetry(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome()
	chat := cs.Chat()
	test.Type(chat.Entry, "are you there?")
	test.Tap(chat.SendButton)
	h.send(cs, c, client.ChatFailed{ID: "msg1", Err: fmt.Errorf("timeout")})
	it := chat.Items()[0]
	row := chat.Rows()[0]
	if it.State != Failed || row.Status.Text != "Not sent" || !row.RetryButton.Visible() {
		t.Fatalf("after failure: state %v status %q retry %v", it.State, row.Status.Text, row.RetryButton.Visible())
	}
	test.Tap(row.RetryButton)
	var retried []string
	c.get(func(c *fakeCall) { retried = append(retried, c.retried...) })
	if len(retried) != 1 || retried[0] != "msg1" {
		t.Errorf("retried = %v, want [msg1]", retried)
	}
	if chat.Items()[0].State != Sending || row.RetryButton.Visible() {
		t.Errorf("after retry: state %v, retry shown %v", chat.Items()[0].State, row.RetryButton.Visible())
	}
	h.send(cs, c, client.ChatReceived{Own: true, Message: client.ChatMessage{Seq: 3, ID: "msg1", From: "p0", Text: "are you there?"}})
	if got := chat.Items(); len(got) != 1 || got[0].State != Sent {
		t.Errorf("after the ack: %+v", got)
	}
}

func TestChatUnreadCount(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox)
	h.send(cs, c, client.ChatReceived{Message: msg(1, "p1", "one")})
	h.send(cs, c, client.ChatReceived{Message: msg(2, "p1", "two")})
	h.send(cs, c, client.ChatReceived{Message: msg(2, "p1", "two")}) // duplicate
	if cs.Unread() != 2 || cs.Controls().Chat.Badge() != 2 {
		t.Fatalf("unread %d badge %d, want 2", cs.Unread(), cs.Controls().Chat.Badge())
	}
	cs.handleShortcut(shortcutChat.fyne())
	if !cs.ChatOpen() || cs.Unread() != 0 || cs.Controls().Chat.Badge() != 0 {
		t.Errorf("after opening: open %v unread %d badge %d", cs.ChatOpen(), cs.Unread(), cs.Controls().Chat.Badge())
	}
	h.send(cs, c, client.ChatReceived{Message: msg(3, "p1", "three")})
	if cs.Unread() != 0 {
		t.Errorf("message counted as unread while the chat shows")
	}
	test.Tap(cs.Chat().CloseButton)
	if cs.ChatOpen() {
		t.Fatal("chat did not close")
	}
	h.send(cs, c, client.ChatReceived{Message: msg(4, "p1", "four")})
	if cs.Unread() != 1 || cs.Controls().Chat.Badge() != 1 {
		t.Errorf("unread %d after closing and one message, want 1", cs.Unread())
	}
}

func TestChatNotificationWhenUnfocused(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox)
	h.send(cs, c, client.ChatReceived{Message: msg(1, "p1", "while focused")})
	h.app.focused = false
	want := fyne.NewNotification("Name p1 in lobby", "while away")
	test.AssertNotificationSent(t, want, func() {
		h.send(cs, c, client.ChatReceived{Message: msg(2, "p1", "while away")})
	})
	test.AssertNotificationSent(t, nil, func() {
		h.send(cs, c, client.ChatReceived{Own: true, Message: msg(3, "p0", "mine")})
	})
}

func TestChatHistoryMerge(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.join("Dana")
	var page []client.ChatMessage
	for s := int64(51); s <= 60; s++ {
		page = append(page, msg(s, "p1", fmt.Sprint("m", s)))
	}
	h.send(cs, c, client.Welcome{Room: "lobby", You: client.Participant{ID: "p0", Name: "Dana"}, Chat: page, ChatMore: true})
	chat := cs.Chat()
	if !chat.LoadOlderButton.Visible() || chat.TopNote.Visible() {
		t.Errorf("load-older button shown %v, note shown %v", chat.LoadOlderButton.Visible(), chat.TopNote.Visible())
	}
	chat.Scroll.OnScrolled(fyne.NewPos(0, 0))
	chat.Scroll.OnScrolled(fyne.NewPos(0, 0)) // no second request while one is out
	var older []int64
	c.get(func(c *fakeCall) { older = append(older, c.older...) })
	if len(older) != 1 || older[0] != 51 {
		t.Fatalf("LoadOlderChat calls = %v, want [51]", older)
	}
	if chat.TopNote.Text != "Loading older messages…" || !chat.TopNote.Visible() || chat.LoadOlderButton.Visible() {
		t.Errorf("top note while loading = %q", chat.TopNote.Text)
	}

	var older1 []client.ChatMessage
	for s := int64(41); s <= 52; s++ { // overlaps 51 and 52
		older1 = append(older1, msg(s, "p1", fmt.Sprint("m", s)))
	}
	h.send(cs, c, client.HistoryLoaded{Messages: older1, More: false})
	got := seqs(chat.Items())
	if len(got) != 20 {
		t.Fatalf("%d messages after merge, want 20: %v", len(got), got)
	}
	for i, s := range got {
		if s != int64(41+i) {
			t.Fatalf("order after merge = %v, want 41..60", got)
		}
	}
	if chat.TopNote.Text != "This is the start of the chat." || chat.LoadOlderButton.Visible() {
		t.Errorf("top note = %q", chat.TopNote.Text)
	}
	chat.Scroll.OnScrolled(fyne.NewPos(0, 0))
	test.Tap(chat.LoadOlderButton)
	c.get(func(c *fakeCall) { older = append([]int64(nil), c.older...) })
	if len(older) != 1 {
		t.Errorf("asked for more with none left: %v", older)
	}

	// A rejoin replays messages already shown: no duplicates.
	h.send(cs, c, client.Welcome{Room: "lobby", You: client.Participant{ID: "p0", Name: "Dana"}, Chat: []client.ChatMessage{msg(60, "p1", "m60"), msg(61, "p1", "m61")}, Rejoined: true})
	if got := seqs(chat.Items()); len(got) != 21 || got[20] != 61 {
		t.Errorf("after rejoin: %v", got)
	}
}

func TestChatModelOrdering(t *testing.T) {
	m := &chatModel{selfID: "me"}
	m.addPending("a", "pending one", 1)
	m.receive(msg(5, "x", "five"), false)
	m.receive(msg(3, "x", "three"), false)
	m.addPending("b", "pending two", 2)
	m.receive(client.ChatMessage{Seq: 4, ID: "b", From: "me", Text: "pending two"}, true)
	var got []string
	for _, it := range m.items() {
		got = append(got, fmt.Sprintf("%d:%s", it.Seq, it.Text))
	}
	want := "3:three 4:pending two 5:five 0:pending one"
	if strings.Join(got, " ") != want {
		t.Errorf("order = %q, want %q", strings.Join(got, " "), want)
	}
	// An ack that outruns addPending does not leave a ghost pending entry.
	m.receive(client.ChatMessage{Seq: 9, ID: "c", From: "me", Text: "fast"}, true)
	m.addPending("c", "fast", 3)
	if len(m.pending) != 1 {
		t.Errorf("pending = %d, want only the unacknowledged one", len(m.pending))
	}
	if m.oldestSeq() != 3 {
		t.Errorf("oldest seq = %d, want 3", m.oldestSeq())
	}
}

func TestChatShowsTextVerbatim(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome(fox)
	text := "**bold** <b>x</b> _em_ # not a heading\n- not a list [link](http://evil)"
	h.send(cs, c, client.ChatReceived{Message: msg(1, "p1", text)})
	row := cs.Chat().Rows()[0]
	if got := row.Body.String(); got != text {
		t.Errorf("body = %q, want the text exactly as typed", got)
	}
	for _, seg := range row.Body.Segments {
		switch s := seg.(type) {
		case *widget.TextSegment:
			if s.Style != widget.RichTextStyleInline {
				t.Errorf("segment %q has style %+v, want plain inline text", s.Text, s.Style)
			}
		case *widget.HyperlinkSegment:
			if s.URL.String() != "http://evil)" && s.URL.String() != "http://evil" {
				t.Errorf("unexpected link %q", s.URL)
			}
		default:
			t.Errorf("segment of type %T in a chat message", seg)
		}
	}
	if row.Sender.Text != "Name p1" {
		t.Errorf("sender = %q", row.Sender.Text)
	}
}

func TestTextSegmentsLinks(t *testing.T) {
	cases := []struct {
		in    string
		links []string
	}{
		{"see https://example.com/a?b=c.", []string{"https://example.com/a?b=c"}},
		{"(http://x.org/y) and https://z.io", []string{"http://x.org/y", "https://z.io"}},
		{"javascript:alert(1) ftp://files.example.com file:///etc/passwd", nil},
		{"https:// nothing", nil},
		{"plain text", nil},
	}
	for _, c := range cases {
		segs := textSegments(c.in)
		var links []string
		var all strings.Builder
		for _, s := range segs {
			all.WriteString(s.Textual())
			if l, ok := s.(*widget.HyperlinkSegment); ok {
				links = append(links, l.URL.String())
			}
		}
		if all.String() != c.in {
			t.Errorf("%q: segments spell %q", c.in, all.String())
		}
		if strings.Join(links, " ") != strings.Join(c.links, " ") {
			t.Errorf("%q: links %q, want %q", c.in, links, c.links)
		}
	}
}

func TestChatRejectsTooLong(t *testing.T) {
	h := newHarness(t, Options{})
	cs, c := h.welcome()
	chat := cs.Chat()
	chat.Entry.SetText(strings.Repeat("x", 5000))
	test.Tap(chat.SendButton)
	var n int
	c.get(func(c *fakeCall) { n = len(c.sent) })
	if n != 0 || !chat.ErrorLabel.Visible() || chat.ErrorLabel.Text != "The message is too long to send." {
		t.Errorf("sent %d, error %q", n, chat.ErrorLabel.Text)
	}
	if len(chat.Entry.Text) != 5000 {
		t.Error("the text was thrown away")
	}
}

func TestOwnMessagesFromAnEarlierCallShowAsYou(t *testing.T) {
	fa := test.NewTempApp(t)
	// An earlier run of the app joined as u-old.
	h1 := newHarnessOn(t, fa, newFakeBackend(), Options{})
	cs1, c1 := h1.join("Dana")
	h1.send(cs1, c1, client.Welcome{Room: "lobby", You: client.Participant{ID: "u-old", Name: "Dana"}})

	// Now, with a new identity, the history holds the old messages.
	h := newHarnessOn(t, fa, newFakeBackend(), Options{})
	cs, c := h.join("Dana")
	h.send(cs, c, client.Welcome{Room: "lobby", You: client.Participant{ID: "u-new", Name: "Dana"},
		Chat: []client.ChatMessage{msg(1, "u-old", "from my last call"), msg(2, "u-grace", "hi")}})
	items := cs.Chat().Items()
	if len(items) != 2 || !items[0].Own || items[1].Own {
		t.Fatalf("items %+v: want the first one own", items)
	}
	rows := cs.Chat().Rows()
	if rows[0].Sender.Text != "You" || rows[1].Sender.Text != "Name u-grace" {
		t.Errorf("senders %q %q, want You and Name u-grace", rows[0].Sender.Text, rows[1].Sender.Text)
	}
	// Another server's identities are not mixed in.
	h.app.Entry().ServerEntry.SetText("http://10.0.0.5:7880")
	if ids := h.app.ownIdentities("http://10.0.0.5:7880", ""); len(ids) != 0 {
		t.Errorf("identities on another server: %v", ids)
	}
}

func TestEmojiOnlyMessagesShowLarge(t *testing.T) {
	cases := []struct {
		in    string
		count int
	}{
		{"👍", 1},
		{" 🎉🎉 ", 2},
		{"❤️", 1},   // heart + variation selector 16
		{"👍🏽", 1},   // thumbs up + skin tone
		{"👩‍💻", 1},  // woman, ZWJ, laptop
		{"🇯🇵🇫🇷", 2}, // two flags
		{"1️⃣", 0},  // a keycap starts with a digit: text
		{"ok 👍", 0}, // words and emoji
		{"你好", 0},
		{"", 0},
		{"😀😀😀😀😀😀", 6},
	}
	for _, c := range cases {
		if got := emojiOnlyCount(c.in); got != c.count {
			t.Errorf("emojiOnlyCount(%q) = %d, want %d", c.in, got, c.count)
		}
	}
	big := func(text string) bool {
		segs := bodySegments(text)
		ts, ok := segs[0].(*widget.TextSegment)
		return len(segs) == 1 && ok && ts.Style.SizeName == sizeNameJumboEmoji
	}
	for text, want := range map[string]bool{"👍": true, "🎉 🎉 🎉": true, "😀😀😀😀😀😀": false, "ok 👍": false, "see https://x.org 🎉": false} {
		if got := big(text); got != want {
			t.Errorf("%q shown large: %v, want %v", text, got, want)
		}
	}
}

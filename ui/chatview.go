package ui

import (
	"errors"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/wire"
)

// groupWindow is how close in time two messages of one sender must be for
// the second to be shown without its own header.
const groupWindow = 3 * time.Minute

// MessageRow is the widgets of one chat message.
type MessageRow struct {
	// Sender and Time make the header; Body is the text; Status and
	// RetryButton show for your own messages not yet stored.
	Sender, Time *widget.Label
	Body         *widget.RichText
	Status       *widget.Label
	RetryButton  *widget.Button

	item   *ChatItem
	header *fyne.Container
	footer *fyne.Container
	bg     *canvas.Rectangle
	box    fyne.CanvasObject
	text   string
	state  SendState
}

// ChatPanel is the side panel with the room's chat. All methods run on
// the UI goroutine.
type ChatPanel struct {
	// Entry is the text box and SendButton sends what it holds.
	Entry      *ChatEntry
	SendButton *widget.Button
	// CloseButton hides the panel.
	CloseButton *widget.Button
	// Scroll holds the history; scrolling to its top loads older messages.
	Scroll *container.Scroll
	// ErrorLabel shows why a message could not be sent.
	ErrorLabel *widget.Label
	// TopNote says whether older messages exist; LoadOlderButton fetches
	// them when the history is too short to scroll.
	TopNote         *widget.Label
	LoadOlderButton *widget.Button

	model   *chatModel
	rows    map[*ChatItem]*MessageRow
	top     *fyne.Container
	list    *fyne.Container
	content fyne.CanvasObject

	send      func(text string) (string, error)
	retry     func(id string) error
	loadOlder func(before int64) error
	onClose   func()
	now       func() time.Time
}

// newChatPanel builds the panel. The funcs reach the call; they may be
// nil until a call is attached.
func newChatPanel() *ChatPanel {
	p := &ChatPanel{model: &chatModel{}, rows: map[*ChatItem]*MessageRow{}, now: time.Now}
	p.Entry = newChatEntry()
	p.Entry.onSend = p.submit
	p.SendButton = widget.NewButtonWithIcon("", iconSend, p.submit)
	p.SendButton.Importance = widget.HighImportance
	p.CloseButton = widget.NewButtonWithIcon("", theme.CancelIcon(), func() {
		if p.onClose != nil {
			p.onClose()
		}
	})
	p.CloseButton.Importance = widget.LowImportance
	p.ErrorLabel = widget.NewLabel("")
	p.ErrorLabel.Importance = widget.DangerImportance
	p.ErrorLabel.Wrapping = fyne.TextWrapWord
	p.ErrorLabel.Hide()
	p.TopNote = widget.NewLabel("")
	p.TopNote.Alignment = fyne.TextAlignCenter
	p.TopNote.Importance = widget.LowImportance
	p.TopNote.SizeName = theme.SizeNameCaptionText
	p.LoadOlderButton = widget.NewButton("Load older messages", p.loadMore)
	p.LoadOlderButton.Importance = widget.LowImportance
	p.LoadOlderButton.Hide()
	p.top = container.NewVBox(p.TopNote, p.LoadOlderButton)
	p.list = container.NewVBox(p.top)
	p.Scroll = container.NewVScroll(p.list)
	p.Scroll.OnScrolled = p.scrolled

	title := widget.NewLabelWithStyle("Chat", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	width := canvas.NewRectangle(nil)
	width.SetMinSize(fyne.NewSize(300, 1))
	header := container.NewStack(width, container.NewBorder(nil, nil, title, p.CloseButton))
	composer := container.NewBorder(nil, nil, nil, container.NewVBox(layout.NewSpacer(), p.SendButton), p.Entry)
	bottom := container.NewVBox(p.ErrorLabel, composer)
	bg := newFill(theme.Color(theme.ColorNameHeaderBackground))
	p.content = container.NewStack(bg, container.NewPadded(container.NewBorder(header, bottom, nil, nil, p.Scroll)))
	p.rebuild()
	return p
}

// Items returns the messages in display order.
func (p *ChatPanel) Items() []ChatItem {
	var out []ChatItem
	for _, it := range p.model.items() {
		out = append(out, *it)
	}
	return out
}

// Rows returns the message widgets in display order.
func (p *ChatPanel) Rows() []*MessageRow {
	var out []*MessageRow
	for _, it := range p.model.items() {
		out = append(out, p.rows[it])
	}
	return out
}

// submit sends what the entry holds.
func (p *ChatPanel) submit() {
	text := p.Entry.Text
	if strings.TrimSpace(text) == "" {
		return
	}
	if err := wire.ValidateChatText(text); err != nil {
		p.showError(chatErrorText(err))
		return
	}
	if p.send == nil {
		p.showError("You are not in a call.")
		return
	}
	id, err := p.send(text)
	if err != nil {
		p.showError(chatErrorText(err))
		return
	}
	p.showError("")
	p.model.addPending(id, text, p.now().UnixMilli())
	p.Entry.SetText("")
	p.rebuild()
	p.Scroll.ScrollToBottom()
}

// chatErrorText words why a message can't be sent.
func chatErrorText(err error) string {
	switch {
	case errors.Is(err, wire.ErrTooLong):
		return "The message is too long to send."
	case errors.Is(err, wire.ErrControl), errors.Is(err, wire.ErrBidi), errors.Is(err, wire.ErrNotUTF8):
		return "The message contains characters that can't be sent."
	case errors.Is(err, client.ErrClosed):
		return "The call has ended; the message was not sent."
	}
	return "The message was not sent: " + sentence(err.Error())
}

// showError shows msg under the history, or hides the label for "".
func (p *ChatPanel) showError(msg string) {
	p.ErrorLabel.SetText(msg)
	setVisible(p.ErrorLabel, msg != "")
}

// reset empties the panel for a new call.
func (p *ChatPanel) reset(selfID string) {
	p.model = &chatModel{selfID: selfID, pastIDs: p.model.pastIDs}
	p.rows = map[*ChatItem]*MessageRow{}
	p.Entry.SetText("")
	p.showError("")
	p.rebuild()
}

// setPastIDs tells the panel the user's identities in earlier calls, so
// their old messages show as "You".
func (p *ChatPanel) setPastIDs(ids []string) {
	p.model.pastIDs = map[string]bool{}
	for _, id := range ids {
		p.model.pastIDs[id] = true
	}
}

// welcome loads the history that comes with joining or rejoining.
func (p *ChatPanel) welcome(w client.Welcome) {
	p.model.selfID = w.You.ID
	if len(p.model.confirmed) == 0 {
		p.model.more = w.ChatMore
	}
	p.model.merge(w.Chat)
	p.rebuild()
	p.Scroll.ScrollToBottom()
}

// received adds a live message and reports whether it is someone else's
// new message.
func (p *ChatPanel) received(e client.ChatReceived) bool {
	atBottom := p.atBottom()
	isNew := p.model.receive(e.Message, e.Own)
	p.rebuild()
	if atBottom || e.Own {
		p.Scroll.ScrollToBottom()
	}
	return isNew && !e.Own && !p.model.isSelf(e.Message.From)
}

// failed marks a message as not sent.
func (p *ChatPanel) failed(e client.ChatFailed) {
	if p.model.fail(e.ID) != nil {
		p.rebuild()
	}
}

// history merges an older page, keeping the view where it was.
func (p *ChatPanel) history(e client.HistoryLoaded) {
	p.model.loading = false
	p.model.more = e.More
	before := p.list.MinSize().Height
	p.model.merge(e.Messages)
	p.rebuild()
	if grown := p.list.MinSize().Height - before; grown > 0 {
		p.Scroll.Offset.Y += grown
		p.Scroll.Refresh()
	}
}

// atBottom reports whether the history is scrolled to (near) the end.
func (p *ChatPanel) atBottom() bool {
	return p.Scroll.Offset.Y+p.Scroll.Size().Height >= p.list.MinSize().Height-24
}

// scrolled loads older messages when the top is reached.
func (p *ChatPanel) scrolled(pos fyne.Position) {
	if pos.Y > 4 {
		return
	}
	p.loadMore()
}

// loadMore asks for the page before the oldest message shown.
func (p *ChatPanel) loadMore() {
	m := p.model
	if !m.more || m.loading || p.loadOlder == nil || m.oldestSeq() == 0 {
		return
	}
	m.loading = true
	if err := p.loadOlder(m.oldestSeq()); err != nil {
		m.loading = false
	}
	p.updateTopNote()
}

// updateTopNote says what lies above the first message.
func (p *ChatPanel) updateTopNote() {
	setVisible(p.LoadOlderButton, p.model.more && !p.model.loading)
	setVisible(p.TopNote, !p.model.more || p.model.loading)
	switch {
	case p.model.loading:
		p.TopNote.SetText("Loading older messages…")
	case p.model.more:
		p.TopNote.SetText("Scroll up for older messages")
	case len(p.model.confirmed)+len(p.model.pending) == 0:
		p.TopNote.SetText("No messages yet. Say hello!")
	default:
		p.TopNote.SetText("This is the start of the chat.")
	}
}

// rebuild puts the rows in model order, creating and updating rows as
// needed.
func (p *ChatPanel) rebuild() {
	items := p.model.items()
	objs := make([]fyne.CanvasObject, 0, len(items)+1)
	objs = append(objs, p.top)
	var prev *ChatItem
	for _, it := range items {
		row := p.rows[it]
		if row == nil {
			row = p.newRow(it)
			p.rows[it] = row
		}
		grouped := prev != nil && prev.From == it.From && prev.Own == it.Own &&
			time.Duration(it.At-prev.At)*time.Millisecond < groupWindow
		p.updateRow(row, !grouped)
		objs = append(objs, row.box)
		prev = it
	}
	p.updateTopNote()
	p.list.Objects = objs
	p.list.Refresh()
}

// newRow builds the widgets of a message.
func (p *ChatPanel) newRow(it *ChatItem) *MessageRow {
	r := &MessageRow{item: it}
	r.Sender = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.Sender.Truncation = fyne.TextTruncateEllipsis
	r.Time = widget.NewLabel("")
	r.Time.Importance = widget.LowImportance
	r.Time.SizeName = theme.SizeNameCaptionText
	r.Body = widget.NewRichText(bodySegments(it.Text)...)
	r.Body.Wrapping = fyne.TextWrapWord
	r.text = it.Text
	r.Status = widget.NewLabel("")
	r.Status.SizeName = theme.SizeNameCaptionText
	id := it.ID
	r.RetryButton = widget.NewButtonWithIcon("Retry", theme.ViewRefreshIcon(), func() { p.retryMessage(id) })
	r.RetryButton.Importance = widget.LowImportance
	r.header = container.NewBorder(nil, nil, nil, r.Time, r.Sender)
	r.footer = container.NewHBox(layout.NewSpacer(), r.Status, r.RetryButton)
	r.bg = canvas.NewRectangle(colorMessage)
	r.bg.CornerRadius = 8
	inner := container.New(layout.NewCustomPaddedLayout(0, 0, 4, 4),
		container.New(layout.NewCustomPaddedVBoxLayout(-12), r.header, r.Body, r.footer))
	r.box = container.New(layout.NewCustomPaddedLayout(2, 2, 0, 0), container.NewStack(r.bg, inner))
	return r
}

// updateRow shows a message's current state.
func (p *ChatPanel) updateRow(r *MessageRow, header bool) {
	it := r.item
	name := it.Name
	if it.Own {
		name = "You"
	}
	if r.Sender.Text != name {
		r.Sender.SetText(name)
	}
	if ts := formatTime(it.At, p.now()); r.Time.Text != ts {
		r.Time.SetText(ts)
	}
	setVisible(r.header, header)
	if it.Own {
		r.bg.FillColor = colorOwnMessage
	} else {
		r.bg.FillColor = colorMessage
	}
	r.bg.Refresh()
	r.state = it.State
	switch {
	case !it.Own || it.State == Sent:
		r.footer.Hide()
	case it.State == Sending:
		r.Status.SetText("Sending…")
		r.Status.Importance = widget.LowImportance
		r.RetryButton.Hide()
		r.footer.Show()
	case it.State == Failed:
		r.Status.SetText("Not sent")
		r.Status.Importance = widget.DangerImportance
		r.RetryButton.Show()
		r.footer.Show()
	}
	r.Status.Refresh()
}

// retryMessage sends a failed message again.
func (p *ChatPanel) retryMessage(id string) {
	if p.retry == nil {
		return
	}
	it := p.model.retrying(id)
	if it == nil {
		return
	}
	if err := p.retry(id); err != nil {
		it.State = Failed
		p.showError(chatErrorText(err))
	}
	p.rebuild()
}

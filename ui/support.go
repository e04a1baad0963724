package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/confab/confab/assets/sounds"
	"github.com/confab/confab/signaling/support"
)

// supportTick is how often the waiting times are redrawn.
const supportTick = 10 * time.Second

// SupportScreen is the Support view of a signed-in agent: the open
// conversations (unread counts, last message, waiting time) on the left,
// the selected one on the right with its messages, a reply field, Start
// video and Close. One goroutine reads the session's events and hands
// each to the UI goroutine, where the screen's methods run.
type SupportScreen struct {
	// List shows the conversations; tapping one selects it.
	List *widget.List
	// Title, Email and Empty describe the selection (Empty: none).
	Title, Email, Empty *widget.Label
	// Entry and Send reply; StartVideo and Close act on the selection.
	Entry      *widget.Entry
	Send       *widget.Button
	StartVideo *widget.Button
	Close      *widget.Button
	// EndVideo cancels a video call the customer has not joined.
	EndVideo *widget.Button
	// Back goes to the entry screen, staying signed in; SignOut signs out.
	Back, SignOut *widget.Button
	// Status says who is signed in and whether connected; Notice shows
	// the latest error or note.
	Status, Notice *widget.Label

	sd      *supportDesk
	session AgentSession
	model   *supportModel
	rows    []*supportConv // the list's rows, in order

	messages  *fyne.Container
	scroll    *container.Scroll
	banner    *widget.Label
	bannerBox *fyne.Container
	detail    *fyne.Container
	content   fyne.CanvasObject

	stopTick func()
	done     chan struct{}
	// now is the clock (tests move it).
	now func() time.Time
	// announced counts the new conversations announced; tests read it.
	announced int
	// lastErr is the latest refusal the server sent.
	lastErr error
	// handled counts the events applied; tests wait on it.
	handled int
}

func newSupportScreen(sd *supportDesk, s AgentSession) *SupportScreen {
	ss := &SupportScreen{sd: sd, session: s, model: newSupportModel(), done: make(chan struct{}), now: time.Now}
	ss.model.agent = s.Agent()
	ss.List = widget.NewList(func() int { return len(ss.rows) }, newSupportRow, ss.updateRow)
	ss.List.OnSelected = func(id widget.ListItemID) {
		if id >= 0 && id < len(ss.rows) {
			ss.selectConv(ss.rows[id].sum.ID)
		}
	}
	ss.Title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	ss.Email = widget.NewLabel("")
	ss.Empty = widget.NewLabelWithStyle("Choose a conversation on the left.", fyne.TextAlignCenter, fyne.TextStyle{})
	ss.Entry = widget.NewMultiLineEntry()
	ss.Entry.SetMinRowsVisible(2)
	ss.Entry.Wrapping = fyne.TextWrapWord
	ss.Entry.SetPlaceHolder("Reply…")
	ss.Send = widget.NewButtonWithIcon("Send", iconSend, ss.sendReply)
	ss.Send.Importance = widget.HighImportance
	ss.StartVideo = widget.NewButtonWithIcon("Start video", iconCamera, ss.startVideo)
	ss.Close = widget.NewButtonWithIcon("Close conversation", theme.ConfirmIcon(), ss.closeConv)
	ss.EndVideo = widget.NewButton("Cancel video", func() { ss.act(ss.session.EndVideo()) })
	ss.Back = widget.NewButtonWithIcon("Calls", theme.NavigateBackIcon(), sd.leaveToEntry)
	ss.SignOut = widget.NewButton("Sign out", func() { sd.signOut("") })
	ss.Status = widget.NewLabel("")
	ss.Notice = widget.NewLabel("")
	ss.Notice.Wrapping = fyne.TextWrapWord
	ss.Notice.Importance = widget.WarningImportance
	ss.Notice.Hide()
	ss.banner = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	ss.banner.Wrapping = fyne.TextWrapWord
	bannerBg := canvas.NewRectangle(colorBanner)
	ss.bannerBox = container.NewStack(bannerBg, container.NewBorder(nil, nil, nil, container.NewCenter(ss.EndVideo), ss.banner))
	ss.bannerBox.Hide()

	ss.messages = container.NewVBox()
	ss.scroll = container.NewVScroll(ss.messages)
	head := container.NewBorder(nil, nil, nil, container.NewHBox(ss.StartVideo, ss.Close),
		container.NewVBox(ss.Title, ss.Email))
	reply := container.NewBorder(nil, nil, nil, container.NewVBox(layout.NewSpacer(), ss.Send), ss.Entry)
	ss.detail = container.NewBorder(container.NewVBox(head, ss.bannerBox, widget.NewSeparator()), reply, nil, nil, ss.scroll)

	title := canvas.NewText("Support", colorText)
	title.TextSize = 18
	title.TextStyle.Bold = true
	top := container.NewBorder(nil, nil, container.NewHBox(ss.Back, title), ss.SignOut, ss.Status)
	listBox := container.NewBorder(widget.NewLabelWithStyle("Open conversations", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), nil, nil, nil, ss.List)
	split := container.NewHSplit(listBox, container.NewStack(ss.detail, container.NewCenter(ss.Empty)))
	split.Offset = 0.34
	ss.content = container.NewBorder(container.NewVBox(top, ss.Notice, widget.NewSeparator()), nil, nil, nil,
		container.NewThemeOverride(split, splitTheme{}))
	ss.render()
	return ss
}

// newSupportRow is a list row: name, waiting time and unread count on the
// first line, the last message under it.
func newSupportRow() fyne.CanvasObject {
	name := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.Truncation = fyne.TextTruncateEllipsis
	info := widget.NewLabel("")
	info.Importance = widget.WarningImportance
	last := widget.NewLabel("")
	last.Truncation = fyne.TextTruncateEllipsis
	return container.NewVBox(container.NewBorder(nil, nil, nil, info, name), last)
}

// updateRow fills row id.
func (ss *SupportScreen) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id < 0 || id >= len(ss.rows) {
		return
	}
	c := ss.rows[id]
	box := o.(*fyne.Container)
	line := box.Objects[0].(*fyne.Container)
	name, info := line.Objects[0].(*widget.Label), line.Objects[1].(*widget.Label)
	last := box.Objects[1].(*widget.Label)
	name.SetText(c.sum.Name)
	name.TextStyle.Bold = c.sum.Unread > 0
	info.SetText(rowInfo(c.sum, ss.now()))
	prefix := ""
	switch c.sum.Last.From {
	case support.FromAgent:
		prefix = c.sum.Last.Name + ": "
	case support.FromSystem:
		prefix = "· "
	}
	last.SetText(prefix + oneLine(c.sum.Last.Text))
}

// rowInfo is the row's right side: unread count and waiting time.
func rowInfo(s support.Summary, now time.Time) string {
	var parts []string
	if s.Unread > 0 {
		parts = append(parts, fmt.Sprintf("%d new", s.Unread))
	}
	if w := waitingText(s.WaitingSince, now); w != "" {
		parts = append(parts, w)
	}
	return strings.Join(parts, " · ")
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 80 {
		s = string(r[:80]) + "…"
	}
	return s
}

// start reads the session's events and redraws the waiting times every
// supportTick.
func (ss *SupportScreen) start() {
	events, do := ss.session.Events(), ss.sd.app.do
	go func() {
		defer close(ss.done)
		for ev := range events {
			do(func() { ss.handle(ev) })
		}
		do(func() {
			if ss.sd.screen == ss {
				msg := "The support desk connection ended."
				var se *support.Error
				if ss.lastErr != nil && errors.As(ss.lastErr, &se) && se.Code == support.CodeAgentKeyInvalid {
					msg = "Your agent key no longer signs in on this server; you were signed out."
				}
				ss.sd.signOut(msg)
			}
		})
	}()
	if ss.sd.app.tick <= 0 {
		return
	}
	t := time.NewTicker(supportTick)
	stop := make(chan struct{})
	ss.stopTick = func() { t.Stop(); close(stop) }
	go func() {
		for {
			select {
			case <-t.C:
				do(ss.List.Refresh)
			case <-stop:
				return
			}
		}
	}()
}

// stop ends the ticker (the events end with the session).
func (ss *SupportScreen) stop() {
	if ss.stopTick != nil {
		ss.stopTick()
		ss.stopTick = nil
	}
}

// shown is called when the view comes on.
func (ss *SupportScreen) shown() {
	ss.markRead()
	ss.sd.app.win.Canvas().Focus(ss.Entry)
}

// visible reports whether the view is the window's screen.
func (ss *SupportScreen) visible() bool {
	objs := ss.sd.app.root.Objects
	return len(objs) == 1 && objs[0] == ss.content
}

// handle applies one event of the session.
func (ss *SupportScreen) handle(ev support.Event) {
	m := ss.model
	switch e := ev.(type) {
	case *support.Ready:
		m.ready(e)
		if m.selected != "" {
			ss.act(ss.session.Open(m.selected, 0))
		}
	case support.Disconnected:
		m.connected = false
	case *support.Summary:
		if m.summary(e) && e.New {
			ss.announce(e)
		}
	case *support.Message:
		m.message(e)
		if e.Conversation == m.selected && e.From == support.FromCustomer {
			ss.markRead()
		}
	case *support.History:
		m.history(e)
		if e.Conversation == m.selected {
			ss.markRead()
		}
	case *support.Video:
		m.video = e
	case *support.CustomerEntered:
		if m.video != nil && m.video.Room == e.Room {
			m.video.CustomerIn = true
			ss.sd.joinVideo(m.video, e.Name)
		}
	case *support.VideoEnded:
		if m.video != nil && m.video.Room == e.Room {
			m.video = nil
		}
	case *support.Error:
		ss.lastErr = e
		ss.showNotice(supportErrorText(e))
	}
	ss.render()
	ss.sd.updateButton()
	ss.handled++
}

// announce tells of a new conversation: a sound, and a desktop
// notification when the window is in the background.
func (ss *SupportScreen) announce(s *support.Summary) {
	ss.announced++
	if p, ok := ss.session.(SoundPlayer); ok {
		go p.PlaySound(sounds.Join)
	}
	if !ss.sd.app.focused {
		ss.sd.app.fyneApp.SendNotification(fyne.NewNotification("New support conversation: "+s.Name, oneLine(s.Last.Text)))
	}
}

// supportErrorText words a refusal of the support desk.
func supportErrorText(e *support.Error) string {
	switch e.Code {
	case support.CodeAgentBusy:
		return "You are in a video call already. End it before you start another."
	case support.CodeConversationClosed:
		return "That conversation is closed."
	case support.CodeNotFound:
		return "That conversation is gone."
	case "rate_limited":
		return "You are sending too fast; wait a moment."
	}
	return "The support desk refused: " + e.Message
}

// showNotice shows msg over the view until the next action.
func (ss *SupportScreen) showNotice(msg string) { setMessage(ss.Notice, msg) }

// act shows the error of a send that failed (the connection is down).
func (ss *SupportScreen) act(err error) {
	if err != nil {
		ss.showNotice("Not sent: the connection to the server is down; it reconnects by itself.")
	}
}

// selectConv shows conversation id and loads it if needed.
func (ss *SupportScreen) selectConv(id string) {
	m := ss.model
	if m.selected == id {
		return
	}
	m.selected = id
	setMessage(ss.Notice, "")
	if c := m.convs[id]; c != nil && !c.loaded {
		ss.act(ss.session.Open(id, 0))
	}
	ss.markRead()
	ss.render()
}

// Select selects the conversation with the customer called name (tests).
func (ss *SupportScreen) Select(name string) bool {
	for i, c := range ss.rows {
		if c.sum.Name == name {
			ss.List.Select(i)
			return true
		}
	}
	return false
}

// markRead marks the selected conversation read when it is on screen.
func (ss *SupportScreen) markRead() {
	m := ss.model
	c := m.convs[m.selected]
	if c == nil || c.sum.Unread == 0 || !ss.visible() {
		return
	}
	ss.act(ss.session.MarkRead(m.selected, m.lastSeq(m.selected)))
}

func (ss *SupportScreen) sendReply() {
	text := strings.TrimSpace(ss.Entry.Text)
	if text == "" || ss.model.selected == "" {
		return
	}
	if len(text) > 4096 {
		ss.showNotice(fmt.Sprintf("The reply is too long (%d of 4096 bytes).", len(text)))
		return
	}
	ss.act(ss.session.Send(ss.model.selected, text))
	ss.Entry.SetText("")
}

func (ss *SupportScreen) startVideo() {
	if ss.model.selected == "" {
		return
	}
	if ss.model.video != nil {
		ss.showNotice(supportErrorText(&support.Error{Code: support.CodeAgentBusy}))
		return
	}
	setMessage(ss.Notice, "")
	ss.act(ss.session.StartVideo(ss.model.selected))
}

func (ss *SupportScreen) closeConv() {
	if ss.model.selected != "" {
		ss.act(ss.session.CloseConversation(ss.model.selected))
	}
}

// setBanner shows text in the video banner.
func (ss *SupportScreen) setBanner(text string) {
	ss.banner.SetText(text)
	setVisible(ss.bannerBox, text != "")
}

// render makes the widgets match the model.
func (ss *SupportScreen) render() {
	m := ss.model
	state := "Reconnecting…"
	if m.connected {
		state = "Connected"
	}
	ss.Status.SetText(fmt.Sprintf("Signed in as %s · %s", m.agent.Name, state))
	ss.rows = m.order()
	sel := -1
	for i, c := range ss.rows {
		if c.sum.ID == m.selected {
			sel = i
		}
	}
	ss.List.Refresh()
	if sel >= 0 {
		ss.List.OnSelected = nil // selecting a row that is selected already does nothing
		ss.List.Select(sel)
		ss.List.OnSelected = func(id widget.ListItemID) {
			if id >= 0 && id < len(ss.rows) {
				ss.selectConv(ss.rows[id].sum.ID)
			}
		}
	} else {
		ss.List.UnselectAll()
	}
	c := m.convs[m.selected]
	setVisible(ss.detail, c != nil)
	setVisible(ss.Empty, c == nil)
	if len(m.convs) == 0 {
		ss.Empty.SetText("No open conversations. New ones are announced with a sound.")
	} else {
		ss.Empty.SetText("Choose a conversation on the left.")
	}
	switch {
	case m.video != nil && m.video.CustomerIn:
		ss.setBanner(fmt.Sprintf("%s is in the video call.", ss.convName(m.video.Conversation)))
		ss.EndVideo.Hide()
	case m.video != nil:
		ss.setBanner(fmt.Sprintf("Video call started with %s: you join by yourself when they open the link.", ss.convName(m.video.Conversation)))
		ss.EndVideo.Show()
	default:
		ss.setBanner("")
	}
	if c == nil {
		return
	}
	ss.Title.SetText(c.sum.Name)
	ss.Email.SetText(firstNonEmpty(c.sum.Email, "no e-mail given"))
	ss.renderMessages(c)
}

// convName is the customer's name of conversation id.
func (ss *SupportScreen) convName(id string) string {
	if c := ss.model.convs[id]; c != nil {
		return c.sum.Name
	}
	return "the customer"
}

// renderMessages shows c's messages, scrolled to the newest when it was
// at the bottom.
func (ss *SupportScreen) renderMessages(c *supportConv) {
	atBottom := ss.scroll.Offset.Y+ss.scroll.Size().Height >= ss.messages.MinSize().Height-20
	objs := make([]fyne.CanvasObject, 0, len(c.msgs))
	for _, msg := range c.msgs {
		objs = append(objs, supportMessageView(msg))
	}
	ss.messages.Objects = objs
	ss.messages.Refresh()
	if atBottom {
		ss.scroll.ScrollToBottom()
	}
}

// supportMessageView draws one message.
func supportMessageView(m support.Message) fyne.CanvasObject {
	at := time.UnixMilli(m.At).Local().Format("15:04")
	if m.From == support.FromSystem {
		l := widget.NewLabelWithStyle(m.Text+"  "+at, fyne.TextAlignCenter, fyne.TextStyle{Italic: true})
		l.Wrapping = fyne.TextWrapWord
		l.Importance = widget.LowImportance
		return l
	}
	who := m.Name
	if m.From == support.FromAgent {
		who += " (agent)"
	}
	head := widget.NewLabelWithStyle(who+" · "+at, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	body := widget.NewLabel(m.Text)
	body.Wrapping = fyne.TextWrapWord
	if m.Link != "" {
		body.SetText(m.Text + "\n[video link " + m.Link + "]")
	}
	return container.NewVBox(head, body)
}

// Rows lists the conversations as shown, for tests: name, the row's info
// (unread, waiting) and the last message.
func (ss *SupportScreen) Rows() [][3]string {
	out := make([][3]string, len(ss.rows))
	for i, c := range ss.rows {
		out[i] = [3]string{c.sum.Name, rowInfo(c.sum, ss.now()), c.sum.Last.Text}
	}
	return out
}

// Messages lists the selected conversation's messages as "name: text".
func (ss *SupportScreen) Messages() []string {
	c := ss.model.convs[ss.model.selected]
	if c == nil {
		return nil
	}
	out := make([]string, len(c.msgs))
	for i, m := range c.msgs {
		out[i] = m.Name + ": " + m.Text
	}
	return out
}

// Banner is the video banner's text, "" when hidden.
func (ss *SupportScreen) Banner() string {
	if !ss.bannerBox.Visible() {
		return ""
	}
	return ss.banner.Text
}

// Announced counts the new conversations announced.
func (ss *SupportScreen) Announced() int { return ss.announced }

package ui

import (
	"fmt"
	"image/color"
	"runtime"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// buttonLook is how a control button is coloured.
type buttonLook int

const (
	lookNormal buttonLook = iota // grey: on, nothing special
	lookOff                      // red: muted or camera off
	lookActive                   // blue: sharing, chat open
	lookDanger                   // red and wide: leave
)

// ControlButton is a round button of the call controls with an icon, an
// optional count beside it, an optional badge and a tooltip that names
// its keyboard shortcut. All methods run on the UI goroutine.
type ControlButton struct {
	widget.BaseWidget

	// OnTapped is called when the button is clicked.
	OnTapped func()

	icon     fyne.Resource
	text     string
	tooltip  string
	look     buttonLook
	badge    int
	hovered  bool
	disabled bool
	tips     *tooltipLayer
}

// newControlButton returns a button; tips may be nil for no tooltips.
func newControlButton(icon fyne.Resource, tooltip string, look buttonLook, tips *tooltipLayer, tapped func()) *ControlButton {
	b := &ControlButton{icon: icon, tooltip: tooltip, look: look, tips: tips, OnTapped: tapped}
	b.ExtendBaseWidget(b)
	return b
}

// Tooltip returns the hover text, which names the shortcut.
func (b *ControlButton) Tooltip() string { return b.tooltip }

// Icon returns the icon shown.
func (b *ControlButton) Icon() fyne.Resource { return b.icon }

// Text returns the text beside the icon, such as a participant count.
func (b *ControlButton) Text() string { return b.text }

// Badge returns the number in the badge, 0 when none shows.
func (b *ControlButton) Badge() int { return b.badge }

// Disabled reports whether the button ignores clicks.
func (b *ControlButton) Disabled() bool { return b.disabled }

// set changes the look and refreshes when something changed.
func (b *ControlButton) set(icon fyne.Resource, tooltip string, look buttonLook) {
	if b.icon == icon && b.tooltip == tooltip && b.look == look {
		return
	}
	b.icon, b.tooltip, b.look = icon, tooltip, look
	if b.hovered && b.tips != nil {
		b.tips.show(b, tooltip)
	}
	b.Refresh()
}

// setText changes the text beside the icon.
func (b *ControlButton) setText(s string) {
	if b.text != s {
		b.text = s
		b.Refresh()
	}
}

// setBadge changes the badge count; 0 hides it.
func (b *ControlButton) setBadge(n int) {
	if b.badge != n {
		b.badge = n
		b.Refresh()
	}
}

// setDisabled enables or disables the button.
func (b *ControlButton) setDisabled(d bool) {
	if b.disabled != d {
		b.disabled = d
		b.Refresh()
	}
}

// Tapped runs OnTapped.
func (b *ControlButton) Tapped(*fyne.PointEvent) {
	if b.tips != nil {
		b.tips.hide()
	}
	if b.disabled || b.OnTapped == nil {
		return
	}
	b.OnTapped()
}

// MouseIn shows the tooltip.
func (b *ControlButton) MouseIn(*desktop.MouseEvent) {
	b.hovered = true
	if b.tips != nil {
		b.tips.show(b, b.tooltip)
	}
	b.Refresh()
}

// MouseMoved does nothing.
func (b *ControlButton) MouseMoved(*desktop.MouseEvent) {}

// MouseOut hides the tooltip.
func (b *ControlButton) MouseOut() {
	b.hovered = false
	if b.tips != nil {
		b.tips.hide()
	}
	b.Refresh()
}

// Cursor shows a pointing hand.
func (b *ControlButton) Cursor() desktop.Cursor { return desktop.PointerCursor }

// CreateRenderer builds the renderer.
func (b *ControlButton) CreateRenderer() fyne.WidgetRenderer {
	r := &controlRenderer{b: b}
	r.bg = canvas.NewRectangle(colorButton)
	r.img = canvas.NewImageFromResource(b.icon)
	r.img.FillMode = canvas.ImageFillContain
	r.text = canvas.NewText("", colorText)
	r.text.TextSize = 14
	r.text.TextStyle.Bold = true
	r.badgeBg = canvas.NewCircle(colorDanger)
	r.badgeBg.StrokeColor = colorBar
	r.badgeBg.StrokeWidth = 2
	r.badgeText = canvas.NewText("", color.White)
	r.badgeText.TextSize = 11
	r.badgeText.TextStyle.Bold = true
	r.badgeText.Alignment = fyne.TextAlignCenter
	r.Refresh()
	return r
}

type controlRenderer struct {
	b         *ControlButton
	bg        *canvas.Rectangle
	img       *canvas.Image
	text      *canvas.Text
	badgeBg   *canvas.Circle
	badgeText *canvas.Text
}

const controlSize = 48

func (r *controlRenderer) MinSize() fyne.Size {
	w := float32(controlSize)
	if r.b.look == lookDanger {
		w = 68
	}
	if r.b.text != "" {
		w += r.text.MinSize().Width + 4
	}
	return fyne.NewSize(w, controlSize)
}

func (r *controlRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	r.bg.CornerRadius = size.Height / 2
	const icon = 24
	x := (size.Width - icon) / 2
	if r.b.text != "" {
		tw := r.text.MinSize().Width
		x = (size.Width - icon - 4 - tw) / 2
		r.text.Move(fyne.NewPos(x+icon+4, (size.Height-r.text.MinSize().Height)/2))
		r.text.Resize(r.text.MinSize())
	}
	r.img.Move(fyne.NewPos(x, (size.Height-icon)/2))
	r.img.Resize(fyne.NewSize(icon, icon))
	const bd = 20
	r.badgeBg.Move(fyne.NewPos(size.Width-bd+4, -4))
	r.badgeBg.Resize(fyne.NewSize(bd, bd))
	r.badgeText.Move(fyne.NewPos(size.Width-bd+4, -4+(bd-r.badgeText.MinSize().Height)/2))
	r.badgeText.Resize(fyne.NewSize(bd, r.badgeText.MinSize().Height))
}

func (r *controlRenderer) Refresh() {
	b := r.b
	var fill color.Color
	switch b.look {
	case lookOff, lookDanger:
		fill = colorDanger
		if b.hovered {
			fill = colorDangerHov
		}
	case lookActive:
		fill = colorAccent
		if b.hovered {
			fill = colorAccentHov
		}
	default:
		fill = colorButton
		if b.hovered {
			fill = colorButtonHov
		}
	}
	if b.disabled {
		fill = colorTile
	}
	r.bg.FillColor = fill
	r.img.Resource = b.icon
	r.text.Text = b.text
	setVisible(r.text, b.text != "")
	switch {
	case b.badge > 99:
		r.badgeText.Text = "99+"
	case b.badge > 0:
		r.badgeText.Text = strconv.Itoa(b.badge)
	}
	setVisible(r.badgeBg, b.badge > 0)
	setVisible(r.badgeText, b.badge > 0)
	r.Layout(b.Size())
	r.bg.Refresh()
	r.img.Refresh()
	r.text.Refresh()
	r.badgeBg.Refresh()
	r.badgeText.Refresh()
}

func (r *controlRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.bg, r.img, r.text, r.badgeBg, r.badgeText}
}

func (r *controlRenderer) Destroy() {}

// shortcut is a keyboard shortcut of the call screen.
type shortcut struct {
	key   fyne.KeyName
	shift bool
}

// The call screen's keyboard shortcuts, with Ctrl (Cmd on macOS).
var (
	shortcutMic   = shortcut{key: fyne.KeyD}
	shortcutCam   = shortcut{key: fyne.KeyE}
	shortcutShare = shortcut{key: fyne.KeyS, shift: true}
	shortcutChat  = shortcut{key: fyne.KeyC, shift: true}
	shortcutLeave = shortcut{key: fyne.KeyL, shift: true}
)

// fyne returns the shortcut as Fyne matches it.
func (s shortcut) fyne() *desktop.CustomShortcut {
	mod := fyne.KeyModifierShortcutDefault
	if s.shift {
		mod |= fyne.KeyModifierShift
	}
	return &desktop.CustomShortcut{KeyName: s.key, Modifier: mod}
}

// String writes the shortcut as the platform does: Ctrl+Shift+S, ⇧⌘S.
func (s shortcut) String() string {
	if runtime.GOOS == "darwin" {
		if s.shift {
			return "⇧⌘" + string(s.key)
		}
		return "⌘" + string(s.key)
	}
	if s.shift {
		return "Ctrl+Shift+" + string(s.key)
	}
	return "Ctrl+" + string(s.key)
}

// withShortcut appends the shortcut to a tooltip.
func withShortcut(text string, s shortcut) string {
	return fmt.Sprintf("%s (%s)", text, s)
}

// Controls is the bar at the bottom of the call screen.
type Controls struct {
	// Mic, Camera, Share, Hand, React, Chat, People, View, Devices and
	// Leave are the bar's buttons.
	Mic, Camera, Share, Hand, React, Chat, People, View, Devices, Leave *ControlButton
	// Speaker turns the call's sound off and on (speakeronoff.go).
	Speaker *ControlButton
	// Invite copies an invite link to the call (invite.go); the call
	// screen sets its OnTapped.
	Invite *ControlButton
	// Record starts and stops recording the room (recording.go); it
	// shows, in recordSlot, only when the user may record.
	Record     *ControlButton
	recordSlot *fyne.Container
	// Room shows the room name and Status the connection state.
	Room, Status *canvas.Text

	bar fyne.CanvasObject
}

// newControls builds the bar; the callbacks run on the UI goroutine.
func newControls(tips *tooltipLayer, mic, cam, share, hand, react, chat, people, devices, view, leave func()) *Controls {
	c := &Controls{}
	c.Mic = newControlButton(iconMic, withShortcut("Mute microphone", shortcutMic), lookNormal, tips, mic)
	c.Camera = newControlButton(iconCamera, withShortcut("Turn camera off", shortcutCam), lookNormal, tips, cam)
	c.Share = newControlButton(iconScreenShare, withShortcut("Share your screen", shortcutShare), lookNormal, tips, share)
	c.Hand = newControlButton(iconHand, withShortcut("Raise your hand", shortcutHand), lookNormal, tips, hand)
	c.React = newControlButton(iconReact, "Send a reaction", lookNormal, tips, react)
	c.Leave = newControlButton(iconCallEnd, withShortcut("Leave the call", shortcutLeave), lookDanger, tips, leave)
	c.Chat = newControlButton(iconChat, withShortcut("Open chat", shortcutChat), lookNormal, tips, chat)
	c.People = newControlButton(iconPeople, "People in the call", lookNormal, tips, people)
	c.People.text = "1"
	c.Devices = newControlButton(iconSettings, "Camera and microphone", lookNormal, tips, devices)
	c.View = newControlButton(iconSpeakerView, "Speaker view", lookNormal, tips, view)
	c.Speaker = newControlButton(iconSpeakerOn, "Turn the sound off", lookNormal, tips, nil)
	c.Invite = newControlButton(iconPersonAdd, "Invite someone: copy a link to this call", lookNormal, tips, nil)
	c.Record = newControlButton(iconRecord, "Record this call (everyone in it is told)", lookNormal, tips, nil)
	c.Record.text = "Record"

	c.Room = canvas.NewText("", colorText)
	c.Room.TextStyle.Bold = true
	c.Room.TextSize = 15
	c.Status = canvas.NewText("Connecting…", colorTextDim)
	c.Status.TextSize = 12

	gap := func() fyne.CanvasObject {
		r := canvas.NewRectangle(color.Transparent)
		r.SetMinSize(fyne.NewSize(10, 1))
		return r
	}
	// Record sits with the call's tools, away from Leave: both are red
	// while recording.
	c.recordSlot = container.NewHBox(c.Record, gap())
	c.recordSlot.Hide()
	center := container.NewHBox(c.Mic, gap(), c.Camera, gap(), c.Share, gap(), c.Hand, gap(), c.React, gap(), c.Leave)
	right := container.NewHBox(c.recordSlot, c.View, gap(), c.Speaker, gap(), c.Devices, gap(), c.Invite, gap(), c.People, gap(), c.Chat)
	left := container.NewVBox(layout.NewSpacer(), c.Room, c.Status, layout.NewSpacer())
	row := container.New(&barLayout{}, left, center, right)
	bg := newFill(colorBar)
	c.bar = container.NewStack(bg, container.New(layout.NewCustomPaddedLayout(10, 10, 16, 16), row))
	return c
}

// barLayout puts its first object left, its second centred and its third
// right, each at its minimum size and vertically centred.
type barLayout struct{}

// Layout places the three parts.
func (barLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) != 3 {
		return
	}
	place := func(o fyne.CanvasObject, x float32, w float32) {
		h := o.MinSize().Height
		o.Move(fyne.NewPos(x, (size.Height-h)/2))
		o.Resize(fyne.NewSize(w, h))
	}
	cw := objs[1].MinSize().Width
	rw := objs[2].MinSize().Width
	cx := (size.Width - cw) / 2
	place(objs[2], size.Width-rw, rw)
	// The centre group moves right rather than overlap the left part.
	lw := objs[0].MinSize().Width
	place(objs[0], 0, min(lw, max(cx-12, 0)))
	if cx+cw > size.Width-rw-12 {
		cx = max(0, size.Width-rw-12-cw)
	}
	place(objs[1], cx, cw)
}

// MinSize is the parts side by side.
func (barLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var w, h float32
	for _, o := range objs {
		ms := o.MinSize()
		w += ms.Width + 24
		h = max(h, ms.Height)
	}
	return fyne.NewSize(w, h)
}

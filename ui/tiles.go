package ui

import (
	"hash/fnv"
	"image/color"
	"math"
	"strings"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// tileAspect is the width:height of a tile in the grid.
const tileAspect = 16.0 / 9.0

// tileRadius rounds a tile's corners.
const tileRadius = 10

// Tile shows one participant's camera or screen share: the video, the
// name, a muted-microphone mark, an initials placeholder when there is no
// video, and a border while the person speaks. Tapping it asks to pin it.
// All methods run on the UI goroutine.
type Tile struct {
	widget.BaseWidget

	// Key identifies the tile: the participant id, or the id plus
	// ":screen" for a screen share.
	Key string
	// ParticipantID is whose tile this is.
	ParticipantID string
	// Video is the tile's video view.
	Video *VideoView
	// OnTapped is called when the tile is clicked.
	OnTapped func()

	name      string
	screen    bool
	self      bool
	micMuted  bool
	cameraOff bool
	speaking  bool
	pinned    bool
	quality   qualityMark
	tips      *tooltipLayer // shows the quality tooltip; nil in none
	hand      int           // place in the raised-hand order, 0 for none
	reaction  string        // the emoji floating over the tile, "" for none
	reactGen  int           // counts reactions, so an old timer clears nothing
}

// NewTile returns a tile for a participant's camera (screen false) or
// screen share. The own camera (self) is mirrored.
func NewTile(key, participantID, name string, screen, self bool) *Tile {
	t := &Tile{Key: key, ParticipantID: participantID, name: name, screen: screen, self: self}
	t.Video = NewVideoView(self && !screen)
	t.ExtendBaseWidget(t)
	return t
}

// Name returns the name shown on the tile.
func (t *Tile) Name() string { return t.name }

// IsScreen reports whether the tile shows a screen share.
func (t *Tile) IsScreen() bool { return t.screen }

// IsSelf reports whether the tile is the user's own.
func (t *Tile) IsSelf() bool { return t.self }

// Mirrored reports whether the video is flipped left to right.
func (t *Tile) Mirrored() bool { return t.Video.mirror }

// MicMuted reports whether the muted-microphone mark shows.
func (t *Tile) MicMuted() bool { return t.micMuted }

// CameraOff reports whether the camera is off, so the placeholder shows.
func (t *Tile) CameraOff() bool { return t.cameraOff }

// Speaking reports whether the active-speaker border shows.
func (t *Tile) Speaking() bool { return t.speaking }

// Pinned reports whether the tile is pinned large.
func (t *Tile) Pinned() bool { return t.pinned }

// Quality returns the connection quality mark and its tooltip.
func (t *Tile) Quality() (Quality, string) { return t.quality.level, t.quality.tip }

// setQuality changes the quality mark.
func (t *Tile) setQuality(m qualityMark) {
	if t.quality == m {
		return
	}
	t.quality = m
	t.Refresh()
}

// MouseIn shows the quality tooltip.
func (t *Tile) MouseIn(*desktop.MouseEvent) {
	if t.tips != nil && t.quality.tip != "" {
		t.tips.show(t, t.quality.tip)
	}
}

// MouseMoved does nothing.
func (t *Tile) MouseMoved(*desktop.MouseEvent) {}

// MouseOut hides the tooltip.
func (t *Tile) MouseOut() {
	if t.tips != nil {
		t.tips.hide()
	}
}

// Initials returns the letters shown in the placeholder circle.
func (t *Tile) Initials() string { return initials(t.name) }

// ShowsPlaceholder reports whether the initials (or, for a screen, a
// waiting note) show instead of video.
func (t *Tile) ShowsPlaceholder() bool {
	return t.cameraOff || !t.Video.HasFrame()
}

// label is the text of the name pill.
func (t *Tile) label() string {
	switch {
	case t.screen && t.self:
		return "Your screen"
	case t.screen:
		return t.name + "'s screen"
	case t.self:
		return t.name + " (you)"
	}
	return t.name
}

// setState updates what the tile shows and refreshes it when anything
// changed.
func (t *Tile) setState(name string, micMuted, cameraOff, speaking, pinned bool) {
	if t.name == name && t.micMuted == micMuted && t.cameraOff == cameraOff && t.speaking == speaking && t.pinned == pinned {
		return
	}
	t.name, t.micMuted, t.cameraOff, t.speaking, t.pinned = name, micMuted, cameraOff, speaking, pinned
	t.Refresh()
}

// Hand returns the tile's place in the raised-hand order, 0 when the hand
// is down.
func (t *Tile) Hand() int { return t.hand }

// Reaction returns the emoji floating over the tile, "" for none.
func (t *Tile) Reaction() string { return t.reaction }

// setHand shows or hides the raised-hand badge.
func (t *Tile) setHand(order int) {
	if t.hand != order {
		t.hand = order
		t.Refresh()
	}
}

// showReaction floats emoji over the tile and returns a number that
// clearReaction takes, so a later reaction is not cut short.
func (t *Tile) showReaction(emoji string) int {
	t.reactGen++
	t.reaction = emoji
	t.Refresh()
	return t.reactGen
}

// clearReaction removes the reaction shown as number gen, if it still is.
func (t *Tile) clearReaction(gen int) {
	if gen == t.reactGen && t.reaction != "" {
		t.reaction = ""
		t.Refresh()
	}
}

// updateVideo pulls a new frame and reports whether one was drawn.
func (t *Tile) updateVideo() bool {
	had, size := t.Video.HasFrame(), t.Video.FrameSize()
	drawn := t.Video.Update()
	if drawn && (!had || t.Video.FrameSize() != size) {
		t.Refresh() // the first frame, or a new shape: the background follows
	}
	return drawn
}

// Tapped pins or unpins the tile.
func (t *Tile) Tapped(*fyne.PointEvent) {
	if t.OnTapped != nil {
		t.OnTapped()
	}
}

// Cursor shows a pointing hand over tiles, which are clickable.
func (t *Tile) Cursor() desktop.Cursor { return desktop.PointerCursor }

// CreateRenderer builds the tile's renderer.
func (t *Tile) CreateRenderer() fyne.WidgetRenderer {
	r := &tileRenderer{t: t}
	r.bg = canvas.NewRectangle(colorTile)
	r.bg.CornerRadius = tileRadius
	for i := range r.caps {
		r.caps[i] = canvas.NewRectangle(colorTile)
	}
	for i := range r.mids {
		r.mids[i] = newFill(colorTile)
	}
	r.circle = canvas.NewCircle(avatarColor(t.ParticipantID))
	r.initials = canvas.NewText("", colorText)
	r.initials.TextStyle.Bold = true
	r.initials.Alignment = fyne.TextAlignCenter
	r.note = canvas.NewText("", colorTextDim)
	r.note.Alignment = fyne.TextAlignCenter
	r.pill = canvas.NewRectangle(colorNamePill)
	r.pill.CornerRadius = 6
	r.micOff = canvas.NewImageFromResource(iconMicOff)
	r.micOffBg = canvas.NewCircle(colorDanger)
	r.nameText = canvas.NewText("", colorText)
	r.nameText.TextSize = 13
	r.pin = canvas.NewImageFromResource(iconPin)
	r.pinBg = canvas.NewCircle(colorNamePill)
	r.border = newSpeakingBorder()
	r.qualityBg = canvas.NewRectangle(colorNamePill)
	r.qualityBg.CornerRadius = 6
	for i := range r.bars {
		r.bars[i] = canvas.NewRectangle(colorTextDim)
	}
	r.handBg = canvas.NewRectangle(colorHand)
	r.handBg.CornerRadius = 6
	r.handText = canvas.NewText("", colorHandText)
	r.handText.TextSize = 15
	r.handText.TextStyle.Bold = true
	r.react = canvas.NewText("", colorText)
	r.react.Alignment = fyne.TextAlignCenter
	r.objects = []fyne.CanvasObject{r.bg, r.caps[0], r.caps[1], r.mids[0], r.caps[2], r.caps[3], r.mids[1], t.Video, r.circle, r.initials, r.note, r.pill, r.micOffBg, r.micOff, r.nameText,
		r.pinBg, r.pin, r.qualityBg, r.bars[0], r.bars[1], r.bars[2], r.handBg, r.handText, r.react}
	r.objects = append(r.objects, r.border.objects()...)
	r.Refresh()
	return r
}

type tileRenderer struct {
	t  *Tile
	bg *canvas.Rectangle
	// caps and mids fill the tile beside a letterboxed frame while video
	// shows, in place of bg (a cap at each end of a side and the middle
	// between them, see placeSide): bg under the video would be shaded on
	// every repaint for nothing (25 ms of CPU per frame with software GL in
	// a 4-party call, for four tiles).
	caps     [4]*canvas.Rectangle
	mids     [2]*canvas.Image
	circle   *canvas.Circle
	initials *canvas.Text
	note     *canvas.Text
	pill     *canvas.Rectangle
	micOffBg *canvas.Circle
	micOff   *canvas.Image
	nameText *canvas.Text
	pinBg    *canvas.Circle
	pin      *canvas.Image
	border   *speakingBorder
	// qualityBg and bars are the connection quality mark, top left.
	qualityBg *canvas.Rectangle
	bars      [3]*canvas.Rectangle
	// handBg and handText are the raised-hand badge, top right; react is
	// a reaction floating above the name.
	handBg   *canvas.Rectangle
	handText *canvas.Text
	react    *canvas.Text
	objects  []fyne.CanvasObject
}

func (r *tileRenderer) Layout(size fyne.Size) {
	t := r.t
	r.bg.Resize(size)
	r.layoutBackground(size)
	r.border.layout(size)
	t.Video.Move(fyne.NewPos(0, 0))
	t.Video.Resize(size)

	// Placeholder: a circle with initials, about a third of the tile.
	d := float32(math.Min(float64(size.Width), float64(size.Height)) * 0.38)
	d = float32(math.Min(float64(d), 132))
	r.circle.Resize(fyne.NewSize(d, d))
	r.circle.Move(fyne.NewPos((size.Width-d)/2, (size.Height-d)/2))
	r.initials.TextSize = d * 0.38
	isz := r.initials.MinSize()
	r.initials.Move(fyne.NewPos((size.Width-isz.Width)/2, (size.Height-isz.Height)/2))
	r.initials.Resize(fyne.NewSize(isz.Width, isz.Height))
	nsz := r.note.MinSize()
	r.note.Move(fyne.NewPos((size.Width-nsz.Width)/2, (size.Height-nsz.Height)/2))
	r.note.Resize(nsz)

	// Name pill in the bottom-left corner, with the muted mark first.
	const margin, padX, padY, icon = 8, 8, 4, 18
	textH := r.nameText.MinSize().Height
	pillH := float32(math.Max(float64(textH), icon)) + 2*padY
	maxText := size.Width - 2*margin - 2*padX
	x := float32(padX)
	if t.micMuted {
		maxText -= icon + 6
		x += icon + 6
	}
	r.nameText.Text = truncateText(t.label(), maxText, r.nameText.TextSize, r.nameText.TextStyle)
	tw := r.nameText.MinSize().Width
	pillW := x + tw + padX
	py := size.Height - margin - pillH
	r.pill.Move(fyne.NewPos(margin, py))
	r.pill.Resize(fyne.NewSize(pillW, pillH))
	r.micOffBg.Move(fyne.NewPos(margin+padX-2, py+(pillH-icon)/2-2))
	r.micOffBg.Resize(fyne.NewSize(icon+4, icon+4))
	r.micOff.Move(fyne.NewPos(margin+padX+1, py+(pillH-icon)/2+1))
	r.micOff.Resize(fyne.NewSize(icon-2, icon-2))
	r.nameText.Move(fyne.NewPos(margin+x, py+(pillH-textH)/2))
	r.nameText.Resize(fyne.NewSize(tw, textH))

	// Quality bars in the top-left corner.
	r.qualityBg.Move(fyne.NewPos(margin, margin))
	r.qualityBg.Resize(fyne.NewSize(26, 22))
	for i, b := range r.bars {
		h := float32(5 + 4*i)
		b.Move(fyne.NewPos(margin+5+float32(i)*6, margin+17-h))
		b.Resize(fyne.NewSize(4, h))
	}

	// Pin mark in the top-right corner, and the raised hand left of it.
	const pinD = 28
	r.pinBg.Move(fyne.NewPos(size.Width-margin-pinD, margin))
	r.pinBg.Resize(fyne.NewSize(pinD, pinD))
	r.pin.Move(fyne.NewPos(size.Width-margin-pinD+5, margin+5))
	r.pin.Resize(fyne.NewSize(pinD-10, pinD-10))
	right := size.Width - margin
	if t.pinned {
		right -= pinD + 6
	}
	hs := r.handText.MinSize()
	hw := hs.Width + 2*padX
	r.handBg.Move(fyne.NewPos(right-hw, margin))
	r.handBg.Resize(fyne.NewSize(hw, pinD))
	r.handText.Move(fyne.NewPos(right-hw+padX, margin+(pinD-hs.Height)/2))
	r.handText.Resize(hs)

	// A reaction: large, centred, above the name pill.
	r.react.TextSize = float32(math.Max(24, math.Min(64, float64(size.Height)*0.28)))
	rs := r.react.MinSize()
	r.react.Move(fyne.NewPos(0, py-rs.Height-4))
	r.react.Resize(fyne.NewSize(size.Width, rs.Height))
}

func (r *tileRenderer) MinSize() fyne.Size { return fyne.NewSize(64, 36) }

// layoutBackground shows the tile's background where the video does not
// cover it: the whole tile without video; beside a letterboxed frame, the
// two sides; nothing under a frame that fills the tile, whose own corners
// are then rounded. A side is a plain rectangle with a small rounded cap at
// each of the tile's corners it has: a rounded rectangle costs twice a
// plain one per pixel with software GL. A side thinner than the corner
// radius could not carry the rounded corner, so then the whole background
// shows as before.
func (r *tileRenderer) layoutBackground(size fyne.Size) {
	t := r.t
	t.Video.setCornerRadius(0)
	if t.ShowsPlaceholder() {
		r.showSides(false)
		r.bg.Show()
		return
	}
	f := t.Video.FrameSize()
	pos, sz := fitRect(float32(f.X), float32(f.Y), size)
	// The sides reach 1 unit under the video, so rounding leaves no seam.
	const overlap = 1
	const rad = tileRadius
	switch {
	case size.Width-sz.Width >= 1 && pos.X >= rad: // bars left and right
		right := pos.X + sz.Width - overlap
		w, rw := pos.X+overlap, size.Width-right
		r.placeSide(0, fyne.NewPos(0, 0), fyne.NewSize(w, size.Height), false, [2]corner{{tl: true}, {bl: true}})
		r.placeSide(1, fyne.NewPos(right, 0), fyne.NewSize(rw, size.Height), false, [2]corner{{tr: true}, {br: true}})
	case size.Height-sz.Height >= 1 && pos.Y >= rad: // bars above and below
		below := pos.Y + sz.Height - overlap
		h, bh := pos.Y+overlap, size.Height-below
		r.placeSide(0, fyne.NewPos(0, 0), fyne.NewSize(size.Width, h), true, [2]corner{{tl: true}, {tr: true}})
		r.placeSide(1, fyne.NewPos(0, below), fyne.NewSize(size.Width, bh), true, [2]corner{{bl: true}, {br: true}})
	case size.Width-sz.Width >= 1 || size.Height-sz.Height >= 1: // bars too thin
		r.showSides(false)
		r.bg.Show()
		return
	default: // the frame fills the tile
		r.showSides(false)
		r.bg.Hide()
		t.Video.setCornerRadius(rad)
		return
	}
	r.bg.Hide()
	r.showSides(true)
}

// corner says which of the tile's corners a cap rounds.
type corner struct{ tl, tr, bl, br bool }

// placeSide lays out side i over the rectangle at pos of size sz: a cap
// at each end (the start and end of its length: top and bottom of a
// vertical side, left and right of a horizontal one), rounded as caps
// says, and a middle that overlaps the caps by a unit, so their smoothed
// straight edges do not show as seams.
func (r *tileRenderer) placeSide(i int, pos fyne.Position, sz fyne.Size, horizontal bool, caps [2]corner) {
	const rad = tileRadius
	first, mid, last := r.caps[2*i], r.mids[i], r.caps[2*i+1]
	if horizontal {
		first.Move(pos)
		first.Resize(fyne.NewSize(rad, sz.Height))
		mid.Move(fyne.NewPos(pos.X+rad-1, pos.Y))
		mid.Resize(fyne.NewSize(sz.Width-2*rad+2, sz.Height))
		last.Move(fyne.NewPos(pos.X+sz.Width-rad, pos.Y))
		last.Resize(fyne.NewSize(rad, sz.Height))
	} else {
		first.Move(pos)
		first.Resize(fyne.NewSize(sz.Width, rad))
		mid.Move(fyne.NewPos(pos.X, pos.Y+rad-1))
		mid.Resize(fyne.NewSize(sz.Width, sz.Height-2*rad+2))
		last.Move(fyne.NewPos(pos.X, pos.Y+sz.Height-rad))
		last.Resize(fyne.NewSize(sz.Width, rad))
	}
	for j, c := range caps {
		piece := []*canvas.Rectangle{first, last}[j]
		radius := func(on bool) float32 {
			if on {
				return rad
			}
			return 0
		}
		piece.TopLeftCornerRadius, piece.TopRightCornerRadius = radius(c.tl), radius(c.tr)
		piece.BottomLeftCornerRadius, piece.BottomRightCornerRadius = radius(c.bl), radius(c.br)
	}
}

// showSides shows or hides the pieces of both sides.
func (r *tileRenderer) showSides(on bool) {
	for _, c := range r.caps {
		setVisible(c, on)
	}
	for _, m := range r.mids {
		setVisible(m, on)
	}
}

func (r *tileRenderer) Refresh() {
	t := r.t
	placeholder := t.ShowsPlaceholder()
	setVisible(t.Video, !placeholder)
	setVisible(r.circle, placeholder && !t.screen)
	setVisible(r.initials, placeholder && !t.screen)
	setVisible(r.note, placeholder && t.screen)
	r.initials.Text = t.Initials()
	switch {
	case t.screen && t.self:
		r.note.Text = "You are sharing your screen"
	case t.screen:
		r.note.Text = "Waiting for " + t.label() + "…"
	}
	r.circle.FillColor = avatarColor(t.ParticipantID)
	setVisible(r.micOff, t.micMuted)
	setVisible(r.micOffBg, t.micMuted)
	setVisible(r.pin, t.pinned)
	setVisible(r.pinBg, t.pinned)
	q := t.quality.level
	setVisible(r.qualityBg, q != QualityUnknown)
	fill := map[Quality]color.Color{QualityPoor: colorDanger, QualityFair: colorWarning, QualityGood: colorSpeaking}[q]
	for i, b := range r.bars {
		setVisible(b, q != QualityUnknown)
		if i < int(q) {
			b.FillColor = fill
		} else {
			b.FillColor = colorTextDim
		}
		b.Refresh()
	}
	r.handText.Text = ""
	if t.hand > 0 {
		r.handText.Text = handText(t.hand)
	}
	setVisible(r.handBg, t.hand > 0)
	setVisible(r.handText, t.hand > 0)
	r.react.Text = t.reaction
	setVisible(r.react, t.reaction != "")
	r.border.show(t.speaking)
	r.Layout(t.Size())
	for _, o := range r.objects {
		if o != t.Video {
			canvas.Refresh(o)
		}
	}
}

func (r *tileRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *tileRenderer) Destroy() {}

// setVisible shows or hides o.
func setVisible(o fyne.CanvasObject, visible bool) {
	if visible {
		o.Show()
	} else {
		o.Hide()
	}
}

// initials returns up to two upper-case letters from a name: the first
// letters of its first and last words.
func initials(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) == 0 {
		return "?"
	}
	first := []rune(words[0])[0]
	if len(words) == 1 {
		return strings.ToUpper(string(first))
	}
	last := []rune(words[len(words)-1])[0]
	return strings.ToUpper(string([]rune{first, last}))
}

// avatarColor picks a placeholder colour from a participant id.
func avatarColor(id string) color.NRGBA {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return avatarColors[h.Sum32()%uint32(len(avatarColors))]
}

// truncateText shortens s with an ellipsis until it fits in width.
func truncateText(s string, width, size float32, style fyne.TextStyle) string {
	if width <= 0 {
		return ""
	}
	if fyne.MeasureText(s, size, style).Width <= width {
		return s
	}
	r := []rune(s)
	lo, hi := 0, len(r)
	for lo < hi { // largest prefix that fits with the ellipsis
		mid := (lo + hi + 1) / 2
		if fyne.MeasureText(string(r[:mid])+"…", size, style).Width <= width {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0 {
		return "…"
	}
	return strings.TrimRightFunc(string(r[:lo]), unicode.IsSpace) + "…"
}

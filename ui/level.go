package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"
)

// LevelMeter is a horizontal bar showing a level from 0 to 1.
type LevelMeter struct {
	widget.BaseWidget

	level float64
	track *canvas.Rectangle
	bar   *canvas.Rectangle
}

// NewLevelMeter returns an empty meter.
func NewLevelMeter() *LevelMeter {
	m := &LevelMeter{}
	m.track = canvas.NewRectangle(colorButton)
	m.track.CornerRadius = 4
	m.bar = canvas.NewRectangle(colorSpeaking)
	m.bar.CornerRadius = 4
	m.ExtendBaseWidget(m)
	return m
}

// Level returns the level shown.
func (m *LevelMeter) Level() float64 { return m.level }

// SetLevel shows a new level, clamped to 0..1.
func (m *LevelMeter) SetLevel(l float64) {
	l = max(0, min(1, l))
	if l == m.level {
		return
	}
	m.level = l
	m.Refresh()
}

// CreateRenderer builds the meter's renderer.
func (m *LevelMeter) CreateRenderer() fyne.WidgetRenderer {
	return &meterRenderer{m: m}
}

type meterRenderer struct{ m *LevelMeter }

func (r *meterRenderer) Layout(size fyne.Size) {
	r.m.track.Resize(size)
	r.m.bar.Resize(fyne.NewSize(size.Width*float32(r.m.level), size.Height))
}

func (r *meterRenderer) MinSize() fyne.Size { return fyne.NewSize(120, 8) }

func (r *meterRenderer) Refresh() {
	r.Layout(r.m.Size())
	setVisible(r.m.bar, r.m.level > 0.005)
	r.m.track.Refresh()
	r.m.bar.Refresh()
}

func (r *meterRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.m.track, r.m.bar}
}

func (r *meterRenderer) Destroy() {}

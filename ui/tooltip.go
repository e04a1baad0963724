package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
)

// tooltipLayer draws tooltips above everything else. It sits on top of
// the window content; being made of plain canvas objects it never takes
// mouse events from what lies under it.
type tooltipLayer struct {
	root  *fyne.Container
	box   *fyne.Container
	bg    *canvas.Rectangle
	label *canvas.Text
	delay time.Duration
	gen   int
	do    func(func()) // the app's hand-over to the UI goroutine
	// text is the tooltip showing now, "" when hidden; tests read it.
	text string
}

func newTooltipLayer(do func(func())) *tooltipLayer {
	l := &tooltipLayer{delay: 400 * time.Millisecond, do: do}
	l.bg = canvas.NewRectangle(colorTooltip)
	l.bg.CornerRadius = 6
	l.label = canvas.NewText("", colorText)
	l.label.TextSize = 12
	l.box = container.NewWithoutLayout(l.bg, l.label)
	l.box.Hide()
	l.root = container.NewWithoutLayout(l.box)
	return l
}

// show places a tooltip with text above obj, after a short delay.
func (l *tooltipLayer) show(obj fyne.CanvasObject, text string) {
	l.gen++
	gen := l.gen
	if l.delay <= 0 {
		l.place(obj, text)
		return
	}
	time.AfterFunc(l.delay, func() {
		l.do(func() {
			if l.gen == gen {
				l.place(obj, text)
			}
		})
	})
}

// place shows the tooltip now.
func (l *tooltipLayer) place(obj fyne.CanvasObject, text string) {
	d := fyne.CurrentApp().Driver()
	l.text = text
	l.label.Text = text
	ts := l.label.MinSize()
	const padX, padY = 10, 6
	size := fyne.NewSize(ts.Width+2*padX, ts.Height+2*padY)
	l.bg.Resize(size)
	l.label.Move(fyne.NewPos(padX, padY))
	l.label.Resize(ts)
	l.box.Resize(size)
	at := d.AbsolutePositionForObject(obj).Subtract(d.AbsolutePositionForObject(l.root))
	x := at.X + (obj.Size().Width-size.Width)/2
	x = max(4, min(x, l.root.Size().Width-size.Width-4))
	y := at.Y - size.Height - 8
	if y < 4 {
		y = at.Y + obj.Size().Height + 8
	}
	l.box.Move(fyne.NewPos(x, y))
	l.box.Show()
	l.root.Refresh()
}

// hide removes the tooltip.
func (l *tooltipLayer) hide() {
	l.gen++
	l.text = ""
	if l.box.Visible() {
		l.box.Hide()
		l.root.Refresh()
	}
}

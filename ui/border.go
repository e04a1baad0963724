package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
)

// speakingBorderWidth is how thick the active-speaker border is.
const speakingBorderWidth = 3

// speakingBorder is the active-speaker border around a tile: four straight
// strips along the edges and a quarter ring in each rounded corner. One
// rounded rectangle with a stroke would look the same, but software GL
// (llvmpipe) shades every pixel of its quad to find the stroke, the whole
// tile over the video: 11 of the 72 ms a 4-party frame took with each
// draw timed alone. The strips and rings cover about 2% of that.
type speakingBorder struct {
	strips [4]*canvas.Rectangle // top, bottom, left, right
	rings  [4]*canvas.Arc       // top left, top right, bottom right, bottom left
}

func newSpeakingBorder() *speakingBorder {
	b := &speakingBorder{}
	for i := range b.strips {
		b.strips[i] = canvas.NewRectangle(colorSpeaking)
	}
	// Angles run clockwise from twelve o'clock.
	for i, start := range []float32{270, 0, 90, 180} {
		b.rings[i] = canvas.NewArc(start, start+90, (tileRadius-speakingBorderWidth)/float32(tileRadius), colorSpeaking)
	}
	return b
}

// objects returns the pieces, to draw last (over the video).
func (b *speakingBorder) objects() []fyne.CanvasObject {
	var o []fyne.CanvasObject
	for _, s := range b.strips {
		o = append(o, s)
	}
	for _, r := range b.rings {
		o = append(o, r)
	}
	return o
}

// layout places the pieces around a tile of size sz. A ring's box is the
// circle of the tile's corner; the strips run between the rings and reach
// a unit into them, so the rings' smoothed ends leave no seam.
func (b *speakingBorder) layout(sz fyne.Size) {
	const w, rad, overlap = speakingBorderWidth, tileRadius, 1
	long := func(n float32) float32 { return max(n-2*rad+2*overlap, 0) }
	b.strips[0].Move(fyne.NewPos(rad-overlap, 0))
	b.strips[0].Resize(fyne.NewSize(long(sz.Width), w))
	b.strips[1].Move(fyne.NewPos(rad-overlap, sz.Height-w))
	b.strips[1].Resize(fyne.NewSize(long(sz.Width), w))
	b.strips[2].Move(fyne.NewPos(0, rad-overlap))
	b.strips[2].Resize(fyne.NewSize(w, long(sz.Height)))
	b.strips[3].Move(fyne.NewPos(sz.Width-w, rad-overlap))
	b.strips[3].Resize(fyne.NewSize(w, long(sz.Height)))
	box := fyne.NewSize(2*rad, 2*rad)
	for i, pos := range []fyne.Position{
		{X: 0, Y: 0}, {X: sz.Width - 2*rad, Y: 0},
		{X: sz.Width - 2*rad, Y: sz.Height - 2*rad}, {X: 0, Y: sz.Height - 2*rad},
	} {
		b.rings[i].Move(pos)
		b.rings[i].Resize(box)
	}
}

// show shows or hides the border.
func (b *speakingBorder) show(on bool) {
	for _, s := range b.strips {
		setVisible(s, on)
	}
	for _, r := range b.rings {
		setVisible(r, on)
	}
}

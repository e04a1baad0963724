package ui

import (
	"math"

	"fyne.io/fyne/v2"
)

// gridDims returns the rows and columns of a grid for n tiles: 1 fills,
// 2 side by side, 3–4 as 2×2, 5–6 as 3 columns × 2 rows, 7–9 as 3×3,
// 10–12 as 4×3, 13–16 as 4×4, and so on.
func gridDims(n int) (rows, cols int) {
	if n <= 0 {
		return 0, 0
	}
	cols = int(math.Ceil(math.Sqrt(float64(n))))
	rows = (n + cols - 1) / cols
	return rows, cols
}

// rect is a placed tile.
type rect struct {
	Pos  fyne.Position
	Size fyne.Size
}

// minTileAspect is the narrowest a grid tile gets (4:3, a camera's own
// shape) when that fills the stage better than 16:9.
const minTileAspect = 4.0 / 3.0

// arrangeGrid places n tiles in the grid that makes them largest on size,
// keeping gap between them and around them. A tile is 16:9, or narrower
// down to 4:3 when the cell is taller, so two people on a wide stage use
// most of its height. The grid is centred and a short last row is
// centred too.
func arrangeGrid(n int, size fyne.Size, gap float32) []rect {
	if n == 0 {
		return nil
	}
	var rows, cols int
	var tile fyne.Size
	for c := 1; c <= n; c++ {
		r := (n + c - 1) / c
		if c > 1 && (r-1)*c >= n {
			continue // a whole empty row
		}
		t := gridTile(r, c, size, gap)
		if cols == 0 || t.Width*t.Height > tile.Width*tile.Height+0.5 {
			rows, cols, tile = r, c, t
		}
	}
	blockH := tile.Height*float32(rows) + gap*float32(rows-1)
	y0 := (size.Height - blockH) / 2
	out := make([]rect, 0, n)
	for row := 0; row < rows; row++ {
		inRow := cols
		if row == rows-1 {
			inRow = n - cols*(rows-1)
		}
		rowW := tile.Width*float32(inRow) + gap*float32(inRow-1)
		x0 := (size.Width - rowW) / 2
		for c := 0; c < inRow; c++ {
			out = append(out, rect{
				Pos:  fyne.NewPos(x0+float32(c)*(tile.Width+gap), y0+float32(row)*(tile.Height+gap)),
				Size: tile,
			})
		}
	}
	return out
}

// gridTile is the size of one tile in a rows x cols grid on size: as
// large as fits, 16:9 or down to 4:3.
func gridTile(rows, cols int, size fyne.Size, gap float32) fyne.Size {
	cellW := max((size.Width-gap*float32(cols+1))/float32(cols), 1)
	cellH := max((size.Height-gap*float32(rows+1))/float32(rows), 1)
	aspect := min(max(cellW/cellH, minTileAspect), tileAspect)
	_, tile := fitRect(aspect, 1, fyne.NewSize(cellW, cellH))
	return tile
}

// arrangePinned places tile pinned large over a strip holding the other
// n-1 tiles along the bottom.
func arrangePinned(n, pinned int, size fyne.Size, gap float32) []rect {
	if n == 0 || pinned < 0 || pinned >= n {
		return arrangeGrid(n, size, gap)
	}
	out := make([]rect, n)
	if n == 1 {
		out[0] = rect{Pos: fyne.NewPos(gap, gap), Size: fyne.NewSize(size.Width-2*gap, size.Height-2*gap)}
		return out
	}
	stripH := float32(math.Max(72, math.Min(150, float64(size.Height)*0.18)))
	others := n - 1
	w := stripH * tileAspect
	if total := w*float32(others) + gap*float32(others-1); total > size.Width-2*gap {
		w = (size.Width - 2*gap - gap*float32(others-1)) / float32(others)
	}
	h := w / tileAspect
	stripW := w*float32(others) + gap*float32(others-1)
	x := (size.Width - stripW) / 2
	y := size.Height - gap - h
	out[pinned] = rect{Pos: fyne.NewPos(gap, gap), Size: fyne.NewSize(size.Width-2*gap, y-2*gap)}
	for i := 0; i < n; i++ {
		if i == pinned {
			continue
		}
		out[i] = rect{Pos: fyne.NewPos(x, y), Size: fyne.NewSize(w, h)}
		x += w + gap
	}
	return out
}

// stageLayout lays out the call's tiles: a grid, or the pinned tile large
// over a strip of the others.
type stageLayout struct {
	gap    float32
	pinned fyne.CanvasObject
}

// Layout places the visible objects.
func (l *stageLayout) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	var shown []fyne.CanvasObject
	pinned := -1
	for _, o := range objects {
		if !o.Visible() {
			continue
		}
		if o == l.pinned {
			pinned = len(shown)
		}
		shown = append(shown, o)
	}
	var rects []rect
	if pinned >= 0 {
		rects = arrangePinned(len(shown), pinned, size, l.gap)
	} else {
		rects = arrangeGrid(len(shown), size, l.gap)
	}
	for i, o := range shown {
		o.Move(rects[i].Pos)
		o.Resize(rects[i].Size)
	}
}

// MinSize is small: tiles shrink with the window.
func (l *stageLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(160, 90) }

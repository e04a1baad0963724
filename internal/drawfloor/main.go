// Command drawfloor is a Fyne window that does nothing but show videos:
// tiles of a fixed size whose pictures change at a frame rate, each
// redraw one texture upload per tile, as a call's frames are. It is what
// any Fyne app pays to draw a call's grid with the GL it is given, the
// floor under the app's own drawing; BenchmarkNativeVsBrowser
// (internal/browsertest) measures it beside the app. It decodes and
// converts nothing: its pictures are made once.
package main

import (
	"flag"
	"image"
	"log"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
)

func main() {
	tiles := flag.Int("tiles", 4, "how many videos, in a square grid")
	width := flag.Int("width", 439, "a video's width on screen, in pixels")
	height := flag.Int("height", 329, "a video's height on screen, in pixels")
	fps := flag.Float64("fps", 15, "how many times a second every video changes")
	winW := flag.Int("window-width", 1180, "the window's width")
	winH := flag.Int("window-height", 760, "the window's height")
	flag.Parse()
	if *tiles < 1 || *tiles > 25 || *width < 1 || *width > 4096 || *height < 1 || *height > 4096 || *fps <= 0 || *fps > 120 ||
		*winW < 1 || *winW > 8192 || *winH < 1 || *winH > 8192 {
		log.Fatal("drawfloor: a flag is out of range (tiles 1-25, sizes 1-4096, window up to 8192, fps up to 120)")
	}

	a := app.New()
	w := a.NewWindow("drawfloor")
	imgs := make([]*canvas.Image, *tiles)
	frames := make([]*image.RGBA, *tiles)
	cells := make([]fyne.CanvasObject, *tiles)
	for i := range imgs {
		frames[i] = gradient(*width, *height, uint8(i*60))
		imgs[i] = canvas.NewImageFromImage(frames[i])
		imgs[i].FillMode = canvas.ImageFillStretch
		imgs[i].ScaleMode = canvas.ImageScaleFastest
		imgs[i].SetMinSize(fyne.NewSize(float32(*width), float32(*height)))
		cells[i] = container.NewCenter(imgs[i])
	}
	cols := 1
	for cols*cols < *tiles {
		cols++
	}
	w.SetContent(container.New(layout.NewGridLayout(cols), cells...))
	w.Resize(fyne.NewSize(float32(*winW), float32(*winH)))

	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Duration(float64(time.Second) / *fps))
		defer t.Stop()
		n := 0
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			n++
			fyne.Do(func() {
				for i, img := range imgs {
					// A new picture: one pixel flips, the texture is uploaded whole.
					p := frames[i].Pix
					p[(n*4)%len(p)] ^= 0xff
					img.Refresh()
				}
			})
		}
	}()
	w.ShowAndRun()
	close(done)
	<-stopped
}

// gradient is a w x h picture, red across, green down, blue b.
func gradient(w, h int, b uint8) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := img.PixOffset(x, y)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = uint8(x*255/w), uint8(y*255/h), b, 0xff
		}
	}
	return img
}

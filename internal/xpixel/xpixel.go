//go:build linux && cgo

// Package xpixel reads pixels of an X server's screen, as shown, and
// clicks on it: the benchmarks use it to time how long a click takes to
// change what a person sees.
package xpixel

// #cgo LDFLAGS: -lX11 -lXtst
// #include <stdlib.h>
// #include <X11/Xlib.h>
// #include <X11/Xutil.h>
// #include <X11/extensions/XTest.h>
//
// static int confab_click(Display *d, unsigned int button) {
// 	if (!XTestFakeButtonEvent(d, button, True, CurrentTime)) return 0;
// 	if (!XTestFakeButtonEvent(d, button, False, CurrentTime)) return 0;
// 	XFlush(d);
// 	return 1;
// }
//
// static unsigned long confab_pixel_at(Display *d, int x, int y, int *ok) {
// 	XImage *im = XGetImage(d, DefaultRootWindow(d), x, y, 1, 1, AllPlanes, ZPixmap);
// 	if (im == NULL) { *ok = 0; return 0; }
// 	unsigned long p = XGetPixel(im, 0, 0);
// 	XDestroyImage(im);
// 	*ok = 1;
// 	return p;
// }
import "C"

import (
	"errors"
	"fmt"
)

// ErrNoDisplay means the X display could not be opened.
var ErrNoDisplay = errors.New("xpixel: cannot open the X display")

// Display is a connection to the X server named by $DISPLAY. Its methods
// are for one goroutine.
type Display struct{ d *C.Display }

// Open connects to $DISPLAY.
func Open() (*Display, error) {
	d := C.XOpenDisplay(nil)
	if d == nil {
		return nil, ErrNoDisplay
	}
	return &Display{d: d}, nil
}

// Pixel returns the colour of the root window's pixel at (x, y) as the X
// server holds it (0xRRGGBB on a 24-bit TrueColor screen).
func (d *Display) Pixel(x, y int) (uint32, error) {
	var ok C.int
	p := C.confab_pixel_at(d.d, C.int(x), C.int(y), &ok)
	if ok == 0 {
		return 0, fmt.Errorf("xpixel: no pixel at %d,%d", x, y)
	}
	return uint32(p), nil
}

// Click presses and releases the left mouse button where the pointer is,
// as a person's click reaches the X server (the XTEST extension), and
// returns once the server has the events: unlike running xdotool, it
// starts no process, so a timed click starts when it happens.
func (d *Display) Click() error {
	if C.confab_click(d.d, 1) == 0 {
		return errors.New("xpixel: the X server refused the click (no XTEST extension?)")
	}
	return nil
}

// Close disconnects.
func (d *Display) Close() {
	if d.d != nil {
		C.XCloseDisplay(d.d)
		d.d = nil
	}
}

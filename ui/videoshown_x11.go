//go:build (linux && !android) || freebsd || openbsd || netbsd

package ui

// On X11 a minimised window keeps its size and Fyne keeps painting it, so
// a video view asks the X server whether its window is iconified (ICCCM
// 4.1.3.1: the window manager sets WM_STATE to IconicState) before
// drawing. It uses XCB on a connection of its own: XCB returns errors (a
// window gone meanwhile) as values, where Xlib's default handler would end
// the process.

/*
#cgo LDFLAGS: -lxcb
#include <stdint.h>
#include <stdlib.h>
#include <xcb/xcb.h>

static xcb_connection_t *confab_conn;
static xcb_atom_t confab_wm_state;

// confab_x11_open connects to $DISPLAY and looks up WM_STATE. It returns 0
// when there is no X server to ask.
static int confab_x11_open(void) {
	xcb_connection_t *c = xcb_connect(NULL, NULL);
	if (xcb_connection_has_error(c)) {
		xcb_disconnect(c);
		return 0;
	}
	xcb_intern_atom_reply_t *r = xcb_intern_atom_reply(c, xcb_intern_atom(c, 0, 8, "WM_STATE"), NULL);
	if (r == NULL) {
		xcb_disconnect(c);
		return 0;
	}
	confab_wm_state = r->atom;
	free(r);
	confab_conn = c;
	return 1;
}

// confab_x11_iconic reports whether window w is iconified: 1 if WM_STATE
// says IconicState (3), 0 if not, if no window manager set it, or if the
// window is gone.
static int confab_x11_iconic(uint32_t w) {
	xcb_generic_error_t *err = NULL;
	xcb_get_property_reply_t *r = xcb_get_property_reply(confab_conn,
		xcb_get_property(confab_conn, 0, w, confab_wm_state, XCB_ATOM_ANY, 0, 1), &err);
	free(err);
	if (r == NULL) {
		return 0;
	}
	int iconic = r->format == 32 && xcb_get_property_value_length(r) >= 4 &&
		*(uint32_t *)xcb_get_property_value(r) == 3;
	free(r);
	return iconic;
}
*/
import "C"

import (
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver"
)

// x11 is the process's one connection for these questions, opened on
// first use; ok is false when there is no X server (Wayland, tests).
var x11 struct {
	once sync.Once
	ok   bool
}

// windowShown reports whether the window of canvas c is shown, that is not
// minimised. It says yes whenever it cannot tell.
func windowShown(c fyne.Canvas) bool {
	var xid uintptr
	for _, w := range fyne.CurrentApp().Driver().AllWindows() {
		if w.Canvas() != c {
			continue
		}
		if nw, ok := w.(driver.NativeWindow); ok {
			nw.RunNative(func(ctx any) {
				if x, ok := ctx.(driver.X11WindowContext); ok {
					xid = x.WindowHandle
				}
			})
		}
		break
	}
	if xid == 0 {
		return true
	}
	x11.once.Do(func() { x11.ok = C.confab_x11_open() != 0 })
	return !x11.ok || C.confab_x11_iconic(C.uint32_t(xid)) == 0
}

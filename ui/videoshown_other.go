//go:build !((linux && !android) || freebsd || openbsd || netbsd)

package ui

import "fyne.io/fyne/v2"

// windowShown reports whether the window of canvas c is shown. Only X11
// is asked (see videoshown_x11.go); elsewhere a window always counts as
// shown.
func windowShown(fyne.Canvas) bool { return true }

package vp8enc

import "errors"

// Sentinel errors of package vp8enc; match them with errors.Is.
var (
	// ErrConfig means a Config value is out of range.
	ErrConfig = errors.New("vp8enc: bad config")
	// ErrLibvpx means libvpx refused a call; the message has its reason.
	ErrLibvpx = errors.New("vp8enc: libvpx")
	// ErrClosed means the encoder has been closed.
	ErrClosed = errors.New("vp8enc: closed")
)

package capture

import "errors"

// Sentinel errors of package capture; match them with errors.Is.
var (
	// ErrNoDevice means no registered driver matches the request: no
	// camera, microphone or screen of that id, or no driver registered for
	// that kind at all (the mains blank-import the drivers).
	ErrNoDevice = errors.New("capture: no such device")
	// ErrOpen means the device exists but could not be opened or started.
	ErrOpen = errors.New("capture: open device")
	// ErrCodecNotNegotiated means Bind found neither VP8 (video) nor Opus
	// (audio) among the codecs the PeerConnection negotiated.
	ErrCodecNotNegotiated = errors.New("capture: codec not negotiated")
	// ErrClosed means the track has been closed.
	ErrClosed = errors.New("capture: track closed")
	// ErrConfig means an option value is out of range.
	ErrConfig = errors.New("capture: bad option")
)

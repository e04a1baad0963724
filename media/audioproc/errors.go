package audioproc

import "errors"

// Sentinel errors of package audioproc; match them with errors.Is.
var (
	// ErrEngine means the processing library failed to start or to
	// process a frame.
	ErrEngine = errors.New("audioproc: engine failed")
	// ErrClosed means the Processor was closed.
	ErrClosed = errors.New("audioproc: closed")
	// ErrConfig means an option is out of range.
	ErrConfig = errors.New("audioproc: bad configuration")
)

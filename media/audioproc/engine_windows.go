package audioproc

// On Windows the WebRTC AudioProcessing module is not built in: its Debian
// source package, which scripts/winlibs.sh would cross-build it from, is
// not available, so Windows builds run speexdsp's canceller and
// preprocessor (engine_speex.go) and Processor.Engine reports EngineSpeex.

import "C"

import "fmt"

// defaultEngine is what New uses unless WithEngine says otherwise.
const defaultEngine = EngineSpeex

func newWebRTC() (engine, error) {
	return nil, fmt.Errorf("%w: the WebRTC engine is not built into Windows builds (use EngineSpeex)", ErrConfig)
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

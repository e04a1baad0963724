//go:build !windows

package audioproc

// defaultEngine is what New uses unless WithEngine says otherwise.
const defaultEngine = EngineWebRTC

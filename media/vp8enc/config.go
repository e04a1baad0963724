package vp8enc

import (
	"fmt"
	"runtime"
)

// Defaults for zero Config fields.
const (
	DefaultFrameRate        = 30
	DefaultBitRate          = 800_000
	DefaultKeyFrameInterval = 3000 // frames; receivers ask with PLI when they need one sooner
	// MinBitRate is the lowest target SetBitRate and New accept.
	MinBitRate = 30_000
)

// Rate control, as WebRTC's libvpx VP8 wrapper sets it for calls: a buffer
// of one second, refilled to 600 ms, starting at 500 ms; undershoot freely,
// overshoot by at most 15 %; a keyframe may take at most 9 times an
// average frame's bits (WebRTC's MaxIntraTarget for a 600 ms buffer at
// 30 fps), so it does not flood the path.
const (
	bufferMS          = 1000
	bufferInitialMS   = 500
	bufferOptimalMS   = 600
	undershootPct     = 100
	overshootPct      = 15
	minQuantizer      = 2
	maxQuantizer      = 63
	screenMinQuant    = 12
	maxIntraBitRatePc = 900
	staticThreshold   = 1
)

// Config is what an Encoder is built with. Zero fields take the defaults.
type Config struct {
	// Width and Height are the frame size. A frame of another size makes
	// the encoder start again at that size with a keyframe.
	Width, Height int
	// FrameRate is the rate the source delivers, for rate control.
	// Timestamps passed to Encode decide the real frame durations.
	// Default 30.
	FrameRate float64
	// BitRate is the target in bit/s. Default 800 kbit/s.
	BitRate int
	// KeyFrameInterval is the longest gap between keyframes in frames.
	// Default 3000.
	KeyFrameInterval int
	// CPUUsed is libvpx's VP8 speed, -16..-1: higher magnitude encodes
	// faster at lower quality. 0 picks one by resolution (CPUUsedFor).
	// libvpx's own 0 (let the encoder slow itself down until a frame takes
	// a whole frame interval) is never used.
	CPUUsed int
	// Threads is how many threads libvpx encodes with; 0 picks by core
	// count and size (ThreadsFor).
	Threads int
	// DropFrameThreshold is libvpx's rc_dropframe_thresh (0..100): the
	// buffer fullness in percent below which the rate control skips a
	// frame. 0 (default) never skips: a 30 fps source sends 30 fps and
	// the quantizer absorbs a too-low bit rate.
	DropFrameThreshold int
	// Screen tunes for screen content (text, sharp edges, still areas).
	Screen bool

	psnr bool // have libvpx measure each frame's PSNR (benchmarks)
}

// CPUUsedFor returns the cpu-used (VP8 realtime speed) for a frame size:
// -6 up to 640x480, -8 above (WebRTC's desktop choices).
// Measured on a 2-core machine with the test pattern at 640x480, one
// thread: -4 takes 3.3 ms of CPU per frame, -6 2.0 ms, -8 to -12 1.9 ms, at
// the same PSNR and bit rate; -6 is where going faster stops paying.
func CPUUsedFor(width, height int) int {
	if width*height <= 640*480 {
		return -6
	}
	return -8
}

// ThreadsFor returns how many encoder threads to use for a frame size on
// this many cores, after WebRTC: one up to 640x480 and on machines of one
// or two cores, then 2, 3 or 8 by size and cores. VP8's threads wait on
// each other by spinning: on a busy 2-core machine two threads took 20 to
// 40 ms of CPU per 640x480 frame with stalls past 100 ms, against 2 ms
// for one thread.
func ThreadsFor(width, height, cpus int) int {
	px := width * height
	switch {
	case px >= 1920*1080 && cpus > 8:
		return 8
	case px > 640*480 && cpus >= 6:
		return 3
	case px > 640*480 && cpus >= 3:
		return 2
	}
	return 1
}

// tokenPartitions returns VP8E_SET_TOKEN_PARTITIONS (log2 of the count)
// for threads: one partition per thread, so decoders can go in parallel
// as well.
func tokenPartitions(threads int) int {
	switch {
	case threads >= 8:
		return 3
	case threads >= 4:
		return 2
	case threads >= 2:
		return 1
	}
	return 0
}

// withDefaults fills zero fields and checks ranges.
func (c Config) withDefaults() (Config, error) {
	if c.FrameRate == 0 {
		c.FrameRate = DefaultFrameRate
	}
	if c.BitRate == 0 {
		c.BitRate = DefaultBitRate
	}
	if c.KeyFrameInterval == 0 {
		c.KeyFrameInterval = DefaultKeyFrameInterval
	}
	cpus := runtime.NumCPU()
	if c.CPUUsed == 0 {
		c.CPUUsed = CPUUsedFor(c.Width, c.Height)
	}
	if c.Threads == 0 {
		c.Threads = ThreadsFor(c.Width, c.Height, cpus)
	}
	switch {
	case c.Width <= 0 || c.Height <= 0 || c.Width > 16383 || c.Height > 16383:
		return c, fmt.Errorf("%w: size %dx%d", ErrConfig, c.Width, c.Height)
	case c.FrameRate < 0 || c.FrameRate > 240:
		return c, fmt.Errorf("%w: frame rate %g", ErrConfig, c.FrameRate)
	case c.BitRate < MinBitRate:
		return c, fmt.Errorf("%w: bit rate %d below %d", ErrConfig, c.BitRate, MinBitRate)
	case c.KeyFrameInterval < 0:
		return c, fmt.Errorf("%w: keyframe interval %d", ErrConfig, c.KeyFrameInterval)
	case c.CPUUsed < -16 || c.CPUUsed > 16:
		return c, fmt.Errorf("%w: cpu-used %d", ErrConfig, c.CPUUsed)
	case c.Threads < 0 || c.Threads > 64:
		return c, fmt.Errorf("%w: threads %d", ErrConfig, c.Threads)
	case c.DropFrameThreshold < 0 || c.DropFrameThreshold > 100:
		return c, fmt.Errorf("%w: drop-frame threshold %d", ErrConfig, c.DropFrameThreshold)
	}
	return c, nil
}

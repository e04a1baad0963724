// Package media holds what Confab's media pipeline shares and what needs no
// cgo: the RTP codec parameters both ends negotiate (RegisterCodecs), the
// latest-frame slot video tiles read from (FrameSlot), the I420 to RGBA
// conversion feeding it, and the RFC 6464 audio-level arithmetic.
//
// The cgo parts live in subpackages: media/capture (devices and the VP8 and
// Opus encoders behind webrtc.TrackLocal), media/decode (RTP to RGBA frames
// and to PCM) and media/playout (mixing and the speaker). The server binary
// may import this package; it builds with CGO_ENABLED=0.
//
// Nothing here imports fyne.io and nothing blank-imports device drivers: the
// mains register the mediadevices drivers they want.
package media

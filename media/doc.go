// Package media holds what Confab's media pipeline shares: the RTP codec
// parameters both ends negotiate (RegisterCodecs), the latest-frame slot
// video tiles read from (FrameSlot, I420 frames that libyuv scales and
// converts to RGBA only when a view draws them), and the RFC 6464
// audio-level arithmetic.
//
// The frame slot needs cgo (libyuv), so the server binary, which builds
// with CGO_ENABLED=0, must not import this package. The other cgo parts
// live in subpackages: media/capture (devices and the VP8 and Opus encoders
// behind webrtc.TrackLocal), media/decode (RTP to I420 frames and to PCM)
// and media/playout (mixing and the speaker).
//
// Nothing here imports fyne.io and nothing blank-imports device drivers: the
// mains register the mediadevices drivers they want.
package media

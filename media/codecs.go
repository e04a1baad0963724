package media

import (
	"fmt"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// AudioLevelURI is the RTP header extension of RFC 6464 (client-to-mixer
// audio level) that Confab's microphone tracks send on every packet.
const AudioLevelURI = sdp.AudioLevelURI

// Payload types Confab offers. They match signaling/sfu so both ends agree
// without remapping.
const (
	VP8PayloadType  webrtc.PayloadType = 96
	OpusPayloadType webrtc.PayloadType = 111
)

// VP8Codec returns the VP8 codec parameters Confab negotiates: 90 kHz clock,
// NACK, PLI, FIR, REMB and transport-wide congestion control feedback.
func VP8Codec() webrtc.RTPCodecParameters {
	return webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType:  webrtc.MimeTypeVP8,
			ClockRate: 90000,
			RTCPFeedback: []webrtc.RTCPFeedback{
				{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"},
				{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "transport-cc"},
			},
		},
		PayloadType: VP8PayloadType,
	}
}

// OpusCodec returns the Opus codec parameters Confab negotiates: 48 kHz,
// two channels in SDP as RFC 7587 requires, in-band FEC allowed.
func OpusCodec() webrtc.RTPCodecParameters {
	return webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType:     webrtc.MimeTypeOpus,
			ClockRate:    48000,
			Channels:     2,
			SDPFmtpLine:  "minptime=10;useinbandfec=1",
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: "transport-cc"}},
		},
		PayloadType: OpusPayloadType,
	}
}

// RegisterCodecs registers VP8, Opus and the RFC 6464 audio-level header
// extension (audio only) in me. It registers no interceptors: callers add
// them with webrtc.RegisterDefaultInterceptors as they see fit.
func RegisterCodecs(me *webrtc.MediaEngine) error {
	if err := me.RegisterCodec(VP8Codec(), webrtc.RTPCodecTypeVideo); err != nil {
		return fmt.Errorf("media: register vp8: %w", err)
	}
	if err := me.RegisterCodec(OpusCodec(), webrtc.RTPCodecTypeAudio); err != nil {
		return fmt.Errorf("media: register opus: %w", err)
	}
	if err := me.RegisterHeaderExtension(
		webrtc.RTPHeaderExtensionCapability{URI: AudioLevelURI}, webrtc.RTPCodecTypeAudio,
	); err != nil {
		return fmt.Errorf("media: register audio level extension: %w", err)
	}
	return nil
}

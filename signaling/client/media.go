package client

import (
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// LocalMedia opens the local capture devices. The session opens a source
// when it is turned on and closes it when it is turned off, so a camera's
// light is on only while it is in use.
type LocalMedia interface {
	OpenMicrophone() (LocalTrack, error)
	OpenCamera() (LocalTrack, error)
	OpenScreen() (LocalTrack, error)
}

// LocalTrack is an open capture source the session can send.
type LocalTrack interface {
	webrtc.TrackLocal
	Close() error
}

// Previewer is implemented by local video tracks that can show what they
// capture; the session reports it as the local participant's video.
type Previewer interface {
	Preview() VideoSource
}

// Decoders makes the decoders for remote tracks.
type Decoders interface {
	NewVideoDecoder(requestKeyframe func()) (VideoDecoder, error)
	NewAudioDecoder() (AudioDecoder, error)
}

// VideoDecoder turns the RTP packets of one remote video track into frames
// in its Source. It calls the requestKeyframe function it was made with
// when it cannot go on until the next keyframe. Push is called from one
// goroutine; the rest from any. Push must copy what it keeps of pkt: the
// session reads every packet of a track into the same buffer.
type VideoDecoder interface {
	Push(pkt *rtp.Packet) error
	FramesDecoded() uint64
	Source() VideoSource
	Close() error
}

// AudioDecoder buffers and decodes the RTP packets of one remote audio
// track; the AudioSink pulls PCM from it at the speaker's pace.
type AudioDecoder interface {
	Push(pkt *rtp.Packet)
	Decoded() uint64
	Close() error
}

// AudioSink plays decoded remote audio: Add starts pulling from a
// participant's decoder, Remove stops.
type AudioSink interface {
	Add(participant string, dec AudioDecoder)
	Remove(participant string)
}

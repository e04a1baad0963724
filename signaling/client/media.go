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
	NewVideoDecoder() (VideoDecoder, error)
	NewAudioDecoder() (AudioDecoder, error)
}

// VideoDecoder turns the RTP packets of one remote video track into frames
// in its Source. Push reports needKeyframe when decoding cannot go on until
// the next keyframe; the session then asks the sender for one.
type VideoDecoder interface {
	Push(pkt *rtp.Packet) (frames int, needKeyframe bool, err error)
	Source() VideoSource
	Close() error
}

// AudioDecoder turns the RTP packets of one remote audio track into PCM.
type AudioDecoder interface {
	Push(pkt *rtp.Packet) (pcm []int16, err error)
	Close() error
}

// AudioSink plays decoded remote audio. Write is called from one goroutine
// per remote participant; Remove when that participant's audio ends.
type AudioSink interface {
	Write(participant string, pcm []int16)
	Remove(participant string)
}

package decode_test

import (
	"bytes"
	"image"
	"testing"
	"time"

	_ "github.com/pion/mediadevices/pkg/driver/audiotest"
	_ "github.com/pion/mediadevices/pkg/driver/videotest"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/media"
	"github.com/confab/confab/media/capture"
	"github.com/confab/confab/media/decode"
	"github.com/confab/confab/media/internal/mediatest"
)

// TestVideoRoundTrip sends the videotest camera through the real VP8
// encoder and packetizer of a capture.VideoTrack, bound to a recording
// context instead of a PeerConnection, and decodes the packets back.
func TestVideoRoundTrip(t *testing.T) {
	c, err := capture.New()
	if err != nil {
		t.Fatal(err)
	}
	cam, err := c.OpenCamera("")
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()

	ctx := mediatest.NewContext("v", media.VP8Codec(), nil, 4096)
	defer ctx.Close()
	if _, err := cam.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	defer cam.Unbind(ctx)

	slot := media.NewFrameSlot()
	dec, err := decode.NewVideoDecoder(slot)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()

	const want = 20
	var first *image.RGBA
	var firstSeq uint64
	deadline := time.After(20 * time.Second)
	for dec.FramesDecoded() < want {
		select {
		case p := <-ctx.Packets:
			if p.PayloadType != uint8(media.VP8PayloadType) || p.SSRC != 1234 {
				t.Fatalf("packet pt %d ssrc %d", p.PayloadType, p.SSRC)
			}
			if err := dec.Push(p); err != nil {
				t.Fatalf("push: %v (stats %+v)", err, dec.Stats())
			}
		case <-deadline:
			t.Fatalf("decoded %d frames, want %d; stats %+v", dec.FramesDecoded(), want, dec.Stats())
		}
		if first == nil && slot.Seq() > 0 {
			first, firstSeq = slot.Latest()
		}
	}
	last, lastSeq := slot.Latest()
	if last.Bounds() != image.Rect(0, 0, 640, 480) {
		t.Fatalf("frame size %v, want 640x480", last.Bounds())
	}
	if lastSeq <= firstSeq || bytes.Equal(first.Pix, last.Pix) {
		t.Fatal("pixels did not change between frames")
	}
	// The test pattern's colour bars: top-left is light grey (Y=176).
	if px := last.RGBAAt(10, 10); px.R < 150 || px.R > 200 || px.G < 150 || px.B < 150 {
		t.Errorf("top-left pixel %v is not the grey bar", px)
	}
	st := dec.Stats()
	t.Logf("stats %+v, captured %d, sent %d", st, cam.FramesCaptured(), cam.FramesSent())
	if st.KeyFrames < 1 || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}

	// A PLI makes the encoder send a keyframe at once (the regular
	// interval is 60 frames, 2 s). Packets are only inspected from here:
	// under -race decoding is slower than the camera.
	if err := ctx.SendRTCP(&rtcp.PictureLossIndication{MediaSSRC: 1234}); err != nil {
		t.Fatal(err)
	}
	frames := 0
	deadline = time.After(5 * time.Second)
	for {
		select {
		case p := <-ctx.Packets:
			if mediatest.IsVP8KeyFrameStart(p) {
				t.Logf("keyframe %d frames after the PLI", frames)
				if frames > 30 {
					t.Errorf("keyframe only %d frames after the PLI", frames)
				}
				return
			}
			if p.Marker {
				frames++
			}
		case <-deadline:
			t.Fatal("no keyframe after a PLI")
		}
	}
}

// TestAudioRoundTrip sends the audiotest microphone (a 480 Hz sine at a
// quarter of full scale) through the real Opus encoder of a
// capture.AudioTrack and decodes it back, checking the RFC 6464 extension
// on the way.
func TestAudioRoundTrip(t *testing.T) {
	c, err := capture.New()
	if err != nil {
		t.Fatal(err)
	}
	mic, err := c.OpenMicrophone("")
	if err != nil {
		t.Fatal(err)
	}
	defer mic.Close()

	const extID = 7
	ctx := mediatest.NewContext("a", media.OpusCodec(),
		[]webrtc.RTPHeaderExtensionParameter{{URI: media.AudioLevelURI, ID: extID}}, 1024)
	defer ctx.Close()
	if _, err := mic.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	defer mic.Unbind(ctx)

	dec, err := decode.NewAudioDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()

	pcm := make([]int16, 960) // one 20 ms packet's worth per packet: real time
	var played []int16
	var prev *rtp.Packet
	deadline := time.After(10 * time.Second)
	for len(played) < 48000/2 {
		select {
		case p := <-ctx.Packets:
			checkAudioPacket(t, p, prev, extID)
			prev = p
			dec.Push(p)
			n := dec.ReadPCM(pcm)
			played = append(played, pcm[:n]...)
		case <-deadline:
			t.Fatalf("played %d samples; stats %+v", len(played), dec.Stats())
		}
	}
	rms := media.RMSInt16(played[4800:]) // skip the codec's start-up
	t.Logf("rms %.3f, level %.2f, stats %+v, mic level %.2f", rms, dec.Level(), dec.Stats(), mic.Level())
	if rms < 0.1 || rms > 0.25 { // a 0.25 sine has an RMS of 0.177
		t.Fatalf("decoded RMS %.3f, want about 0.177", rms)
	}
	if mic.Level() < 0.5 {
		t.Errorf("mic meter level %.2f for a -15 dBov tone", mic.Level())
	}
	if st := dec.Stats(); st.Decoded == 0 || st.Errors != 0 || st.Lost != 0 || st.Late != 0 {
		t.Errorf("stats %+v", st)
	}
}

func checkAudioPacket(t *testing.T, p, prev *rtp.Packet, extID uint8) {
	t.Helper()
	if p.PayloadType != uint8(media.OpusPayloadType) {
		t.Fatalf("payload type %d", p.PayloadType)
	}
	raw := p.GetExtension(extID)
	if raw == nil {
		t.Fatalf("packet %d has no audio level extension %d", p.SequenceNumber, extID)
	}
	var lvl rtp.AudioLevelExtension
	if err := lvl.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	// -20 log10(0.25/sqrt 2) = 15 dB; allow for the first, partial packet.
	if prev != nil && (lvl.Level < 13 || lvl.Level > 17 || !lvl.Voice) {
		t.Fatalf("audio level %+v, want about 15 dBov with voice", lvl)
	}
	if prev != nil {
		if p.SequenceNumber != prev.SequenceNumber+1 || p.Timestamp-prev.Timestamp != 960 || p.Marker {
			t.Fatalf("packet %d ts %d marker %v after %d ts %d", p.SequenceNumber, p.Timestamp, p.Marker,
				prev.SequenceNumber, prev.Timestamp)
		}
	} else if !p.Marker {
		t.Fatal("first packet lacks the marker bit")
	}
}

package capture_test

import (
	"errors"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/media"
	"github.com/confab/confab/media/capture"
	"github.com/confab/confab/media/internal/mediatest"
)

// next waits for the next packet written to ctx.
func next(t *testing.T, ctx *mediatest.Context) *rtp.Packet {
	t.Helper()
	select {
	case p := <-ctx.Packets:
		return p
	case <-time.After(3 * time.Second):
		t.Fatal("no packet within 3 s")
		return nil
	}
}

// drain empties ctx's queue and returns the last packet in it.
func drain(ctx *mediatest.Context) *rtp.Packet {
	var last *rtp.Packet
	for {
		select {
		case p := <-ctx.Packets:
			last = p
		default:
			return last
		}
	}
}

// TestStreamContinuesAcrossTracks binds one camera track to a sender,
// unbinds it, closes it and binds a new track to the same sender, as
// RTPSender.ReplaceTrack does: the RTP stream must continue, not restart
// at a random sequence number that receivers would drop.
func TestStreamContinuesAcrossTracks(t *testing.T) {
	c, err := capture.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx := mediatest.NewContext("sender-1", media.VP8Codec(), nil, 4096)
	defer ctx.Close()

	cam1, err := c.OpenCamera("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cam1.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	next(t, ctx)
	time.Sleep(200 * time.Millisecond)
	if err := cam1.Unbind(ctx); err != nil {
		t.Fatal(err)
	}
	last := drain(ctx)
	if err := cam1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cam1.Unbind(ctx); err != nil { // pion may unbind twice
		t.Fatal(err)
	}

	cam2, err := c.OpenCamera("")
	if err != nil {
		t.Fatal(err)
	}
	defer cam2.Close()
	if _, err := cam2.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	first := next(t, ctx)
	if first.SequenceNumber != last.SequenceNumber+1 {
		t.Fatalf("sequence restarted: %d after %d", first.SequenceNumber, last.SequenceNumber)
	}
	if d := first.Timestamp - last.Timestamp; d == 0 || d > 90000*5 {
		t.Fatalf("timestamp jumped by %d", d)
	}
	if first.SSRC != last.SSRC {
		t.Fatal("ssrc changed")
	}
	if err := cam2.Unbind(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestBindNeedsTheCodec(t *testing.T) {
	c, err := capture.New()
	if err != nil {
		t.Fatal(err)
	}
	cam, err := c.OpenCamera("")
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	mic, err := c.OpenMicrophone("")
	if err != nil {
		t.Fatal(err)
	}
	defer mic.Close()
	if _, err := cam.Bind(mediatest.NewContext("a", media.OpusCodec(), nil, 1)); !errors.Is(err, capture.ErrCodecNotNegotiated) {
		t.Errorf("camera bound to opus: %v", err)
	}
	if _, err := mic.Bind(mediatest.NewContext("b", media.VP8Codec(), nil, 1)); !errors.Is(err, capture.ErrCodecNotNegotiated) {
		t.Errorf("mic bound to vp8: %v", err)
	}

	// Without the audio-level extension negotiated, packets go out without it.
	ctx := mediatest.NewContext("c", media.OpusCodec(), []webrtc.RTPHeaderExtensionParameter{}, 64)
	defer ctx.Close()
	if _, err := mic.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	if p := next(t, ctx); p.Extension {
		t.Errorf("extension set though not negotiated: %+v", p.Header)
	}
	mic.Unbind(ctx)

	cam.Close()
	if _, err := cam.Bind(mediatest.NewContext("d", media.VP8Codec(), nil, 1)); !errors.Is(err, capture.ErrClosed) {
		t.Errorf("closed track bound: %v", err)
	}
}

package decode

import (
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"math/rand"
	"testing"

	"github.com/pion/mediadevices/pkg/codec/vpx"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/confab/confab/media"
	"github.com/confab/confab/media/internal/mediatest"
)

// encodeVP8 encodes n synthetic w x h frames (a moving gradient) with the
// same libvpx settings capture uses and returns each frame's RTP packets.
func encodeVP8(tb testing.TB, w, h, n int) [][]*rtp.Packet {
	tb.Helper()
	pk := rtp.NewPacketizer(1200, 96, 42, &codecs.VP8Payloader{EnablePictureID: true}, rtp.NewFixedSequencer(1), 90000)
	out := make([][]*rtp.Packet, 0, n)
	for _, data := range encodeVP8Frames(tb, w, h, n) {
		out = append(out, pk.Packetize(data, 3000))
	}
	return out
}

// encodeVP8Frames encodes n synthetic w x h frames (a moving gradient) with
// the same libvpx settings capture uses and returns the VP8 frames.
func encodeVP8Frames(tb testing.TB, w, h, n int) [][]byte {
	tb.Helper()
	params, err := vpx.NewVP8Params()
	if err != nil {
		tb.Fatal(err)
	}
	params.BitRate = 800_000
	params.KeyFrameInterval = 60
	params.RateControlEndUsage = vpx.RateControlCBR
	params.ErrorResilient = vpx.ErrorResilientDefault
	frame := 0
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	src := video.ReaderFunc(func() (image.Image, func(), error) {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				img.Y[y*img.YStride+x] = uint8(x + y + 4*frame)
			}
		}
		for i := range img.Cb {
			img.Cb[i] = uint8(128 + frame)
			img.Cr[i] = uint8(128 - frame)
		}
		frame++
		return img, func() {}, nil
	})
	enc, err := params.BuildVideoEncoder(src, prop.Media{Video: prop.Video{Width: w, Height: h, FrameRate: 30}})
	if err != nil {
		tb.Fatal(err)
	}
	defer enc.Close()
	out := make([][]byte, 0, n)
	for len(out) < n {
		data, _, err := enc.Read()
		if err != nil {
			tb.Fatal(err)
		}
		if len(data) == 0 {
			continue
		}
		out = append(out, append([]byte(nil), data...))
	}
	return out
}

// restamp gives a copy of frames consecutive sequence numbers from seq and
// timestamps from ts, as a sender looping the clip would.
func restamp(frames [][]*rtp.Packet, seq uint16, ts uint32) ([][]*rtp.Packet, uint16, uint32) {
	out := make([][]*rtp.Packet, len(frames))
	for i, f := range frames {
		for _, p := range f {
			c := *p
			c.Payload = append([]byte(nil), p.Payload...)
			c.SequenceNumber = seq
			c.Timestamp = ts
			seq++
			out[i] = append(out[i], &c)
		}
		ts += 3000
	}
	return out, seq, ts
}

func TestVideoDecoderLossAsksForKeyFrame(t *testing.T) {
	frames := encodeVP8(t, 160, 120, 30)
	requests := 0
	slot := media.NewFrameSlot()
	d, err := NewVideoDecoder(slot, WithKeyFrameRequest(func() { requests++ }, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !d.NeedKeyFrame() {
		t.Fatal("a new decoder must wait for a keyframe")
	}
	var needKey int
	for i, f := range frames {
		if i == 5 {
			continue // lose a whole frame
		}
		for _, p := range f {
			if err := d.Push(p); errors.Is(err, ErrNeedKeyFrame) {
				needKey++
			} else if err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
		}
	}
	st := d.Stats()
	t.Logf("stats %+v", st)
	if st.Frames < 4 || needKey == 0 || requests == 0 || !d.NeedKeyFrame() {
		t.Fatalf("after a loss: frames %d, ErrNeedKeyFrame %d times, %d requests, need key %v",
			st.Frames, needKey, requests, d.NeedKeyFrame())
	}
	if got := slot.Seq(); got != st.Frames {
		t.Fatalf("slot seq %d, frames %d", got, st.Frames)
	}
	img, _ := slot.Latest()
	if img.Bounds() != image.Rect(0, 0, 160, 120) {
		t.Fatalf("size %v", img.Bounds())
	}
}

// TestVideoDecoderOddSize decodes a picture of odd width and height: the
// last chroma column and row must come through (a decoder that copied
// width/2 chroma samples left the right edge green).
func TestVideoDecoderOddSize(t *testing.T) {
	slot := media.NewFrameSlot()
	d, err := NewVideoDecoder(slot)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, f := range encodeVP8(t, 161, 121, 5) {
		for _, p := range f {
			if err := d.Push(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	img, _ := slot.Latest()
	if img.Bounds() != image.Rect(0, 0, 161, 121) {
		t.Fatalf("size %v", img.Bounds())
	}
	// The gradient's chroma is flat: the edge pixels have the hue of
	// their neighbours.
	for _, p := range []image.Point{{160, 60}, {80, 120}, {160, 120}} {
		edge, in := img.RGBAAt(p.X, p.Y), img.RGBAAt(p.X-2+p.X%2, p.Y-2+p.Y%2)
		hue := func(c color.RGBA) int { return int(c.G) - (int(c.R)+int(c.B))/2 }
		if d := hue(edge) - hue(in); d > 12 || d < -12 {
			t.Errorf("pixel %v is %v, its neighbour %v", p, edge, in)
		}
	}
}

func TestVideoDecoderSurvivesGarbage(t *testing.T) {
	clean := encodeVP8(t, 160, 120, 30)
	rng := rand.New(rand.NewSource(7))
	d, err := NewVideoDecoder(media.NewFrameSlot())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	var errs int
	push := func(p *rtp.Packet) {
		if err := d.Push(p); err != nil {
			errs++
			if !errors.Is(err, ErrNeedKeyFrame) && !errors.Is(err, ErrDecode) && !errors.Is(err, ErrFrameTooLarge) {
				t.Fatalf("unexpected error kind: %v", err)
			}
		}
	}

	// Random packets, including ones that look like VP8 keyframes.
	seq, ts := uint16(100), uint32(0)
	for i := 0; i < 3000; i++ {
		payload := make([]byte, rng.Intn(1300))
		rng.Read(payload)
		if len(payload) > 12 && rng.Intn(4) == 0 {
			payload[0] = 0x10                                     // S bit, partition 0
			payload[1] = 0x00                                     // frame tag: keyframe
			payload[4], payload[5], payload[6] = 0x9d, 0x01, 0x2a // start code
			if rng.Intn(2) == 0 {
				payload[7], payload[8], payload[9], payload[10] = 0x40, 0x01, 0xf0, 0x00 // 320x240
			}
		}
		push(&rtp.Packet{
			Header:  rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts, Marker: rng.Intn(3) == 0},
			Payload: payload,
		})
		seq++
		if rng.Intn(3) == 0 {
			ts += 3000
		}
	}
	push(nil)

	// A real stream with corrupted and truncated packets.
	for round := 0; round < 3; round++ {
		var frames [][]*rtp.Packet
		frames, seq, ts = restamp(clean, seq, ts)
		for _, f := range frames {
			for _, p := range f {
				switch rng.Intn(6) {
				case 0:
					for k := 0; k < 1+rng.Intn(8); k++ {
						if len(p.Payload) > 0 {
							p.Payload[rng.Intn(len(p.Payload))] ^= byte(1 + rng.Intn(255))
						}
					}
				case 1:
					p.Payload = p.Payload[:rng.Intn(len(p.Payload)+1)]
				}
				push(p)
			}
		}
	}
	t.Logf("after garbage: %d errors returned, stats %+v", errs, d.Stats())

	// And it recovers on a clean stream starting with a keyframe.
	var frames [][]*rtp.Packet
	// The depacketizer may still hold a corrupted frame and wait out its
	// reorder window, so the first clean clip may go partly undecoded; the
	// second starts with a keyframe after all of that has drained.
	frames, seq, ts = restamp(clean, seq+10, ts+9000)
	for _, f := range frames {
		for _, p := range f {
			push(p)
		}
	}
	before := d.Stats().Frames
	frames, _, _ = restamp(clean, seq, ts)
	for i, f := range frames {
		for _, p := range f {
			// The first push completes the previous clip's last frame.
			if err := d.Push(p); err != nil && i > 0 {
				t.Fatalf("clean frame %d after garbage: %v", i, err)
			}
		}
	}
	if got := d.Stats().Frames - before; got < 25 {
		t.Fatalf("decoded only %d of 30 clean frames after garbage", got)
	}
}

func TestVideoDecoderClose(t *testing.T) {
	d, err := NewVideoDecoder(media.NewFrameSlot())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Push(&rtp.Packet{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Push after Close = %v", err)
	}
	if _, err := NewVideoDecoder(nil); err == nil {
		t.Fatal("nil slot accepted")
	}
}

// BenchmarkDecode640x480 is the receive path of one 640x480 VP8 frame
// (a 60-frame clip, one keyframe, looped) from the wire to I420 in the
// slot, as the client reads a track: each packet's bytes into one buffer,
// unmarshalled into one reused rtp.Packet, pushed. ns/op is per frame.
// It must not allocate.
func BenchmarkDecode640x480(b *testing.B) {
	var wire [][][]byte
	for _, f := range encodeVP8(b, 640, 480, 60) {
		var frame [][]byte
		for _, p := range f {
			raw, err := p.Marshal()
			if err != nil {
				b.Fatal(err)
			}
			frame = append(frame, raw)
		}
		wire = append(wire, frame)
	}
	slot := media.NewFrameSlot()
	d, err := NewVideoDecoder(slot)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	seq, ts := uint16(1), uint32(0)
	push := func(frame [][]byte) {
		for _, raw := range frame {
			n := copy(buf, raw)
			binary.BigEndian.PutUint16(buf[2:], seq)
			binary.BigEndian.PutUint32(buf[4:], ts)
			seq++
			if err := pkt.Unmarshal(buf[:n]); err != nil {
				b.Fatal(err)
			}
			if err := d.Push(&pkt); err != nil {
				b.Fatal(err)
			}
		}
		ts += 3000
	}
	for _, f := range wire { // the assembler's and the slot's buffers grow to the clip's frames
		push(f)
	}
	i := 0
	b.ReportAllocs()
	cpu := mediatest.StartCPU()
	for b.Loop() {
		push(wire[i%len(wire)])
		i++
	}
	cpu.Report(b)
	if d.FramesDecoded() < uint64(len(wire)) {
		b.Fatalf("%d frames decoded of %d", d.FramesDecoded(), len(wire)+i)
	}
}

// BenchmarkDecodeToView is the receive path of one shown frame: decode a
// 640x480 VP8 frame (a 60-frame clip, looped) into the slot with libvpx,
// then render it into a 320x240 view's buffer (libyuv scale and convert).
// It must not allocate.
func BenchmarkDecodeToView(b *testing.B) {
	clip := encodeVP8Frames(b, 640, 480, 60)
	slot := media.NewFrameSlot()
	d, err := NewVideoDecoder(slot)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	// The slot's two buffers and the view's are made by the first frames.
	var view *image.RGBA
	for _, f := range clip[:2] {
		if _, err := d.dec.decode(f, slot); err != nil {
			b.Fatal(err)
		}
		view, _, _ = slot.Render(view, 320, 240, false)
	}
	i := 2
	b.ReportAllocs()
	cpu := mediatest.StartCPU()
	for b.Loop() {
		if _, err := d.dec.decode(clip[i%len(clip)], slot); err != nil {
			b.Fatal(err)
		}
		i++
		view, _, _ = slot.Render(view, 320, 240, false)
	}
	cpu.Report(b)
	if slot.Seq() == 0 || view.Bounds().Dx() != 320 {
		b.Fatal("nothing decoded")
	}
}

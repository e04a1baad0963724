package decode

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/pion/rtp"
)

// asmPacket is packet i of a frame of n packets with timestamp ts: a one
// byte VP8 descriptor (S=1 on the first) and a payload naming ts and i.
func asmPacket(seq uint16, ts uint32, i, n int) *rtp.Packet {
	desc := byte(0x00)
	if i == 0 {
		desc = 0x10
	}
	return &rtp.Packet{
		Header:  rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: i == n-1},
		Payload: append([]byte{desc}, fmt.Sprintf("[%d.%d]", ts, i)...),
	}
}

// asmFrameData is what a whole frame of n packets reassembles to.
func asmFrameData(ts uint32, n int) string {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "[%d.%d]", ts, i)
	}
	return b.String()
}

// frames builds count frames of per packets each from seq, ts 3000 apart.
func asmFrames(seq uint16, ts uint32, count, per int) (pkts []*rtp.Packet, want []string) {
	for f := 0; f < count; f++ {
		for i := 0; i < per; i++ {
			pkts = append(pkts, asmPacket(seq, ts, i, per))
			seq++
		}
		want = append(want, asmFrameData(ts, per))
		ts += 3000
	}
	return pkts, want
}

type popped struct {
	data string
	gap  bool
}

func pushAll(a *frameAssembler, pkts []*rtp.Packet) (out []popped) {
	for _, p := range pkts {
		a.push(p)
		for f, ok := a.pop(); ok; f, ok = a.pop() {
			out = append(out, popped{string(f.data), f.gap})
		}
	}
	return out
}

func checkFrames(t *testing.T, got []popped, want []string, gaps map[int]bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d frames out, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].data != want[i] {
			t.Errorf("frame %d = %q, want %q", i, got[i].data, want[i])
		}
		if got[i].gap != gaps[i] {
			t.Errorf("frame %d gap = %v, want %v", i, got[i].gap, gaps[i])
		}
	}
}

func TestAssemblerInOrderAcrossSequenceWrap(t *testing.T) {
	a := newFrameAssembler(100, 90000/4)
	pkts, want := asmFrames(65530, 1000, 5, 3)
	checkFrames(t, pushAll(a, pkts), want, nil)
}

func TestAssemblerReordersAndDropsDuplicates(t *testing.T) {
	a := newFrameAssembler(100, 90000/4)
	pkts, want := asmFrames(100, 0, 4, 4)
	// Frame 1's packets come backwards, one of frame 2's twice, and a
	// packet of frame 0 again after frame 0 was handed out.
	order := []*rtp.Packet{pkts[0], pkts[1], pkts[2], pkts[3], pkts[7], pkts[6], pkts[5], pkts[4],
		pkts[8], pkts[9], pkts[9], pkts[2], pkts[10], pkts[11], pkts[12], pkts[13], pkts[14], pkts[15]}
	checkFrames(t, pushAll(a, order), want, nil)
}

func TestAssemblerGivesUpOnALostPacket(t *testing.T) {
	a := newFrameAssembler(10, 90000)
	pkts, want := asmFrames(500, 0, 8, 2)
	// Frame 1 loses its second packet: after 10 newer packets it is given
	// up, and the next frame out says packets were lost.
	lost := append(append([]*rtp.Packet{}, pkts[:3]...), pkts[4:]...)
	got := pushAll(a, lost)
	checkFrames(t, got, append([]string{want[0]}, want[2:]...), map[int]bool{1: true})
}

func TestAssemblerGivesUpAfterMaxDelay(t *testing.T) {
	a := newFrameAssembler(100, 9000) // 100 ms of 90 kHz ticks
	pkts, want := asmFrames(7, 0, 6, 1)
	// The second frame's only packet never comes: each frame is 3000
	// ticks, so three frames later the wait is over 100 ms.
	got := pushAll(a, append([]*rtp.Packet{pkts[0]}, pkts[2:]...))
	checkFrames(t, got, append([]string{want[0]}, want[2:]...), map[int]bool{1: true})
}

func TestAssemblerDropsAFrameWithoutItsStart(t *testing.T) {
	a := newFrameAssembler(100, 90000)
	pkts, want := asmFrames(0, 0, 3, 3)
	// The stream is joined mid-frame: the first frame has no start.
	got := pushAll(a, pkts[1:])
	checkFrames(t, got, want[1:], map[int]bool{0: true})
}

func TestAssemblerPaddingKeepsTheSequence(t *testing.T) {
	a := newFrameAssembler(100, 90000)
	pkts, want := asmFrames(40, 0, 2, 2)
	pad := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 42, Timestamp: 0}}
	next := []*rtp.Packet{asmPacket(43, 3000, 0, 1)}
	pkts[2].SequenceNumber, pkts[3].SequenceNumber = 44, 45
	got := pushAll(a, append(append(append(pkts[:2:2], pad), next...), pkts[2:]...))
	checkFrames(t, got, []string{want[0], asmFrameData(3000, 1), want[1]}, nil)
}

func TestAssemblerFrameWithoutMarker(t *testing.T) {
	a := newFrameAssembler(100, 90000)
	pkts, want := asmFrames(9, 0, 3, 2)
	pkts[1].Marker = false // the sender forgot it: the next timestamp ends the frame
	checkFrames(t, pushAll(a, pkts), want, nil)
}

func TestAssemblerBadDescriptorLosesItsFrame(t *testing.T) {
	a := newFrameAssembler(100, 90000)
	pkts, want := asmFrames(0, 0, 3, 2)
	pkts[3].Payload = []byte{0x80} // X set and nothing after it
	got := pushAll(a, pkts)
	checkFrames(t, got, []string{want[0], want[2]}, map[int]bool{1: true})
}

func TestAssemblerResyncsOnAJump(t *testing.T) {
	a := newFrameAssembler(100, 90000)
	pkts, want := asmFrames(100, 0, 2, 2)
	// The sender starts over far behind, then far ahead.
	back, wantBack := asmFrames(60000, 90000, 2, 2)
	ahead, wantAhead := asmFrames(60000+2000, 180000, 2, 2)
	got := pushAll(a, append(append(pkts, back...), ahead...))
	checkFrames(t, got, append(append(want, wantBack...), wantAhead...), map[int]bool{2: true, 4: true})
}

func TestAssemblerFrameTooLarge(t *testing.T) {
	a := newFrameAssembler(100, 90000)
	n := MaxFrameSize/1000 + 2
	var pkts []*rtp.Packet
	for i := 0; i < n; i++ {
		p := asmPacket(uint16(i), 0, i, n)
		p.Payload = append(p.Payload[:1], make([]byte, 1000)...)
		pkts = append(pkts, p)
	}
	pkts = append(pkts, asmPacket(uint16(n), 3000, 0, 1))
	var got []asmFrame
	for _, p := range pkts {
		a.push(p)
		for f, ok := a.pop(); ok; f, ok = a.pop() {
			got = append(got, asmFrame{data: append([]byte(nil), f.data...), tooLarge: f.tooLarge})
		}
	}
	if len(got) != 2 || !got[0].tooLarge || len(got[0].data) != 0 || got[1].tooLarge || string(got[1].data) != asmFrameData(3000, 1) {
		t.Fatalf("frames = %d, first too large %v", len(got), len(got) > 0 && got[0].tooLarge)
	}
}

func TestAssemblerKeepsNothingOfThePacket(t *testing.T) {
	a := newFrameAssembler(100, 90000)
	pkts, want := asmFrames(0, 0, 1, 3)
	// Packets come out of order through one reused packet and buffer, as
	// the client reads them.
	var reused rtp.Packet
	buf := make([]byte, 1500)
	var got []popped
	for _, i := range []int{0, 2, 1} {
		b, err := pkts[i].Marshal()
		if err != nil {
			t.Fatal(err)
		}
		n := copy(buf, b)
		if err := reused.Unmarshal(buf[:n]); err != nil {
			t.Fatal(err)
		}
		got = append(got, pushAll(a, []*rtp.Packet{&reused})...)
		for j := range buf {
			buf[j] = 0xEE
		}
	}
	checkFrames(t, got, want, nil)
}

// FuzzAssembler pushes packets made from arbitrary bytes (sequence and
// timestamp steps, marker, VP8 descriptor, payload length) and checks
// that the assembler never panics, never hands out more than
// MaxFrameSize, and that its count of waiting packets matches its slots.
func FuzzAssembler(f *testing.F) {
	f.Add([]byte{1, 0, 0x90, 0x10, 20, 1, 0, 0x00, 0x00, 20, 1, 0x80, 0x91, 0x10, 5})
	f.Add([]byte{0xff, 0xff, 0x10, 0x80, 0, 3, 0x20, 0x10, 0x90, 200, 0x7f, 0x00, 0x10, 0xa0, 3})
	body := make([]byte, 1+255*8) // payload bytes after the descriptor
	for i := range body {
		body[i] = byte(i)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		b = b[:min(len(b), 5*600)] // 600 packets are plenty to reach every state
		a := newFrameAssembler(uint16(len(b)%200), 9000)
		seq, ts := uint16(65000), uint32(0)
		for len(b) >= 5 {
			step, tstep, flags, desc, n := b[0], b[1], b[2], b[3], int(b[4])
			b = b[5:]
			seq += uint16(int8(step)) // back or forward
			ts += uint32(tstep) * 300
			var payload []byte // padding: no descriptor, nothing
			if flags&0x10 == 0 || n > 0 {
				body[0] = desc
				payload = body[:1+n*8]
			}
			if flags&0x40 != 0 {
				payload = payload[:min(len(payload), 2)] // descriptor cut short
			}
			a.push(&rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: ts, Marker: flags&0x80 != 0}, Payload: payload})
			for fr, ok := a.pop(); ok; fr, ok = a.pop() {
				if len(fr.data) > MaxFrameSize || (fr.tooLarge && len(fr.data) != 0) {
					t.Fatalf("frame of %d bytes (too large %v)", len(fr.data), fr.tooLarge)
				}
			}
			used := 0
			for i := range a.slots {
				if a.slots[i].used {
					used++
				}
			}
			if used != a.pending || a.pending < 0 || a.pending > assemblerSlots {
				t.Fatalf("pending %d, slots used %d", a.pending, used)
			}
		}
	})
}

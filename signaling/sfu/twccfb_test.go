package sfu

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

type feedbackRecorder struct {
	mu   sync.Mutex
	pkts []rtcp.Packet
}

func (r *feedbackRecorder) Write(pkts []rtcp.Packet, _ interceptor.Attributes) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pkts = append(r.pkts, pkts...)
	return 0, nil
}

// statuses is every transport-wide sequence number the feedback sent so
// far reports on, and whether it was received.
func (r *feedbackRecorder) statuses(t *testing.T) map[uint16]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := map[uint16]bool{}
	for _, p := range r.pkts {
		fb, ok := p.(*rtcp.TransportLayerCC)
		if !ok {
			t.Fatalf("feedback sent %T, want only TransportLayerCC", p)
		}
		if fb.MediaSSRC != 1234 {
			t.Fatalf("feedback for SSRC %d, want 1234", fb.MediaSSRC)
		}
		seq := fb.BaseSequenceNumber
		for _, c := range fb.PacketChunks {
			var symbols []uint16
			switch c := c.(type) {
			case *rtcp.RunLengthChunk:
				for range c.RunLength {
					symbols = append(symbols, c.PacketStatusSymbol)
				}
			case *rtcp.StatusVectorChunk:
				symbols = c.SymbolList
			}
			for _, s := range symbols {
				if seq-fb.BaseSequenceNumber >= fb.PacketStatusCount {
					break
				}
				got[seq] = got[seq] || s != rtcp.TypeTCCPacketNotReceived
				seq++
			}
		}
	}
	return got
}

// TestTWCCFeedback: what a publisher sends with the transport-cc header
// extension is reported back in TransportLayerCC feedback, packets
// received as received and the gap as lost, on the interval, and Close
// stops it; a stream without the extension passes untouched, and a
// PeerConnection that receives nothing sends nothing.
func TestTWCCFeedback(t *testing.T) {
	f, err := twccFeedbackFactory{interval: 20 * time.Millisecond}.NewInterceptor("")
	if err != nil {
		t.Fatal(err)
	}
	rec := &feedbackRecorder{}
	f.BindRTCPWriter(rec)
	info := &interceptor.StreamInfo{SSRC: 1234, RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI, ID: 5}}}
	var next []byte
	src := interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		return copy(b, next), a, nil
	})
	r := f.BindRemoteStream(info, src)
	plain := f.BindRemoteStream(&interceptor.StreamInfo{SSRC: 99}, src)
	tf := f.(*twccFeedback)
	loopRunning := func() bool {
		tf.mu.Lock()
		defer tf.mu.Unlock()
		return tf.running
	}

	buf := make([]byte, 1500)
	read := func(r interceptor.RTPReader, seq uint16) {
		t.Helper()
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 1234, SequenceNumber: seq}, Payload: make([]byte, 50)}
		ext, _ := (&rtp.TransportCCExtension{TransportSequence: seq}).Marshal()
		if err := p.Header.SetExtension(5, ext); err != nil {
			t.Fatal(err)
		}
		next, _ = p.Marshal()
		if _, _, err := r.Read(buf, nil); err != nil {
			t.Fatal(err)
		}
	}
	// A stream whose m-line did not negotiate transport-cc is not
	// recorded, whatever its packets carry: nothing to report, no loop.
	read(plain, 1)
	if loopRunning() {
		t.Fatal("the feedback loop started for a stream without transport-cc")
	}
	for _, seq := range []uint16{100, 101, 102, 105, 106} {
		read(r, seq)
	}
	// Packets that do not parse, or whose transport-cc extension is cut
	// short, are passed on without an error (which would end the
	// publisher's track) and not recorded.
	bad := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 1234, SequenceNumber: 200}, Payload: make([]byte, 10)}
	if err := bad.Header.SetExtension(5, []byte{0x01}); err != nil {
		t.Fatal(err)
	}
	shortExt, _ := bad.Marshal()
	for _, raw := range [][]byte{shortExt, {0x80, 0x60}} {
		next = raw
		if n, _, err := r.Read(buf, nil); err != nil || n != len(raw) {
			t.Fatalf("a malformed packet: read %d of %d bytes, err %v", n, len(raw), err)
		}
	}
	if !loopRunning() {
		t.Fatal("no feedback loop after packets arrived")
	}
	want := map[uint16]bool{100: true, 101: true, 102: true, 103: false, 104: false, 105: true, 106: true}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := rec.statuses(t)
		if len(got) == len(want) {
			for seq, ok := range want {
				if got[seq] != ok {
					t.Fatalf("feedback says %d received=%v, want %v (all: %v)", seq, got[seq], ok, got)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("feedback after 10 s covers %v, want %v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// Close waited for the loop; what arrives after it is not recorded.
	tf.mu.Lock()
	closed := tf.closed
	tf.mu.Unlock()
	if !closed {
		t.Fatal("not closed after Close")
	}
	read(r, 107)
	if got := rec.statuses(t); got[107] {
		t.Fatal("a packet read after Close was reported")
	}
}

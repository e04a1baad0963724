package sfu

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// TestNackRetriesBounded: a receiver built from NewMediaEngine asks for a
// missing packet a few times, not for as long as the packet stays in its
// window: a retransmission the receiver cannot take (SRTP replay
// protection refuses a packet it already decrypted once) must not be asked
// for 80 times.
func TestNackRetriesBounded(t *testing.T) {
	_, ir, err := NewMediaEngine()
	if err != nil {
		t.Fatal(err)
	}
	chain, err := ir.Build("test")
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()

	var mu sync.Mutex
	asked := 0 // NACKs naming packet 5
	chain.BindRTCPWriter(interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, a interceptor.Attributes) (int, error) {
		for _, p := range pkts {
			if n, ok := p.(*rtcp.TransportLayerNack); ok {
				for _, pair := range n.Nacks {
					for _, seq := range pair.PacketList() {
						if seq == 5 {
							mu.Lock()
							asked++
							mu.Unlock()
						}
					}
				}
			}
		}
		return 0, nil
	}))

	// Packets 1..20 of one VP8 stream, 5 missing.
	var queue [][]byte
	for seq := uint16(1); seq <= 20; seq++ {
		if seq == 5 {
			continue
		}
		b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, SSRC: 42}, Payload: []byte{0x10, 0, 0, 0x9d}}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		queue = append(queue, b)
	}
	info := &interceptor.StreamInfo{SSRC: 42, MimeType: "video/VP8", ClockRate: 90000, PayloadType: 96,
		RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}}
	reader := chain.BindRemoteStream(info, interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		p := queue[0]
		queue = queue[1:]
		return copy(b, p), a, nil
	}))
	buf := make([]byte, 1500)
	for range 19 {
		if _, _, err := reader.Read(buf, nil); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := asked
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no NACK for the missing packet")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The generator asks every 100 ms: 2 s is 20 chances.
	time.Sleep(2 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	if asked > MaxNacksPerPacket {
		t.Errorf("packet 5 was asked for %d times, want at most %d", asked, MaxNacksPerPacket)
	}
	t.Logf("packet 5 asked for %d times", asked)
}

// TestElapsedTicks: the timestamp step across a switch is the time between
// at 90 kHz, and never goes back when the times come out of order.
func TestElapsedTicks(t *testing.T) {
	t0 := time.Unix(100, 0)
	for _, c := range []struct {
		now  time.Time
		want uint32
	}{
		{t0.Add(time.Second), 90000},
		{t0, 1},
		{t0.Add(-33 * time.Microsecond), 1}, // was about 2^32-3: the timestamp went back
		{t0.Add(5 * time.Microsecond), 1},
	} {
		if got := elapsedTicks(c.now, t0); got != c.want {
			t.Errorf("%v after: %d ticks, want %d", c.now.Sub(t0), got, c.want)
		}
	}
}

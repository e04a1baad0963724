package sfu

import (
	"errors"
	"sync"
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

type recordingRTPWriter struct {
	mu    sync.Mutex
	attrs []interceptor.Attributes
	lens  []int
	seqs  []uint16
	stale bool // an attribute a previous write left was seen
}

func (w *recordingRTPWriter) Write(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.attrs = append(w.attrs, a)
	w.lens = append(w.lens, len(a))
	if a != nil {
		if a.Get("left-over") != nil {
			w.stale = true
		}
		a.Set("left-over", true)
	}
	var tcc rtp.TransportCCExtension
	if err := tcc.Unmarshal(h.GetExtension(5)); err == nil {
		w.seqs = append(w.seqs, tcc.TransportSequence)
	}
	return len(payload), nil
}

// sendChainSSRC is the SSRC of the stream sendChain binds.
const sendChainSSRC = 100

// sendChain builds the interceptors the server keeps on what it sends
// (AddCongestionControl) for one stream with transport-cc as extension 5,
// writing to next; they are closed when tb ends.
func sendChain(tb testing.TB, next interceptor.RTPWriter) interceptor.RTPWriter {
	tb.Helper()
	ir := &interceptor.Registry{}
	if err := AddCongestionControl(ir, InitialEstimate, nil, func(cc.BandwidthEstimator) {}); err != nil {
		tb.Fatal(err)
	}
	ic, err := ir.Build("test")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ic.Close() })
	info := &interceptor.StreamInfo{SSRC: sendChainSSRC, RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI, ID: 5}}}
	return ic.BindLocalStream(info, next)
}

// TestSendChainAttributes: what the server sends passes through the
// congestion controller with an attribute map lent per packet, holding
// just the transport-cc extension id the estimator sets (so the estimator
// records each packet by its transport-wide sequence number), cleared
// between packets, even when written from several goroutines at once; a
// caller's own map is passed on as it is.
func TestSendChainAttributes(t *testing.T) {
	rec := &recordingRTPWriter{}
	w := sendChain(t, rec)

	const goroutines, each = 4, 50
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				h := rtp.Header{Version: 2, SSRC: sendChainSSRC, SequenceNumber: uint16(i)}
				if _, err := w.Write(&h, make([]byte, 100), nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(rec.attrs) != goroutines*each {
		t.Fatalf("%d packets reached the writer, want %d", len(rec.attrs), goroutines*each)
	}
	for i, a := range rec.attrs {
		if a == nil || rec.lens[i] != 1 {
			t.Fatalf("packet %d: attributes %v (%d entries on arrival), want the estimator's one", i, a, rec.lens[i])
		}
	}
	if rec.stale {
		t.Fatal("a packet's attributes held what an earlier packet's writer left")
	}
	seen := map[uint16]bool{}
	for _, s := range rec.seqs {
		seen[s] = true
	}
	if len(rec.seqs) != goroutines*each || len(seen) != goroutines*each {
		t.Fatalf("%d transport-cc sequence numbers, %d distinct, want %d", len(rec.seqs), len(seen), goroutines*each)
	}

	own := interceptor.Attributes{"mine": 1}
	h := rtp.Header{Version: 2, SSRC: sendChainSSRC}
	if _, err := w.Write(&h, make([]byte, 100), own); err != nil {
		t.Fatal(err)
	}
	last := rec.attrs[len(rec.attrs)-1]
	// 0 is the estimator's key for the extension id (pion's internal/cc TwccExtensionAttributesKey).
	if last == nil || last.Get("mine") != 1 || own.Get(0) != uint8(5) {
		t.Fatalf("the caller's attributes were not passed on: got %v, caller's now %v", last, own)
	}
}

// TestDirectPacer: each packet goes at once to its stream's writer,
// found by SSRC (a stream added again replaces the first); a packet of a
// stream never added is refused (errUnknownStream).
func TestDirectPacer(t *testing.T) {
	p := &directPacer{}
	a, b, c := &recordingRTPWriter{}, &recordingRTPWriter{}, &recordingRTPWriter{}
	p.AddStream(1, a)
	p.AddStream(2, b)
	p.AddStream(2, c)
	for _, ssrc := range []uint32{1, 2, 2} {
		if _, err := p.Write(&rtp.Header{SSRC: ssrc}, []byte{1}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(a.attrs) != 1 || len(b.attrs) != 0 || len(c.attrs) != 2 {
		t.Fatalf("writes per stream %d, %d, %d; want 1, 0 (replaced), 2", len(a.attrs), len(b.attrs), len(c.attrs))
	}
	if _, err := p.Write(&rtp.Header{SSRC: 3}, []byte{1}, nil); !errors.Is(err, errUnknownStream) {
		t.Fatalf("write to a stream never added: %v, want errUnknownStream", err)
	}
}

// TestSendChainGivesTheHeaderBack: the fan-out writes one header to every
// subscriber, so the send chain gives it back as it came: without the
// transport-cc extension it set (a subscriber without transport-cc must
// not get the pooled bytes), and with the caller's own extension of that
// id as it was; the packet written carried the chain's sequence number.
func TestSendChainGivesTheHeaderBack(t *testing.T) {
	rec := &recordingRTPWriter{}
	w := sendChain(t, rec)
	h := rtp.Header{Version: 2, SSRC: sendChainSSRC}
	if err := h.SetExtension(3, []byte{0x7f}); err != nil { // e.g. audio level
		t.Fatal(err)
	}
	if _, err := w.Write(&h, make([]byte, 10), nil); err != nil {
		t.Fatal(err)
	}
	if len(rec.seqs) != 1 {
		t.Fatalf("the packet written had no transport-cc extension: %v", rec.seqs)
	}
	if ext := h.GetExtension(5); ext != nil || len(h.Extensions) != 1 || h.GetExtension(3)[0] != 0x7f {
		t.Fatalf("header after the write: extensions %+v, want only the caller's 3", h.Extensions)
	}
	own := []byte{0xaa, 0xbb}
	if err := h.SetExtension(5, own); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(&h, make([]byte, 10), nil); err != nil {
		t.Fatal(err)
	}
	if ext := h.GetExtension(5); len(ext) != 2 || &ext[0] != &own[0] {
		t.Fatalf("the caller's own extension 5 is now %x, want its own bytes back", ext)
	}
	if len(rec.seqs) != 2 || rec.seqs[1] != 1 {
		t.Fatalf("transport-cc sequence numbers written %v, want 0 and 1", rec.seqs)
	}
}

package sfu

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// TestEngineTCPOnly: with NoUDP the engine opens the ICE-TCP port alone,
// and what it offers carries passive TCP host candidates and no UDP one.
func TestEngineTCPOnly(t *testing.T) {
	e, err := NewEngine(NetConfig{LoopbackOnly: true, NoUDP: true, TCP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.UDP() {
		t.Error("UDP() = true with NoUDP")
	}
	ta, ok := e.MediaAddr().(*net.TCPAddr)
	if !ok || ta.Port == 0 {
		t.Fatalf("MediaAddr() = %v (%T), want the ICE-TCP port", e.MediaAddr(), e.MediaAddr())
	}
	sdp := gatheredOffer(t, e)
	var cands []string
	for _, l := range strings.Split(sdp, "\n") {
		if c, ok := strings.CutPrefix(strings.TrimSpace(l), "a=candidate:"); ok {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		t.Fatalf("no candidates in the offer:\n%s", sdp)
	}
	for _, c := range cands {
		f := strings.Fields(c) // foundation component transport priority ip port typ host [tcptype passive]
		if len(f) < 8 || !strings.EqualFold(f[2], "tcp") || !strings.Contains(c, "tcptype passive") || f[5] != strconv.Itoa(ta.Port) {
			t.Errorf("candidate %q: want a passive TCP host candidate on port %d", c, ta.Port)
		}
	}
	t.Logf("candidates: %q", cands)
}

// TestEngineMediaPortErrors: a UDP media port that cannot be opened is an
// error, not a quiet fall back to TCP; no UDP and no TCP is refused, and
// so are port numbers out of range.
func TestEngineMediaPortErrors(t *testing.T) {
	taken, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.LocalAddr().(*net.UDPAddr).Port
	for _, c := range []struct {
		name string
		cfg  NetConfig
		want string
	}{
		{"UDP port taken, TCP on", NetConfig{LoopbackOnly: true, UDPPort: port, TCP: true}, "media port"},
		{"no UDP, no TCP", NetConfig{LoopbackOnly: true, NoUDP: true}, "no way in"},
		{"UDP port out of range", NetConfig{LoopbackOnly: true, UDPPort: 70000}, "not a port"},
		{"TCP port negative", NetConfig{LoopbackOnly: true, NoUDP: true, TCP: true, TCPPort: -1}, "not a port"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := NewEngine(c.cfg)
			if err == nil {
				e.Close()
				t.Fatalf("NewEngine(%+v) = nil error", c.cfg)
			}
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q: want ErrConfig mentioning %q", err, c.want)
			}
		})
	}
}

// gatheredOffer returns the SDP of an offer (one recvonly video m-line)
// made on e once its candidates are gathered.
func gatheredOffer(t *testing.T, e *Engine) string {
	t.Helper()
	pc, err := e.NewPeerConnection()
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("ICE gathering did not complete in 30 s")
	}
	return pc.LocalDescription().SDP
}

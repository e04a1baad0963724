package server_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/wire"
)

// goodAnswer answers offer with a real pion PeerConnection (loopback only)
// and returns the answer SDP and the PeerConnection.
func goodAnswer(t *testing.T, offer string) (string, *webrtc.PeerConnection) {
	t.Helper()
	pc, err := loopbackAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		t.Fatal(err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err == nil {
		err = pc.SetLocalDescription(ans)
	}
	if err != nil {
		t.Fatal(err)
	}
	<-webrtc.GatheringCompletePromise(pc)
	return pc.LocalDescription().SDP, pc
}

// nextMessage reads the next message of any type.
func nextMessage(t *testing.T, ws *websocket.Conn) wire.Envelope {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		env, err := wire.DecodeEnvelope(b)
		if err != nil {
			t.Fatal(err)
		}
		if env.Type == wire.TypeSpeakers || env.Type == wire.TypeParticipantUpdated {
			continue
		}
		return env
	}
}

func lines(sdp string, drop func(string) bool) string {
	var out []string
	for _, l := range strings.Split(sdp, "\r\n") {
		if !drop(l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\r\n")
}

// mSections splits an SDP into its session part and its m-sections.
func mSections(sdp string) (string, []string) {
	parts := strings.Split(sdp, "\r\nm=")
	ms := make([]string, 0, len(parts)-1)
	for _, p := range parts[1:] {
		ms = append(ms, "m="+strings.TrimSuffix(p, "\r\n"))
	}
	return parts[0], ms
}

// TestBrokenAnswersLeaveTheOfferOpen sends answers that are broken in the
// ways outside clients broke them; each gets a non-fatal bad_message, and
// the correct answer that follows is applied: media connects and the
// session still negotiates.
func TestBrokenAnswersLeaveTheOfferOpen(t *testing.T) {
	srv := servertest.Start(t)
	ws, _ := rawJoin(t, srv, "answers", "ada")
	var o wire.Offer
	expect(t, ws, wire.TypeOffer, &o)
	good, pc := goodAnswer(t, o.SDP)
	head, ms := mSections(good)
	if len(ms) != 2 {
		t.Fatalf("offer to a new participant has %d m-sections, want 2 (microphone, camera)", len(ms))
	}
	hex32 := strings.Repeat("AB:", 31) + "AB"
	broken := []struct{ name, sdp string }{
		{"garbage", "hello"},
		{"header only", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"},
		{"no fingerprint", lines(good, func(l string) bool { return strings.HasPrefix(l, "a=fingerprint") })},
		{"no ice-ufrag", lines(good, func(l string) bool { return strings.HasPrefix(l, "a=ice-ufrag") })},
		{"no ice-pwd", lines(good, func(l string) bool { return strings.HasPrefix(l, "a=ice-pwd") })},
		{"bad connection address", regexp.MustCompile(`c=IN IP4 [0-9.]+`).ReplaceAllString(good, "c=IN IP4 999.999.999.999")},
		{"malformed fingerprint", regexp.MustCompile(`a=fingerprint:\S+ \S+`).ReplaceAllString(good, "a=fingerprint:sha-256 ZZ:11")},
		{"fingerprint not hex", regexp.MustCompile(`a=fingerprint:\S+ \S+`).ReplaceAllString(good, "a=fingerprint:sha-256 "+strings.Replace(hex32, "AB", "ZZ", 1))},
		{"one m-section fewer", head + "\r\n" + ms[0] + "\r\n"},
		{"one m-section more", head + "\r\n" + ms[0] + "\r\n" + ms[1] + "\r\n" + strings.Replace(ms[1], "a=mid:1", "a=mid:7", 1) + "\r\n"},
		{"renamed mids", strings.NewReplacer("a=mid:0", "a=mid:x0", "a=mid:1", "a=mid:x1", "BUNDLE 0 1", "BUNDLE x0 x1").Replace(good)},
		{"no payload types", regexp.MustCompile(`(m=audio \d+ \S+)( \d+)+`).ReplaceAllString(good, "$1 126")},
		{"the offer echoed back", o.SDP},
		{"sendrecv on a publish m-line", strings.ReplaceAll(strings.ReplaceAll(good, "a=inactive", "a=sendrecv"), "a=sendonly", "a=sendrecv")},
	}
	for _, b := range broken {
		send(t, ws, wire.TypeAnswer, wire.Answer{SDP: b.sdp})
		env := nextMessage(t, ws)
		var e wire.Error
		if env.Type != wire.TypeError || json.Unmarshal(env.Data, &e) != nil || e.Code != wire.CodeBadMessage || e.Fatal {
			t.Fatalf("%s: got %s %s, want a non-fatal bad_message", b.name, env.Type, env.Data)
		}
	}
	// The offer is still open: the correct answer is taken (no error), and
	// media connects with it.
	send(t, ws, wire.TypeAnswer, wire.Answer{SDP: good})
	deadline := time.Now().Add(20 * time.Second)
	for pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		if time.Now().After(deadline) {
			t.Fatalf("media did not connect after the correct answer: %s", pc.ConnectionState())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// And the session is not wedged: renegotiate gets a new offer.
	send(t, ws, wire.TypeRenegotiate, nil)
	if env := nextMessage(t, ws); env.Type != wire.TypeOffer {
		t.Fatalf("renegotiate after the correct answer: got %s %s, want an offer", env.Type, env.Data)
	}
}

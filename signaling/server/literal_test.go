package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/sfu"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

// literalClient follows PROTOCOL.md to the letter with plain pion: it
// attaches its microphone and camera to the publish m-lines the offer
// names (answering them sendonly), and takes whose media arrives on an
// m-line only from the offer's tracks map. It checks every offer against
// §5.2 and counts what arrives where.
type literalClient struct {
	t   *testing.T
	id  string
	ws  *websocket.Conn
	pc  *webrtc.PeerConnection
	api *webrtc.API
	mic *webrtc.TrackLocalStaticRTP
	cam *webrtc.TrackLocalStaticRTP

	mu        sync.Mutex
	routes    map[string]wire.TrackRef // mid -> track, from the latest offer
	publish   map[string]string        // mid -> source, from the latest offer
	got       map[string]int           // "participant/source" -> packets
	offPublis int                      // packets that arrived on a publish m-line
	unrouted  int                      // packets on an m-line no offer named
	mlines    int                      // m-sections in the latest offer
	problems  []string                 // §5.2 violations seen in offers
	done      chan struct{}
	wg        sync.WaitGroup
	writeMu   sync.Mutex // one writer at a time on ws
}

func (c *literalClient) write(typ string, v any) {
	b, _ := wire.Encode(typ, v)
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.ws.WriteMessage(websocket.TextMessage, b)
}

// loopbackAPI is a pion API with the server's codecs whose candidates stay
// on 127.0.0.1, for test clients.
func loopbackAPI(t *testing.T) *webrtc.API {
	t.Helper()
	me, ir, err := sfu.NewMediaEngine()
	if err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	sfu.ConfigureCandidates(&se, true, nil)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

func newLiteralClient(t *testing.T, srv *servertest.Server, room, id string) *literalClient {
	t.Helper()
	api := loopbackAPI(t)
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	mic, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", id)
	cam, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "cam", id)
	c := &literalClient{t: t, id: id, pc: pc, api: api, mic: mic, cam: cam,
		got: map[string]int{}, done: make(chan struct{})}
	pc.OnTrack(c.onTrack)

	tok := srv.Token(token.Claims{Identity: id, Name: id, Room: room, Grants: token.DefaultGrants()}, time.Hour, time.Now())
	c.ws, _, err = websocket.DefaultDialer.Dial(wsURL(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	send(t, c.ws, wire.TypeJoin, wire.Join{Token: tok, Room: room, Mic: true, Camera: true})
	expect(t, c.ws, wire.TypeJoined, nil)
	_ = c.ws.SetReadDeadline(time.Time{})
	c.wg.Add(2)
	go c.readLoop()
	go c.sendMedia()
	t.Cleanup(c.close)
	return c
}

func (c *literalClient) close() {
	select {
	case <-c.done:
		return
	default:
	}
	close(c.done)
	c.write(wire.TypeLeave, nil)
	c.ws.Close()
	c.pc.Close()
	c.wg.Wait()
}

// sendMedia writes RTP on both local tracks (the SFU forwards RTP as it
// is; nothing here decodes it).
func (c *literalClient) sendMedia() {
	defer c.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for seq := uint16(0); ; seq++ {
		select {
		case <-c.done:
			return
		case <-tick.C:
		}
		_ = c.mic.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 960}, Payload: []byte{0xf8, 0xff, 0xfe}})
		_ = c.cam.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 1800, Marker: true}, Payload: []byte{0x10, 0x00, 0x9d, 0x01, 0x2a}})
	}
}

func (c *literalClient) readLoop() {
	defer c.wg.Done()
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		env, err := wire.DecodeEnvelope(b)
		if err != nil {
			c.problem("bad message: %v", err)
			continue
		}
		switch env.Type {
		case wire.TypeOffer:
			var o wire.Offer
			if err := wire.DecodeData(env, &o); err != nil {
				c.problem("bad offer: %v", err)
				continue
			}
			c.answer(o)
		case wire.TypeError:
			c.problem("error from server: %s", env.Data)
		}
	}
}

func (c *literalClient) problem(format string, args ...any) {
	c.mu.Lock()
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
	c.mu.Unlock()
}

// answer checks an offer against §5.2 and answers it as §5.2 says.
func (c *literalClient) answer(o wire.Offer) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(o.SDP); err != nil {
		c.problem("offer SDP: %v", err)
		return
	}
	for _, m := range sd.MediaDescriptions {
		mid, _ := m.Attribute("mid")
		dir := "sendrecv"
		for _, d := range []string{"sendonly", "recvonly", "inactive"} {
			if _, ok := m.Attribute(d); ok {
				dir = d
			}
		}
		src, isPublish := o.Publish[mid]
		ref, isTrack := o.Tracks[mid]
		msid, _ := m.Attribute("msid")
		switch {
		case isPublish && isTrack:
			c.problem("mid %s is both a publish m-line (%s) and a forwarded track", mid, src)
		case isPublish && dir != "recvonly":
			c.problem("publish mid %s (%s) is %s, not recvonly", mid, src, dir)
		case isTrack && dir != "sendonly":
			c.problem("track mid %s is %s, not sendonly", mid, dir)
		case isTrack && msid != fmt.Sprintf("%s %s:%s", ref.Participant, ref.Source, ref.Participant):
			c.problem("track mid %s has msid %q for %s/%s", mid, msid, ref.Participant, ref.Source)
		case !isPublish && !isTrack && dir != "inactive":
			c.problem("mid %s is named nowhere but is %s", mid, dir)
		}
	}
	c.mu.Lock()
	c.routes, c.publish, c.mlines = o.Tracks, o.Publish, len(sd.MediaDescriptions)
	c.mu.Unlock()
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.SDP}); err != nil {
		c.problem("apply offer: %v", err)
		return
	}
	for _, tr := range c.pc.GetTransceivers() {
		var local *webrtc.TrackLocalStaticRTP
		switch o.Publish[tr.Mid()] {
		case wire.SourceMicrophone:
			local = c.mic
		case wire.SourceCamera:
			local = c.cam
		}
		if local == nil || tr.Sender() != nil {
			continue
		}
		sender, err := c.api.NewRTPSender(local, c.pc.SCTP().Transport())
		if err == nil {
			err = tr.SetSender(sender, local)
		}
		if err != nil {
			c.problem("attach %s: %v", o.Publish[tr.Mid()], err)
		}
	}
	ans, err := c.pc.CreateAnswer(nil)
	if err == nil {
		err = c.pc.SetLocalDescription(ans)
	}
	if err != nil {
		c.problem("answer: %v", err)
		return
	}
	<-webrtc.GatheringCompletePromise(c.pc)
	c.write(wire.TypeAnswer, wire.Answer{SDP: c.pc.LocalDescription().SDP})
}

func (c *literalClient) onTrack(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	mid := ""
	for _, tr := range c.pc.GetTransceivers() {
		if tr.Receiver() == receiver {
			mid = tr.Mid()
		}
	}
	for {
		if _, _, err := remote.ReadRTP(); err != nil {
			return
		}
		c.mu.Lock()
		if _, ok := c.publish[mid]; ok {
			c.offPublis++
		} else if ref, ok := c.routes[mid]; ok {
			c.got[ref.Participant+"/"+ref.Source]++
		} else {
			c.unrouted++
		}
		c.mu.Unlock()
	}
}

// waitMedia waits until packets arrived from each of ids' microphone and
// camera.
func (c *literalClient) waitMedia(ids ...string) {
	c.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		c.mu.Lock()
		var missing []string
		for _, id := range ids {
			for _, src := range []string{wire.SourceMicrophone, wire.SourceCamera} {
				if c.got[id+"/"+src] < 25 {
					missing = append(missing, fmt.Sprintf("%s/%s (%d packets)", id, src, c.got[id+"/"+src]))
				}
			}
		}
		onPublish, problems := c.offPublis, strings.Join(c.problems, "; ")
		c.mu.Unlock()
		if onPublish > 0 || problems != "" {
			c.t.Fatalf("%s: %d packets arrived on publish m-lines; offers: %s", c.id, onPublish, problems)
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: no media from %s", c.id, strings.Join(missing, ", "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLiteralClientGetsEveryParticipant is the browser's view of §5.2: a
// client that answers publish m-lines sendonly gets every other
// participant's microphone and camera, each on an m-line the server added
// (sendonly on its side, msid "<participant> <source>:<participant>"),
// never on its own publish m-lines; also after someone leaves (their
// m-lines go inactive) and another joins (on new m-lines).
func TestLiteralClientGetsEveryParticipant(t *testing.T) {
	srv := servertest.Start(t)
	a := newLiteralClient(t, srv, "lit", "ada")
	b := newLiteralClient(t, srv, "lit", "bob")
	c := newLiteralClient(t, srv, "lit", "cy")
	a.waitMedia("bob", "cy")
	b.waitMedia("ada", "cy")
	c.waitMedia("ada", "bob")

	b.close()
	d := newLiteralClient(t, srv, "lit", "dee")
	a.waitMedia("cy", "dee")
	d.waitMedia("ada", "cy")
	a.mu.Lock()
	unrouted := a.unrouted
	a.mu.Unlock()
	if unrouted > 0 {
		t.Errorf("%d packets arrived on m-lines the offer did not name", unrouted)
	}
}

// TestJoinedListsAreArrays: in an empty room joined.participants is [],
// not null, as the document shows (a browser client iterates it).
func TestJoinedListsAreArrays(t *testing.T) {
	srv := servertest.Start(t)
	tok := srv.Token(token.Claims{Identity: "solo", Name: "Solo", Room: "empty", Grants: token.DefaultGrants()}, time.Hour, time.Now())
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	send(t, ws, wire.TypeJoin, wire.Join{Token: tok, Room: "empty"})
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Type string `json:"type"`
		Data map[string]json.RawMessage
	}
	if err := json.Unmarshal(b, &raw); err != nil || raw.Type != wire.TypeJoined {
		t.Fatalf("first message %s: %v", b, err)
	}
	for _, field := range []string{"participants", "chat"} {
		if got := string(raw.Data[field]); got != "[]" {
			t.Errorf("joined.%s in an empty room is %s, want []", field, got)
		}
	}
	if got := string(raw.Data["you"]); !strings.Contains(got, `"tracks":[]`) {
		t.Errorf("joined.you.tracks is not []: %s", got)
	}
}

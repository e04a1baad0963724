package sfubench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/wire"
)

// confabServer runs confab-server (its binary in CONFAB_SERVER_BIN).
type confabServer struct {
	label string // "confab" unless a second build is compared
	bin   string
	cmd   *exec.Cmd
	url   string
	dir   string
	room  string
}

func (s *confabServer) name() string {
	if s.label != "" {
		return s.label
	}
	return "confab"
}

func (s *confabServer) start(dir string, profile string) error {
	http, udp := freePort("tcp"), freePort("udp")
	s.url = fmt.Sprintf("http://127.0.0.1:%d", http)
	s.dir = dir
	args := []string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", http), "--udp-port", fmt.Sprint(udp),
		"--data", filepath.Join(dir, "data"), "--open", "--log-level", "error", "--max-participants", "64"}
	if profile != "" {
		args = append(args, "--cpuprofile", profile)
	}
	s.cmd = exec.Command(s.bin, args...)
	s.cmd.Stderr = os.Stderr
	if err := s.cmd.Start(); err != nil {
		return err
	}
	return waitHTTP(s.url + "/healthz")
}

func (s *confabServer) pid() int { return s.cmd.Process.Pid }
func (s *confabServer) stop()    { stopProcess(s.cmd) }

// clipMedia gives the session the pump's track as its camera.
type clipMedia struct{ track *webrtc.TrackLocalStaticRTP }

type clipTrack struct{ *webrtc.TrackLocalStaticRTP }

func (clipTrack) Close() error { return nil }

var errNoSource = errors.New("sfubench: no such source")

func (m clipMedia) OpenCamera() (client.LocalTrack, error) { return clipTrack{m.track}, nil }
func (clipMedia) OpenMicrophone() (client.LocalTrack, error) {
	return nil, errNoSource
}
func (clipMedia) OpenScreen() (client.LocalTrack, error) { return nil, errNoSource }

func (s *confabServer) publish(ctx context.Context, track *webrtc.TrackLocalStaticRTP) (func(), error) {
	sess, err := client.Join(ctx, client.Config{Server: s.url, Room: "bench", Name: "Publisher", Camera: true,
		Media: clipMedia{track}, LoopbackOnly: true, ReconnectFor: -1})
	if err != nil {
		return nil, err
	}
	go drainEvents(sess)
	return func() { _ = sess.Leave() }, nil
}

// confabSub is a receive-only participant written from PROTOCOL.md
// with plain pion, the same client as the sfu-ws subscribers (clientAPI),
// so that both servers are measured against the same receiver: it joins,
// answers every offer and counts video packets.
type confabSub struct {
	*counter
	ws   *websocket.Conn
	wmu  sync.Mutex
	pc   *webrtc.PeerConnection
	done chan struct{}
}

func (s *confabServer) subscribe(ctx context.Context, i int) (subscriber, error) {
	name := fmt.Sprintf("Sub %d", i)
	tok, err := openToken(ctx, s.url, "bench", name)
	if err != nil {
		return nil, err
	}
	api, err := clientAPI()
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(s.url, "http")+"/ws", nil)
	if err != nil {
		pc.Close()
		return nil, err
	}
	sub := &confabSub{counter: &counter{}, ws: ws, pc: pc, done: make(chan struct{})}
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { countVideo(t, sub.counter) })
	sub.send(wire.TypeJoin, wire.Join{Token: tok, Room: "bench"})
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for joined := false; !joined; {
		_, b, err := ws.ReadMessage()
		if err != nil {
			sub.close()
			return nil, fmt.Errorf("join: %w", err)
		}
		env, err := wire.DecodeEnvelope(b)
		if err != nil || env.Type == wire.TypeError {
			sub.close()
			return nil, fmt.Errorf("join refused: %s", b)
		}
		joined = env.Type == wire.TypeJoined
	}
	_ = ws.SetReadDeadline(time.Time{})
	go sub.readLoop()
	return sub, nil
}

func (s *confabSub) send(typ string, v any) {
	b, _ := wire.Encode(typ, v)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_ = s.ws.WriteMessage(websocket.TextMessage, b)
}

func (s *confabSub) readLoop() {
	defer close(s.done)
	for {
		_, b, err := s.ws.ReadMessage()
		if err != nil {
			return
		}
		env, err := wire.DecodeEnvelope(b)
		if err != nil || env.Type != wire.TypeOffer {
			continue
		}
		var o wire.Offer
		if wire.DecodeData(env, &o) != nil || s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.SDP}) != nil {
			continue
		}
		ans, err := s.pc.CreateAnswer(nil)
		if err != nil || s.pc.SetLocalDescription(ans) != nil {
			continue
		}
		select {
		case <-webrtc.GatheringCompletePromise(s.pc):
		case <-time.After(5 * time.Second):
		}
		s.send(wire.TypeAnswer, wire.Answer{SDP: s.pc.LocalDescription().SDP})
	}
}

func (s *confabSub) close() {
	_ = s.pc.Close()
	_ = s.ws.Close()
}

// Close leaves and waits for the reader.
func (s *confabSub) Close() {
	s.send(wire.TypeLeave, nil)
	s.close()
	<-s.done
}

// openToken asks an open server's /api/token for a token.
func openToken(ctx context.Context, base, room, name string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/token?"+url.Values{"room": {room}, "name": {name}}.Encode(), nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var tr struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &tr) != nil || tr.Token == "" {
		return "", fmt.Errorf("token: %s %s", resp.Status, b)
	}
	return tr.Token, nil
}

func drainEvents(s *client.Session) {
	for range s.Events() {
	}
}

package sfubench

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// sfuwsServer runs pion's sfu-ws example (its binary in SFUWS_BIN, run in
// SFUWS_DIR, which holds its index.html). sfu-ws offers no loopback
// candidates, so the namespace gives it an address on a dummy interface
// (SFUWS_IP).
type sfuwsServer struct {
	bin, dir, ip string
	cmd          *exec.Cmd
	addr         string
}

func (s *sfuwsServer) name() string { return "sfu-ws" }

func (s *sfuwsServer) start(string, string) error {
	s.addr = fmt.Sprintf("%s:%d", s.ip, freePort("tcp"))
	s.cmd = exec.Command(s.bin, "-addr", s.addr)
	s.cmd.Dir = s.dir
	s.cmd.Stdout, s.cmd.Stderr = nil, nil // it logs every websocket close
	if err := s.cmd.Start(); err != nil {
		return err
	}
	return waitHTTP("http://" + s.addr + "/")
}

func (s *sfuwsServer) pid() int { return s.cmd.Process.Pid }
func (s *sfuwsServer) stop()    { stopProcess(s.cmd) }

// wsPeer is one client of sfu-ws's protocol: JSON {event, data} messages
// over the websocket, offers from the server, trickled candidates.
type wsPeer struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	pc   *webrtc.PeerConnection
	done chan struct{}
}

// clientAPI is a browser-like pion client: default interceptors (NACK,
// reports, TWCC), candidates on loopback and the dummy interface, no mDNS.
func clientAPI() (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() || ip.IsPrivate() })
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

func (s *sfuwsServer) dial(ctx context.Context, onOffer func(pc *webrtc.PeerConnection), onTrack func(*webrtc.TrackRemote)) (*wsPeer, error) {
	api, err := clientAPI()
	if err != nil {
		return nil, err
	}
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, "ws://"+s.addr+"/websocket", nil)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		ws.Close()
		return nil, err
	}
	p := &wsPeer{ws: ws, pc: pc, done: make(chan struct{})}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		b, _ := json.Marshal(c.ToJSON())
		p.send("candidate", string(b))
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { onTrack(t) })
	go func() {
		defer close(p.done)
		for {
			var m struct{ Event, Data string }
			if err := ws.ReadJSON(&m); err != nil {
				return
			}
			switch m.Event {
			case "offer":
				var sd webrtc.SessionDescription
				if json.Unmarshal([]byte(m.Data), &sd) != nil || pc.SetRemoteDescription(sd) != nil {
					return
				}
				if onOffer != nil {
					onOffer(pc)
					onOffer = nil
				}
				ans, err := pc.CreateAnswer(nil)
				if err != nil || pc.SetLocalDescription(ans) != nil {
					return
				}
				b, _ := json.Marshal(ans)
				p.send("answer", string(b))
			case "candidate":
				var c webrtc.ICECandidateInit
				if json.Unmarshal([]byte(m.Data), &c) == nil {
					_ = pc.AddICECandidate(c)
				}
			}
		}
	}()
	return p, nil
}

func (p *wsPeer) send(event, data string) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	_ = p.ws.WriteJSON(map[string]string{"event": event, "data": data})
}

func (p *wsPeer) Close() {
	_ = p.pc.Close()
	_ = p.ws.Close()
	<-p.done
}

func (s *sfuwsServer) publish(ctx context.Context, track *webrtc.TrackLocalStaticRTP) (func(), error) {
	p, err := s.dial(ctx, func(pc *webrtc.PeerConnection) {
		if _, err := pc.AddTrack(track); err != nil {
			fmt.Fprintln(os.Stderr, "sfu-ws publisher:", err)
		}
	}, func(t *webrtc.TrackRemote) { drainTrack(t) })
	if err != nil {
		return nil, err
	}
	return p.Close, nil
}

type wsSub struct {
	*counter
	*wsPeer
}

func (s *sfuwsServer) subscribe(ctx context.Context, _ int) (subscriber, error) {
	c := &counter{}
	p, err := s.dial(ctx, nil, func(t *webrtc.TrackRemote) { countVideo(t, c) })
	if err != nil {
		return nil, err
	}
	return &wsSub{counter: c, wsPeer: p}, nil
}

// countVideo counts the packets of t if it is video, and drains it.
func countVideo(t *webrtc.TrackRemote, c *counter) {
	if t.Kind() != webrtc.RTPCodecTypeVideo {
		drainTrack(t)
		return
	}
	buf := make([]byte, 1500)
	for {
		if _, _, err := t.Read(buf); err != nil {
			return
		}
		c.add()
	}
}

func drainTrack(t *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := t.Read(buf); err != nil {
			return
		}
	}
}

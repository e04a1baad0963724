// Package sfu forwards media between WebRTC peers: it builds pion
// PeerConnections that share one UDP port (or one ICE-TCP port), fans each published track out to
// its subscribers, relays keyframe requests to publishers, and turns the
// RFC 6464 audio level of published audio into active-speaker reports. It
// knows nothing of rooms or signaling: signaling/server drives it.
package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/logging"
	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v4/stdnet"
	"github.com/pion/webrtc/v4"
)

// ErrConfig reports an unusable network configuration.
var ErrConfig = errors.New("sfu: bad network config")

// NetConfig says where media flows.
type NetConfig struct {
	// ListenIP is the address the media ports bind to ("" = all).
	ListenIP string
	// UDPPort is the one UDP port all media uses (0 = any free port).
	UDPPort int
	// NoUDP opens no UDP socket at all: media goes over ICE-TCP alone (TCP
	// must be set, on TCPPort), candidates are TCP ones only, and mDNS is
	// off (it would open a UDP socket per PeerConnection). For a host
	// where UDP is blocked or cannot be opened (wine 8.0 refuses Go's UDP
	// sockets). A UDP port that cannot be opened without NoUDP is an
	// error, never a silent fall back to TCP.
	NoUDP bool
	// TCPPort is the ICE-TCP port when TCP is set: 0 = the same number as
	// the UDP media port (with NoUDP, any free port).
	TCPPort int
	// LoopbackOnly gathers candidates on the loopback interface alone, with
	// mDNS off and no STUN: for tests, benchmarks and the app's embedded
	// server when it is not opened to the network.
	LoopbackOnly bool
	// Interfaces, when set, limits candidates to these interface names.
	Interfaces []string
	// TCP also accepts media over ICE-TCP (RFC 6544, passive candidates)
	// on TCPPort, so a client whose UDP is blocked still gets media.
	TCP bool
	// AnnounceIPs, when set, are announced as host candidates instead of
	// the local addresses (a server behind 1:1 NAT).
	AnnounceIPs []string
	// Logger receives pion's logs; nil discards them.
	Logger *slog.Logger
}

// Engine creates PeerConnections that share one UDP port (and one ICE-TCP
// port).
type Engine struct {
	api    *webrtc.API
	mux    ice.UDPMux   // nil with NetConfig.NoUDP
	tcpMux ice.TCPMux   // nil unless NetConfig.TCP
	addr   net.Addr     // the UDP media port's, or with NoUDP the TCP one's
	conns  []*batchConn // the media UDP sockets (batch.go)

	// pcMu serializes NewPeer: the congestion controller's estimator for
	// a new PeerConnection is handed over in newBWE while pion builds its
	// interceptors, on the calling goroutine.
	pcMu   sync.Mutex
	newBWE cc.BandwidthEstimator
}

// NewEngine opens the media UDP port and prepares the pion API: VP8 and
// Opus with NACK, PLI and FIR feedback, the audio-level header extension,
// interceptors for what it receives (newServerMediaEngine: pion's NACK
// generator and receiver reports, and TWCC feedback), and a send-side bandwidth
// estimator (Google Congestion Control over the TWCC feedback of each
// subscriber, AddCongestionControl). On an unspecified address the port is
// opened on every interface address (and loopback), so each candidate
// answers from its own address. With cfg.TCP it also opens the ICE-TCP
// port; with cfg.NoUDP that port alone.
func NewEngine(cfg NetConfig) (*Engine, error) {
	if cfg.NoUDP && !cfg.TCP {
		return nil, fmt.Errorf("%w: no UDP and no ICE-TCP leaves media no way in", ErrConfig)
	}
	for what, p := range map[string]int{"media port": cfg.UDPPort, "media TCP port": cfg.TCPPort} {
		if p < 0 || p > 65535 {
			return nil, fmt.Errorf("%w: %s %d is not a port (0-65535)", ErrConfig, what, p)
		}
	}
	listenIP := cfg.ListenIP
	if cfg.LoopbackOnly && listenIP == "" {
		listenIP = "127.0.0.1"
	}
	logf := NewLoggerFactory(cfg.Logger)
	e := &Engine{}
	se := webrtc.SettingEngine{LoggerFactory: logf}
	if !cfg.NoUDP {
		if err := e.openUDP(cfg, listenIP, logf); err != nil {
			return nil, err
		}
		se.SetICEUDPMux(e.mux)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	if cfg.TCP {
		port := cfg.TCPPort
		if ua, ok := e.addr.(*net.UDPAddr); ok && port == 0 {
			port = ua.Port
		}
		tcpIP := listenIP
		if tcpIP == "" {
			tcpIP = "0.0.0.0"
		}
		ln, err := net.Listen("tcp4", net.JoinHostPort(tcpIP, strconv.Itoa(port)))
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("%w: media TCP port %d: %w", ErrConfig, port, err)
		}
		if cfg.NoUDP {
			e.addr = ln.Addr()
		}
		e.tcpMux = webrtc.NewICETCPMux(logf.NewLogger("ice-tcp"), ln, 16)
		se.SetICETCPMux(e.tcpMux)
		if cfg.NoUDP {
			se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
		} else {
			se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4})
		}
	}
	ConfigureCandidates(&se, cfg.LoopbackOnly, cfg.Interfaces)
	if cfg.NoUDP {
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	}
	if len(cfg.AnnounceIPs) > 0 {
		for _, ip := range cfg.AnnounceIPs {
			if net.ParseIP(ip) == nil {
				e.Close()
				return nil, fmt.Errorf("%w: announce address %q is not an IP", ErrConfig, ip)
			}
		}
		se.SetNAT1To1IPs(cfg.AnnounceIPs, webrtc.ICECandidateTypeHost)
	}

	me, ir, err := newServerMediaEngine()
	if err != nil {
		e.Close()
		return nil, err
	}
	if err := AddCongestionControl(ir, InitialEstimate, logf, func(bwe cc.BandwidthEstimator) { e.newBWE = bwe }); err != nil {
		e.Close()
		return nil, err
	}
	e.api = webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir))
	return e, nil
}

// openUDP opens the media UDP port: on an unspecified address on every
// interface address (and loopback), else on listenIP.
func (e *Engine) openUDP(cfg NetConfig, listenIP string, logf logging.LoggerFactory) error {
	if ip := net.ParseIP(listenIP); listenIP == "" || (ip != nil && ip.IsUnspecified()) {
		std, err := stdnet.NewNet()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		bn := &batchNet{Net: std}
		opts := []ice.UDPMuxFromPortOption{
			ice.UDPMuxFromPortWithNet(bn),
			ice.UDPMuxFromPortWithLoopback(),
			ice.UDPMuxFromPortWithNetworks(ice.NetworkTypeUDP4),
			ice.UDPMuxFromPortWithLogger(logf.NewLogger("ice-mux")),
		}
		if len(cfg.Interfaces) > 0 {
			allowed := map[string]bool{"lo": true}
			for _, n := range cfg.Interfaces {
				allowed[n] = true
			}
			opts = append(opts, ice.UDPMuxFromPortWithInterfaceFilter(func(name string) bool { return allowed[name] }))
		}
		mux, err := ice.NewMultiUDPMuxFromPort(cfg.UDPPort, opts...)
		if err != nil {
			return fmt.Errorf("%w: media port %d: %w", ErrConfig, cfg.UDPPort, err)
		}
		e.mux, e.conns = mux, bn.conns
		if addrs := mux.GetListenAddresses(); len(addrs) > 0 {
			e.addr = addrs[0]
		}
		return nil
	}
	conn, err := net.ListenPacket("udp4", net.JoinHostPort(listenIP, strconv.Itoa(cfg.UDPPort)))
	if err != nil {
		return fmt.Errorf("%w: media port: %w", ErrConfig, err)
	}
	var pc net.PacketConn = conn
	if uc, ok := conn.(*net.UDPConn); ok {
		bc := newBatchConn(uc)
		e.conns, pc = []*batchConn{bc}, bc
	}
	e.mux = webrtc.NewICEUDPMux(logf.NewLogger("ice-mux"), pc)
	e.addr = conn.LocalAddr()
	return nil
}

// ConfigureCandidates sets which ICE candidates a SettingEngine gathers.
// With loopbackOnly, only 127.0.0.1 on interface "lo" is used, mDNS is off
// and no STUN is asked: no traffic leaves the machine. Otherwise the
// given interfaces (all when none) and loopback are used.
func ConfigureCandidates(se *webrtc.SettingEngine, loopbackOnly bool, interfaces []string) {
	if loopbackOnly {
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		return
	}
	// Also offer 127.0.0.1: an app on the server's own machine joins over
	// loopback. Remote peers cannot reach it and pair other candidates.
	se.SetIncludeLoopbackCandidate(true)
	if len(interfaces) > 0 {
		allowed := make(map[string]bool, len(interfaces)+1)
		allowed["lo"] = true
		for _, n := range interfaces {
			allowed[n] = true
		}
		se.SetInterfaceFilter(func(name string) bool { return allowed[name] })
	}
}

// MaxNacksPerPacket is how often a receiver (the server, through
// newServerMediaEngine, and the Go client, through NewMediaEngine) asks
// again for one missing packet (RFC 4585 §6.2.1 generic NACK), once per
// 100 ms. pion's default asks
// until the packet leaves its 512-packet window: on a loaded machine,
// where a reader falls behind and packets are dropped after decryption,
// a retransmission of the same SSRC and sequence number is refused by
// SRTP replay protection (RFC 3711 §3.3.2) and is asked for again, up to
// 80 times a packet in a 9-party room, and the retransmissions add to the
// load that caused the loss. Five tries span half a second: a video frame
// older than that is repaired faster by a keyframe.
const MaxNacksPerPacket = 5

// ClientNackHistory is how many packets a client keeps per stream it
// sends, to answer the server's NACKs (pion's default is 1024). The
// server asks for a packet over half a second (MaxNacksPerPacket); 256
// packets are 2.5 s of a 640x480 camera at 1 Mbit/s, 5 s of audio. Each
// kept packet holds a 1460-byte buffer: with a camera's three layers and
// the microphone, 1024 kept about 6 MB live in the app for nothing.
const ClientNackHistory = 256

// NewMediaEngine returns the codecs, feedback and header extensions the
// server negotiates, with pion's default interceptors registered (the NACK
// generator asking at most MaxNacksPerPacket times for a packet, the NACK
// responder keeping ClientNackHistory packets per stream): what a client
// of the server (a test peer, the Go client) uses.
func NewMediaEngine() (*webrtc.MediaEngine, *interceptor.Registry, error) {
	me, err := newCodecs()
	if err != nil {
		return nil, nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptorsWithOptions(me, ir,
		webrtc.WithNackGeneratorOptions(nack.GeneratorMaxNacksPerPacket(MaxNacksPerPacket)),
		webrtc.WithNackResponderOptions(nack.ResponderSize(ClientNackHistory))); err != nil {
		return nil, nil, fmt.Errorf("sfu: interceptors: %w", err)
	}
	return me, ir, nil
}

// newServerMediaEngine returns the server's codecs and the interceptors
// of what it receives from publishers: NACKs for lost packets (RFC 4585
// §6.2.1), receiver reports (RFC 3550 §6.4.2) and TWCC feedback
// (twccFeedbackFactory, in place of pion's twcc.SenderInterceptor), so each
// publisher's own congestion control works. What the server sends goes
// through none of pion's per-packet interceptors but the congestion
// controller's (AddCongestionControl): sender reports, NACK answers (from
// one cache per published stream) and keyframe requests are the SFU's
// own (LocalTrack, relayFeedback), and no per-packet statistics are kept.
func newServerMediaEngine() (*webrtc.MediaEngine, *interceptor.Registry, error) {
	me, err := newCodecs()
	if err != nil {
		return nil, nil, err
	}
	for _, uri := range []string{sdp.SDESMidURI, sdp.SDESRTPStreamIDURI, sdp.SDESRepairRTPStreamIDURI, sdp.TransportCCURI} {
		if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, nil, fmt.Errorf("sfu: register %s: %w", uri, err)
		}
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, nil, fmt.Errorf("sfu: register %s: %w", sdp.TransportCCURI, err)
	}
	ir := &interceptor.Registry{}
	gen, err := nack.NewGeneratorInterceptor(nack.GeneratorMaxNacksPerPacket(MaxNacksPerPacket))
	if err != nil {
		return nil, nil, fmt.Errorf("sfu: interceptors: %w", err)
	}
	rr, err := report.NewReceiverInterceptor()
	if err != nil {
		return nil, nil, fmt.Errorf("sfu: interceptors: %w", err)
	}
	ir.Add(gen)
	ir.Add(rr)
	ir.Add(twccFeedbackFactory{interval: twccFeedbackInterval})
	return me, ir, nil
}

// newCodecs returns a MediaEngine with the codecs, their feedback and the
// audio level header extension.
func newCodecs() (*webrtc.MediaEngine, error) {
	me := &webrtc.MediaEngine{}
	videoFB := []webrtc.RTCPFeedback{
		{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"},
		{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "transport-cc"},
	}
	codecs := []struct {
		p webrtc.RTPCodecParameters
		t webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: "transport-cc"}}}, PayloadType: 111}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFB}, PayloadType: 96}, webrtc.RTPCodecTypeVideo},
	}
	for _, c := range codecs {
		if err := me.RegisterCodec(c.p, c.t); err != nil {
			return nil, fmt.Errorf("sfu: register %s: %w", c.p.MimeType, err)
		}
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("sfu: register audio level: %w", err)
	}
	return me, nil
}

// InitialEstimate is the bandwidth a new PeerConnection's estimator
// assumes, in bits per second, until feedback moves it.
const InitialEstimate = 1_000_000

// Estimate bounds, in bits per second.
const (
	minEstimate = 50_000
	maxEstimate = 20_000_000
)

// AddCongestionControl adds a send-side bandwidth estimator to ir: each
// PeerConnection built from it gets its own Google Congestion Control
// estimator (delay and loss based, draft-ietf-rmcat-gcc-02) fed by the
// remote peer's transport-wide congestion control feedback
// (draft-holmer-rmcat-transport-wide-cc-extensions-01), whose sequence
// numbers it adds to every packet sent. onNew receives the estimator of
// each PeerConnection while pion builds it, on the goroutine that calls
// NewPeerConnection. Packets are not paced: the estimate is for choosing
// simulcast layers (the server) or an encoder bitrate (the client).
func AddCongestionControl(ir *interceptor.Registry, initial int, logf logging.LoggerFactory, onNew func(cc.BandwidthEstimator)) error {
	f, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		opts := []gcc.Option{
			gcc.SendSideBWEInitialBitrate(initial),
			gcc.SendSideBWEMinBitrate(minEstimate),
			gcc.SendSideBWEMaxBitrate(maxEstimate),
			gcc.SendSideBWEPacer(&directPacer{}),
		}
		if logf != nil {
			opts = append(opts, gcc.WithLoggerFactory(logf))
		}
		return gcc.NewSendSideBWE(opts...)
	})
	if err != nil {
		return fmt.Errorf("sfu: congestion control: %w", err)
	}
	f.OnNewPeerConnection(func(_ string, bwe cc.BandwidthEstimator) { onNew(bwe) })
	ir.Add(f)
	// Added after the estimator, so it runs first on the way out: the
	// estimator records the transport-wide sequence number this one
	// writes, with the attribute map it lends (attrs.go).
	ir.Add(sendFactory{})
	return nil
}

// NewPeerConnection returns a PeerConnection on the shared media port.
func (e *Engine) NewPeerConnection() (*webrtc.PeerConnection, error) {
	pc, _, err := e.NewPeer()
	return pc, err
}

// NewPeer returns a PeerConnection on the shared media port and the
// bandwidth estimator of what it sends (the subscriber's downlink).
func (e *Engine) NewPeer() (*webrtc.PeerConnection, cc.BandwidthEstimator, error) {
	e.pcMu.Lock()
	defer e.pcMu.Unlock()
	e.newBWE = nil
	pc, err := e.api.NewPeerConnection(webrtc.Configuration{})
	bwe := e.newBWE
	e.newBWE = nil
	return pc, bwe, err
}

// Begin opens a fan-out on every media socket: what is written until End
// leaves in as few sendmmsg calls as it can (Batcher).
func (e *Engine) Begin() {
	for _, c := range e.conns {
		c.Begin()
	}
}

// End closes a fan-out and sends what it queued.
func (e *Engine) End() {
	for _, c := range e.conns {
		c.End()
	}
}

// MediaAddr is the (first) local address of the media UDP port, or with
// NetConfig.NoUDP that of the ICE-TCP port.
func (e *Engine) MediaAddr() net.Addr { return e.addr }

// UDP reports whether media can come over UDP (false with NetConfig.NoUDP).
func (e *Engine) UDP() bool { return e.mux != nil }

// Close releases the media ports. PeerConnections should be closed first.
func (e *Engine) Close() error {
	var err error
	if e.mux != nil {
		err = e.mux.Close()
	}
	if e.tcpMux != nil {
		err = errors.Join(err, e.tcpMux.Close())
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

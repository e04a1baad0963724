package server

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/confab/confab/signaling/sfu"
)

// metrics are the counters /metrics exposes in the Prometheus text format.
// They are atomics (or under their own mu), so /metrics and /healthz never
// wait for a room's lock or the store.
type metrics struct {
	sfu          sfu.Stats
	joins        atomic.Uint64
	iceRestarts  atomic.Uint64
	chats        atomic.Uint64
	reactions    atomic.Uint64
	handRaises   atomic.Uint64
	wsMessages   atomic.Uint64
	participants atomic.Int64
	rateLimited  atomic.Uint64
	overloaded   atomic.Uint64
	storeBatches atomic.Uint64
	mu           sync.Mutex
	refusals     map[string]uint64 // join refusals by error code
}

func newMetrics() *metrics { return &metrics{refusals: make(map[string]uint64)} }

func (m *metrics) refused(code string) {
	m.mu.Lock()
	m.refusals[code]++
	m.mu.Unlock()
}

func (s *Server) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock() // never held across I/O or a room's lock
	rooms, conns := len(s.rooms), len(s.conns)
	s.mu.Unlock()
	m := s.metrics
	participants := m.participants.Load()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	gauge := func(name, help string, v any) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %v\n", name, help, name, name, v)
	}
	counter := func(name, help string, v uint64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	gauge("confab_rooms", "Rooms open now.", rooms)
	gauge("confab_participants", "Participants in rooms now.", participants)
	gauge("confab_connections", "Websocket connections now.", conns)
	gauge("confab_tracks", "Published tracks being forwarded now.", m.sfu.TracksLive.Load())
	counter("confab_joins_total", "Successful joins.", m.joins.Load())
	counter("confab_ice_restarts_total", "Offers that restarted ICE after media stopped.", m.iceRestarts.Load())
	counter("confab_chat_messages_total", "Chat messages stored.", m.chats.Load())
	counter("confab_reactions_total", "Reactions passed on to rooms.", m.reactions.Load())
	counter("confab_hand_raises_total", "Hands raised.", m.handRaises.Load())
	counter("confab_ws_messages_total", "Websocket messages read.", m.wsMessages.Load())
	counter("confab_rate_limited_total", "Messages and /api requests refused with rate_limited.", m.rateLimited.Load())
	counter("confab_chat_overloaded_total", "Chat messages refused with overloaded.", m.overloaded.Load())
	counter("confab_store_batches_total", "Store transactions written by the store writer.", m.storeBatches.Load())
	gauge("confab_chat_queue", "Chat messages waiting for the store now.", s.writer.queued.Load())
	counter("confab_rtp_packets_in_total", "RTP packets received from publishers.", m.sfu.PacketsIn.Load())
	counter("confab_rtp_bytes_in_total", "RTP bytes received from publishers.", m.sfu.BytesIn.Load())
	counter("confab_keyframe_requests_total", "PLIs sent to publishers.", m.sfu.Keyframes.Load())
	counter("confab_layer_switches_total", "Simulcast layer changes made for subscribers (at keyframes, or pauses).", m.sfu.LayerSwitches.Load())
	counter("confab_rtp_retransmits_total", "RTP packets sent again for subscribers' NACKs, from the SFU's packet caches.", m.sfu.Retransmits.Load())
	m.mu.Lock()
	codes := make([]string, 0, len(m.refusals))
	for c := range m.refusals {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	fmt.Fprintf(w, "# HELP confab_join_refusals_total Joins refused, by error code.\n# TYPE confab_join_refusals_total counter\n")
	for _, c := range codes {
		fmt.Fprintf(w, "confab_join_refusals_total{code=%q} %d\n", c, m.refusals[c])
	}
	m.mu.Unlock()
}

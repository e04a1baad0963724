package server

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/confab/confab/signaling/wire"
)

// Limits that hold across connections.
const (
	// identityTTL is how long an identity's limits are remembered after
	// its last connection in a room ends.
	identityTTL = 10 * time.Minute
	// maxIdentities bounds the identities remembered; past it the longest
	// idle are forgotten first (those connected now are always kept).
	maxIdentities = 10_000
	// violationReset is how long without a violation resets the count.
	violationReset = time.Minute

	// apiRate and apiBurst bound /api/* requests per client address.
	apiRate  = 20
	apiBurst = 40
	// maxAddresses bounds the client addresses remembered for /api/*.
	maxAddresses = 10_000
)

// limits are the rate limits of one participant: all of its messages, its
// chat messages, and its violations. They belong to a (room, identity),
// not to a connection, so reconnecting does not refill them. Safe for
// concurrent use (a replaced and a new connection may share them).
type limits struct {
	msgs, chat *rate.Limiter
	react      reactLimiter

	mu       sync.Mutex
	viol     int
	lastViol time.Time

	// Guarded by limitRegistry.mu.
	conns int
	idle  time.Time // when conns last fell to 0
}

func (s *Server) newLimits() *limits {
	return &limits{
		msgs: rate.NewLimiter(rate.Limit(s.cfg.MessageRate), s.cfg.MessageBurst),
		chat: rate.NewLimiter(rate.Limit(s.cfg.ChatRate), s.cfg.ChatBurst),
	}
}

// violation counts one more rate-limit violation and returns the count,
// which restarts after violationReset without one.
func (l *limits) violation(now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastViol) > violationReset {
		l.viol = 0
	}
	l.viol++
	l.lastViol = now
	return l.viol
}

// limitRegistry remembers limits per (room, identity) while connected and
// for identityTTL after, at most maxIdentities idle ones.
type limitRegistry struct {
	mu sync.Mutex
	m  map[limitKey]*limits
}

type limitKey struct{ room, identity string }

// acquire returns the limits of identity in room for a new connection.
func (s *Server) acquireLimits(room, identity string) *limits {
	g := &s.limits
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	k := limitKey{room, identity}
	l := g.m[k]
	if l == nil {
		if len(g.m) >= maxIdentities {
			g.evictLocked(now)
		}
		l = s.newLimits()
		g.m[k] = l
	}
	l.conns++
	return l
}

// releaseLimits tells that a connection using l has ended.
func (s *Server) releaseLimits(l *limits) {
	g := &s.limits
	g.mu.Lock()
	defer g.mu.Unlock()
	l.conns--
	if l.conns == 0 {
		l.idle = time.Now()
	}
}

// evictLocked forgets identities idle past identityTTL and, if that is not
// enough, the longest idle one.
func (g *limitRegistry) evictLocked(now time.Time) {
	var oldest limitKey
	var oldestAt time.Time
	for k, l := range g.m {
		if l.conns > 0 {
			continue
		}
		if now.Sub(l.idle) > identityTTL {
			delete(g.m, k)
			continue
		}
		if oldestAt.IsZero() || l.idle.Before(oldestAt) {
			oldest, oldestAt = k, l.idle
		}
	}
	if len(g.m) >= maxIdentities && !oldestAt.IsZero() {
		delete(g.m, oldest)
	}
}

// addrLimiter bounds /api/* requests per client address (the TCP peer's
// IP; proxies' X-Forwarded-For is not trusted). The zero value allows
// apiRate per second with bursts of apiBurst; every, when set, gives one
// allowance back per every instead, with bursts of burst.
type addrLimiter struct {
	every time.Duration
	burst int

	mu sync.Mutex
	m  map[string]*addrEntry
}

// params returns the limiter's rate and burst.
func (a *addrLimiter) params() (rate.Limit, int) {
	if a.every == 0 {
		return apiRate, apiBurst
	}
	return rate.Every(a.every), a.burst
}

// exhausted reports whether the client at addr has no allowance left now,
// without taking one.
func (a *addrLimiter) exhausted(addr string, now time.Time) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.m[host]
	return e != nil && e.lim.TokensAt(now) < 1
}

type addrEntry struct {
	lim  *rate.Limiter
	last time.Time
}

// allow reports whether the client at addr may make a request now.
func (a *addrLimiter) allow(addr string, now time.Time) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = make(map[string]*addrEntry)
	}
	e := a.m[host]
	if e == nil {
		if len(a.m) >= maxAddresses {
			a.evictLocked(now)
		}
		r, b := a.params()
		e = &addrEntry{lim: rate.NewLimiter(r, b)}
		a.m[host] = e
	}
	e.last = now
	return e.lim.AllowN(now, 1)
}

// evictLocked forgets addresses whose bucket has refilled (idle for
// apiBurst/apiRate seconds, so forgetting them changes nothing) and, if
// that is not enough, the longest idle one.
func (a *addrLimiter) evictLocked(now time.Time) {
	r, b := a.params()
	full := time.Duration(float64(b) / float64(r) * float64(time.Second))
	var oldest string
	var oldestAt time.Time
	for k, e := range a.m {
		if now.Sub(e.last) > full {
			delete(a.m, k)
			continue
		}
		if oldestAt.IsZero() || e.last.Before(oldestAt) {
			oldest, oldestAt = k, e.last
		}
	}
	if len(a.m) >= maxAddresses {
		delete(a.m, oldest)
	}
}

// limitAPI applies the per-address limit to every /api/* request.
func (s *Server) limitAPI(w http.ResponseWriter, r *http.Request) bool {
	if s.apiLim.allow(r.RemoteAddr, time.Now()) {
		return true
	}
	s.metrics.rateLimited.Add(1)
	writeJSONError(w, http.StatusTooManyRequests, wire.CodeRateLimited, "too many requests from your address; try again shortly")
	return false
}

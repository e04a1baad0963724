package server

import (
	"net/http"
	"net/url"
	"strings"
)

// normalOrigin returns origin (RFC 6454) as "scheme://host[:port]" with the
// scheme and host lower-cased and the scheme's default port (80 for http,
// 443 for https) dropped; ok is false for anything but an http or https
// origin with a host and nothing after it (a trailing "/" is tolerated).
func normalOrigin(origin string) (string, bool) {
	u, err := url.Parse(strings.TrimSuffix(origin, "/"))
	if err != nil || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	switch {
	case scheme == "http" && port == "80", scheme == "https" && port == "443":
		port = ""
	case scheme != "http" && scheme != "https":
		return "", false
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6 literal
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, true
}

// ownOrigin is the origin of a page this server serves to r's client:
// http:// (https:// when this server terminates TLS) and r's Host header.
func ownOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	o, _ := normalOrigin(scheme + "://" + r.Host)
	return o
}

// originAllowed reports whether a browser page from origin may use this
// server: origin equals the server's own origin for r (so an http:// page
// may open ws:// on the same host and port, an https:// page wss://) or
// one given in Config.AllowedOrigins. Hosts are compared as text:
// localhost and 127.0.0.1 are different origins.
func (s *Server) originAllowed(r *http.Request, origin string) bool {
	o, ok := normalOrigin(origin)
	if !ok {
		return false
	}
	return o == ownOrigin(r) || s.origins[o]
}

// guardAPI puts the per-address rate limit in front of every /api/* route
// and answers CORS for /api/token.
func (s *Server) guardAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		if r.URL.Path == "/api/token" && s.cors(w, r) {
			return
		}
		if !s.limitAPI(w, r) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// cors adds the CORS headers (Fetch standard) for a request from an
// allowed origin and answers its preflight; true means r was a preflight
// and is answered. Other origins get no CORS headers, so browsers keep
// the response from their pages; their preflight gets 403.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	allowed := origin != "" && s.originAllowed(r, origin)
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	if r.Method != http.MethodOptions {
		return false
	}
	if !allowed {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return true
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

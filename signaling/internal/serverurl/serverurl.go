// Package serverurl turns the server addresses people type ("127.0.0.1:7880",
// "https://confab.example.com/", "ws://host:7880") into the HTTP base and
// the websocket base the clients talk to.
package serverurl

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrBad means a server address cannot be used; callers wrap it in their
// own "unreachable" error.
var ErrBad = errors.New("bad server address")

// Parse returns the server's HTTP base URL: the scheme http or https (ws
// and wss are taken as their HTTP counterparts, no scheme as http), no
// query, fragment or trailing slash.
func Parse(server string) (*url.URL, error) {
	server = strings.TrimSpace(server)
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w %q", ErrBad, server)
	}
	u.Path, u.RawQuery, u.Fragment = strings.TrimSuffix(u.Path, "/"), "", ""
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "http"
	case "https", "wss":
		u.Scheme = "https"
	default:
		return nil, fmt.Errorf("%w: unsupported scheme %q", ErrBad, u.Scheme)
	}
	return u, nil
}

// WS returns the websocket URL of an HTTP base from Parse, with path
// appended.
func WS(base *url.URL, path string) string {
	w := *base
	w.Scheme = map[string]string{"http": "ws", "https": "wss"}[base.Scheme]
	w.Path += path
	return w.String()
}

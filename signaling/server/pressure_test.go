package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

// readUntil reads server messages until one of type typ (or, when typ is
// an error type, an error) arrives, and returns its envelope. It fails the
// test after d.
func readUntil(t *testing.T, ws *websocket.Conn, d time.Duration, typ string) wire.Envelope {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(d))
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		env, err := wire.DecodeEnvelope(b)
		if err != nil {
			t.Fatalf("bad message from server: %v", err)
		}
		if env.Type == typ {
			return env
		}
	}
}

func expectError(t *testing.T, ws *websocket.Conn) wire.Error {
	t.Helper()
	var e wire.Error
	if err := wire.DecodeData(readUntil(t, ws, 5*time.Second, wire.TypeError), &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// expectClose reads until the server closes the socket and returns the
// close code, and the fatal error sent before it if any.
func expectClose(t *testing.T, ws *websocket.Conn) (int, *wire.Error) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var fatal *wire.Error
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("read error %v; want a close frame", err)
			}
			return ce.Code, fatal
		}
		env, err := wire.DecodeEnvelope(b)
		if err == nil && env.Type == wire.TypeError {
			var e wire.Error
			if wire.DecodeData(env, &e) == nil && e.Fatal {
				fatal = &e
			}
		}
	}
}

// TestChatRefusals covers chat that must be refused with a precise code
// and the chat id in ref, and must store nothing: invalid UTF-8 (raw bytes
// or lone surrogate escapes, which Go's JSON decoder would turn into
// U+FFFD), an id over 64 characters (bad_message, not too_large), and
// text over 4096 bytes (too_large).
func TestChatRefusals(t *testing.T) {
	srv := servertest.Start(t)
	ws, _ := rawJoin(t, srv, "utf8", "mallory")
	long := strings.Repeat("i", wire.MaxMessageIDBytes+1)
	cases := []struct {
		name string
		raw  string
		code string
		ref  string
	}{
		{"raw invalid byte", "{\"v\":1,\"type\":\"chat\",\"data\":{\"id\":\"u1\",\"text\":\"bad \xff byte\"}}", wire.CodeBadMessage, "u1"},
		{"raw overlong encoding", "{\"v\":1,\"type\":\"chat\",\"data\":{\"id\":\"u2\",\"text\":\"\xc0\xaf\"}}", wire.CodeBadMessage, "u2"},
		{"lone high surrogate", `{"v":1,"type":"chat","data":{"id":"u3","text":"a\ud800b"}}`, wire.CodeBadMessage, "u3"},
		{"lone low surrogate", `{"v":1,"type":"chat","data":{"id":"u4","text":"\udc00"}}`, wire.CodeBadMessage, "u4"},
		{"id of 65 characters", `{"v":1,"type":"chat","data":{"id":"` + long + `","text":"x"}}`, wire.CodeBadMessage, long},
		{"text over 4096 bytes", `{"v":1,"type":"chat","data":{"id":"u5","text":"` + strings.Repeat("x", wire.MaxChatBytes+1) + `"}}`, wire.CodeTooLarge, "u5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := ws.WriteMessage(websocket.TextMessage, []byte(tc.raw)); err != nil {
				t.Fatal(err)
			}
			e := expectError(t, ws)
			if e.Code != tc.code || e.Ref != tc.ref || e.Fatal {
				t.Fatalf("error %+v; want non-fatal %s with ref %q", e, tc.code, tc.ref)
			}
		})
	}
	// Nothing was stored: the next good message is the room's first, and
	// its text (with a real emoji from a surrogate pair) is intact.
	raw := `{"v":1,"type":"chat","data":{"id":"ok","text":"fine \ud83d\ude00"}}`
	if err := ws.WriteMessage(websocket.TextMessage, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	var ce wire.ChatEvent
	expect(t, ws, wire.TypeChat, &ce)
	if ce.Message.Seq != 1 || ce.Message.Text != "fine 😀" {
		t.Fatalf("stored %+v; want seq 1 and the text intact", ce.Message)
	}
	msgs, _, err := srv.Data.Store.ChatAfter(context.Background(), "utf8", 0, 100)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("store holds %d messages (%v); want 1", len(msgs), err)
	}
}

// TestProtocolFrameErrors: non-object JSON gets bad_message (not
// unsupported_protocol); binary frames are refused, fatally before join.
func TestProtocolFrameErrors(t *testing.T) {
	srv := servertest.Start(t)
	ws, _ := rawJoin(t, srv, "frames", "mallory")
	for _, raw := range []string{`null`, `[]`, `"join"`, `42`} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(raw)); err != nil {
			t.Fatal(err)
		}
		if e := expectError(t, ws); e.Code != wire.CodeBadMessage || e.Fatal {
			t.Errorf("%s: %+v; want non-fatal bad_message", raw, e)
		}
	}
	b, _ := wire.Encode(wire.TypeChat, wire.ChatSend{ID: "bin", Text: "as binary"})
	if err := ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
		t.Fatal(err)
	}
	if e := expectError(t, ws); e.Code != wire.CodeBadMessage || e.Fatal {
		t.Errorf("binary after join: %+v; want non-fatal bad_message", e)
	}
	send(t, ws, wire.TypeChat, wire.ChatSend{ID: "txt", Text: "as text"})
	var ce wire.ChatEvent
	expect(t, ws, wire.TypeChat, &ce)
	if ce.Message.ID != "txt" || ce.Message.Seq != 1 {
		t.Fatalf("after a binary frame: %+v; want txt stored as seq 1 (the binary one not)", ce.Message)
	}

	for _, tc := range []struct {
		name string
		typ  int
		raw  string
	}{
		{"binary join", websocket.BinaryMessage, ""},
		{"null before join", websocket.TextMessage, "null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, _, err := websocket.DefaultDialer.Dial(wsURL(srv), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			msg := []byte(tc.raw)
			if tc.typ == websocket.BinaryMessage {
				tok := srv.Token(token.Claims{Identity: "b", Name: "b", Room: "frames", Grants: token.DefaultGrants()}, time.Hour, time.Now())
				msg, _ = wire.Encode(wire.TypeJoin, wire.Join{Token: tok, Room: "frames"})
			}
			if err := ws.WriteMessage(tc.typ, msg); err != nil {
				t.Fatal(err)
			}
			code, fatal := expectClose(t, ws)
			if code != websocket.ClosePolicyViolation || fatal == nil || fatal.Code != wire.CodeBadMessage {
				t.Fatalf("close %d after %+v; want fatal bad_message and 1008", code, fatal)
			}
		})
	}
}

// TestJoinTimeoutCloses1008: a connection that sends no join in time gets
// a fatal not_joined and close 1008, as PROTOCOL.md says.
func TestJoinTimeoutCloses1008(t *testing.T) {
	srv := servertest.Start(t, servertest.Config(func(c *server.Config) { c.JoinTimeout = 300 * time.Millisecond }))
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	code, fatal := expectClose(t, ws)
	if code != websocket.ClosePolicyViolation || fatal == nil || fatal.Code != wire.CodeNotJoined {
		t.Fatalf("close %d after %+v; want fatal not_joined and 1008", code, fatal)
	}
}

// TestOriginCheck compares scheme, host and port: the server's own origin
// is http://<Host>; localhost and 127.0.0.1 are different origins.
func TestOriginCheck(t *testing.T) {
	srv := servertest.Start(t, servertest.Config(func(c *server.Config) {
		c.AllowedOrigins = []string{"https://app.example.com", "http://LOCALHOST:8080/"}
	}))
	_, port, _ := net.SplitHostPort(srv.Addr)
	cases := []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"http://" + srv.Addr, true},
		{"HTTP://" + srv.Addr + "/", true},
		{"https://" + srv.Addr, false}, // the page is not from this (plain http) server
		{"ws://" + srv.Addr, false},
		{"http://localhost:" + port, false}, // the socket is on 127.0.0.1
		{"http://127.0.0.1", false},
		{"http://127.0.0.1:1", false},
		{"https://app.example.com", true},
		{"https://app.example.com:443", true},
		{"http://app.example.com", false},
		{"https://app.example.com:8443", false},
		{"http://localhost:8080", true},
		{"https://evil.example", false},
		{"null", false},
	}
	for _, tc := range cases {
		t.Run(tc.origin, func(t *testing.T) {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			ws, resp, err := websocket.DefaultDialer.Dial(wsURL(srv), h)
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				ws.Close()
				return
			}
			if err == nil {
				ws.Close()
				t.Fatal("accepted")
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("resp %v; want 403", resp)
			}
		})
	}
}

// TestTokenCORS: /api/token answers CORS for the server's own origin and
// --allow-origin ones, and for no other origin.
func TestTokenCORS(t *testing.T) {
	srv := servertest.Start(t, servertest.Config(func(c *server.Config) {
		c.AllowedOrigins = []string{"https://app.example.com"}
	}))
	cases := []struct {
		name, method, origin string
		status               int
		allow                bool
	}{
		{"allowed GET", http.MethodGet, "https://app.example.com", 200, true},
		{"own origin GET", http.MethodGet, "http://" + srv.Addr, 200, true},
		{"allowed preflight", http.MethodOptions, "https://app.example.com", 204, true},
		{"foreign GET", http.MethodGet, "https://evil.example", 200, false},
		{"foreign preflight", http.MethodOptions, "https://evil.example", 403, false},
		{"no origin", http.MethodGet, "", 200, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+"/api/token?room=standup&name=Ada", nil)
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if tc.method == http.MethodOptions {
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "content-type")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			h := resp.Header
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d; want %d", resp.StatusCode, tc.status)
			}
			if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
				t.Errorf("Vary %q; want Origin", h.Values("Vary"))
			}
			got := h.Get("Access-Control-Allow-Origin")
			if !tc.allow {
				if got != "" || h.Get("Access-Control-Allow-Methods") != "" {
					t.Fatalf("CORS headers for a foreign origin: %v", h)
				}
				return
			}
			if got != tc.origin {
				t.Fatalf("Access-Control-Allow-Origin %q; want %q", got, tc.origin)
			}
			if tc.method == http.MethodOptions {
				if !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
					!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "content-type") {
					t.Fatalf("preflight headers %v", h)
				}
			}
		})
	}
}

// TestTokenEndpointKeepsNamesExactly: /api/token never trims; a room or
// name that begins or ends with whitespace is refused.
func TestTokenEndpointKeepsNamesExactly(t *testing.T) {
	srv := servertest.Start(t)
	cases := []struct {
		room, name string
		status     int
	}{
		{"standup", "Ada", 200},
		{"stand up", "Ada Lovelace", 200},
		{" standup", "Ada", 400},
		{"standup ", "Ada", 400},
		{"standup", "Ada\t", 400},
		{"standup", "\u00a0Ada", 400}, // no-break space is whitespace too
		{"standup\n", "Ada", 400},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q/%q", tc.room, tc.name), func(t *testing.T) {
			q := url.Values{"room": {tc.room}, "name": {tc.name}}
			resp, err := http.Get(srv.URL + "/api/token?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s); want %d", resp.StatusCode, body, tc.status)
			}
			if tc.status != 200 {
				var e wire.Error
				if json.Unmarshal(body, &e) != nil || e.Code != wire.CodeBadMessage {
					t.Fatalf("body %s; want bad_message", body)
				}
				return
			}
			var tr server.TokenResponse
			if err := json.Unmarshal(body, &tr); err != nil {
				t.Fatal(err)
			}
			c, err := token.Verify(srv.Data.Secret, tr.Token, time.Now())
			if err != nil || c.Room != tc.room || c.Name != tc.name || tr.Room != tc.room || tr.Name != tc.name {
				t.Fatalf("token for %q/%q (%v); asked %q/%q", c.Room, c.Name, err, tc.room, tc.name)
			}
		})
	}
}

// TestAPIRateLimitPerAddress: one address using up its /api/* budget does
// not stop another (127.0.0.2 is loopback too on Linux).
func TestAPIRateLimitPerAddress(t *testing.T) {
	srv := servertest.Start(t)
	get := func(local string) int {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
		c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
		resp, err := c.Get(srv.URL + "/api/token?room=r&name=n")
		if err != nil {
			t.Fatalf("from %s: %v", local, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	limited := false
	for i := 0; i < 200 && !limited; i++ {
		limited = get("127.0.0.1") == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatal("200 requests from one address were never limited")
	}
	if st := get("127.0.0.2"); st != http.StatusOK {
		t.Fatalf("another address got %d; want 200", st)
	}
}

// TestRateLimitHoldsAcrossReconnect: a client closed for too many
// violations that rejoins at once with the same token finds its limits as
// it left them: no fresh burst, and closed again at its next violation.
func TestRateLimitHoldsAcrossReconnect(t *testing.T) {
	const burst = 10
	srv := servertest.Start(t, servertest.Config(func(c *server.Config) { c.MessageRate, c.MessageBurst = 0.5, burst }))
	tok := srv.Token(token.Claims{Identity: "flood", Name: "Flood", Room: "limits", Grants: token.DefaultGrants()}, time.Hour, time.Now())
	join := func() *websocket.Conn {
		ws, _, err := websocket.DefaultDialer.Dial(wsURL(srv), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.Close() })
		send(t, ws, wire.TypeJoin, wire.Join{Token: tok, Room: "limits"})
		expect(t, ws, wire.TypeJoined, nil)
		return ws
	}
	// flood sends up to n chat messages in lockstep (each answered by its
	// echo or an error before the next, so the server never closes with
	// unread input) and counts those stored until the server closes.
	flood := func(ws *websocket.Conn, n int, prefix string) (stored int, code int, fatal *wire.Error) {
		for i := 0; i < n; i++ {
			b, _ := wire.Encode(wire.TypeChat, wire.ChatSend{ID: fmt.Sprintf("%s%d", prefix, i), Text: "spam"})
			if ws.WriteMessage(websocket.TextMessage, b) != nil {
				break
			}
			for answered := false; !answered; {
				_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, b, err := ws.ReadMessage()
				if err != nil {
					var ce *websocket.CloseError
					if errors.As(err, &ce) {
						code = ce.Code
					}
					return stored, code, fatal
				}
				env, _ := wire.DecodeEnvelope(b)
				switch env.Type {
				case wire.TypeChat:
					stored++
					answered = true
				case wire.TypeError:
					var e wire.Error
					_ = wire.DecodeData(env, &e)
					if e.Fatal {
						fatal = &e
					} else {
						answered = true
					}
				}
			}
		}
		return stored, code, fatal
	}
	stored1, code1, fatal1 := flood(join(), 200, "a")
	if fatal1 == nil || fatal1.Code != wire.CodeRateLimited || code1 != websocket.ClosePolicyViolation {
		t.Fatalf("first connection: close %d after %+v; want fatal rate_limited", code1, fatal1)
	}
	if stored1 > burst+2 {
		t.Fatalf("first connection stored %d; want about the burst (%d)", stored1, burst)
	}
	stored2, code2, fatal2 := flood(join(), 30, "b")
	if stored2 >= burst/2 {
		t.Fatalf("after reconnecting %d messages were stored; the bucket was refilled", stored2)
	}
	if fatal2 == nil || fatal2.Code != wire.CodeRateLimited || code2 != websocket.ClosePolicyViolation {
		t.Fatalf("second connection: close %d after %+v; want fatal rate_limited at once", code2, fatal2)
	}
}

// gatedStore holds every write until open is closed.
type gatedStore struct {
	store.Store
	open chan struct{}
}

func (g gatedStore) AppendBatch(ctx context.Context, b store.Batch) ([]store.ChatResult, error) {
	<-g.open
	return g.Store.AppendBatch(ctx, b)
}

// TestChatOverloaded: when the store cannot keep up, chat is refused with
// overloaded (queue full: at once; queued too long: after a second) while
// the store is still stuck, instead of waiting for it, and /metrics and
// /healthz still answer.
func TestChatOverloaded(t *testing.T) {
	gate := make(chan struct{})
	var once sync.Once
	openGate := func() { once.Do(func() { close(gate) }) }
	t.Cleanup(openGate) // before the server stops (cleanups run last first)
	srv := servertest.Start(t,
		servertest.Config(func(c *server.Config) { c.ChatQueue = 2 }),
		servertest.WrapStore(func(s store.Store) store.Store { return gatedStore{s, gate} }))
	t.Cleanup(openGate)
	ws, _ := rawJoin(t, srv, "busy", "ada") // its join event already waits at the gate
	for i := 1; i <= 5; i++ {
		send(t, ws, wire.TypeChat, wire.ChatSend{ID: fmt.Sprint("c", i), Text: "hello"})
	}
	refused := map[string]bool{}
	for len(refused) < 3 {
		e := expectError(t, ws)
		if e.Code != wire.CodeOverloaded || e.Fatal {
			t.Fatalf("error %+v; want non-fatal overloaded", e)
		}
		refused[e.Ref] = true
	}
	if !refused["c3"] || !refused["c4"] || !refused["c5"] {
		t.Fatalf("refused %v; want c3..c5 (c1, c2 queued)", refused)
	}
	for _, path := range []string{"/metrics", "/healthz"} {
		c := http.Client{Timeout: time.Second}
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatalf("%s while the store is stuck: %v", path, err)
		}
		resp.Body.Close()
	}
	// c1 and c2 wait too long while the store is stuck: they are refused
	// within about a second, before the store moves again, and not stored.
	for len(refused) < 5 {
		e := expectError(t, ws)
		if e.Code != wire.CodeOverloaded {
			t.Fatalf("error %+v; want overloaded for c1, c2", e)
		}
		refused[e.Ref] = true
	}
	openGate()
	send(t, ws, wire.TypeChat, wire.ChatSend{ID: "after", Text: "now it works"})
	var ce wire.ChatEvent
	expect(t, ws, wire.TypeChat, &ce)
	if ce.Message.ID != "after" || ce.Message.Seq != 1 {
		t.Fatalf("after the overload: %+v; want seq 1 (nothing refused was stored)", ce.Message)
	}
}

// TestJoinDuringChatSeesEveryMessageOnce joins one participant after
// another while chat flows: each one's joined page and the live messages
// after it must meet with no gap and no duplicate.
func TestJoinDuringChatSeesEveryMessageOnce(t *testing.T) {
	srv := servertest.Start(t, servertest.Config(func(c *server.Config) {
		c.ChatRate, c.ChatBurst, c.MessageRate, c.MessageBurst = 1000, 1000, 1000, 1000
	}))
	sender, _ := rawJoin(t, srv, "flow", "sender")
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			b, _ := wire.Encode(wire.TypeChat, wire.ChatSend{ID: fmt.Sprint("f", i), Text: "flow"})
			if sender.WriteMessage(websocket.TextMessage, b) != nil {
				return
			}
		}
	}()
	go func() { // drain the sender's socket
		for {
			if _, _, err := sender.ReadMessage(); err != nil {
				return
			}
		}
	}()
	for j := 0; j < 6; j++ {
		ws, joined := rawJoin(t, srv, "flow", fmt.Sprint("joiner", j))
		last := int64(0)
		for i, m := range joined.Chat {
			if i > 0 && m.Seq != last+1 {
				t.Fatalf("joiner %d: page has a gap at %d", j, m.Seq)
			}
			last = m.Seq
		}
		for k := 0; k < 20; k++ {
			var ce wire.ChatEvent
			expect(t, ws, wire.TypeChat, &ce)
			if last != 0 && ce.Message.Seq != last+1 {
				t.Fatalf("joiner %d: live message seq %d after %d", j, ce.Message.Seq, last)
			}
			last = ce.Message.Seq
		}
		ws.Close()
	}
	close(stop)
	<-done
}

// TestResumeGapIsFetchedByHistoryAfter: rejoining more than 200 messages
// back says so (chat_gap) and the rest comes with history{after}.
func TestResumeGapIsFetchedByHistoryAfter(t *testing.T) {
	srv := servertest.Start(t)
	var b store.Batch
	for i := 1; i <= 260; i++ {
		b.Chats = append(b.Chats, store.ChatMessage{Room: "gap", ID: fmt.Sprint("m", i), From: "x", Name: "X", Text: fmt.Sprint("message ", i)})
	}
	if _, err := srv.Data.Store.AppendBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	tok := srv.Token(token.Claims{Identity: "late", Name: "Late", Room: "gap", Grants: token.DefaultGrants()}, time.Hour, time.Now())
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	send(t, ws, wire.TypeJoin, wire.Join{Token: tok, Room: "gap", AfterSeq: 10})
	var j wire.Joined
	expect(t, ws, wire.TypeJoined, &j)
	if len(j.Chat) != wire.MaxResumeChat || j.Chat[0].Seq != 11 || j.Chat[len(j.Chat)-1].Seq != 210 || !j.ChatGap || j.ChatMore {
		t.Fatalf("joined: %d messages, gap %v more %v", len(j.Chat), j.ChatGap, j.ChatMore)
	}
	next := j.Chat[len(j.Chat)-1].Seq
	for page := 0; ; page++ {
		send(t, ws, wire.TypeHistory, wire.HistoryRequest{Req: fmt.Sprint("g", page), After: next, Limit: 50})
		var h wire.History
		expect(t, ws, wire.TypeHistory, &h)
		for _, m := range h.Messages {
			if m.Seq != next+1 {
				t.Fatalf("page %d: seq %d after %d", page, m.Seq, next)
			}
			next = m.Seq
		}
		if !h.More {
			break
		}
	}
	if next != 260 {
		t.Fatalf("paged up to %d; want 260", next)
	}
	// A fresh join keeps the old meaning: the newest page, chat_more.
	ws2, j2 := rawJoin(t, srv, "gap", "fresh")
	defer ws2.Close()
	if len(j2.Chat) != wire.HistoryPage || !j2.ChatMore || j2.ChatGap || j2.Chat[len(j2.Chat)-1].Seq != 260 {
		t.Fatalf("fresh join: %d messages more %v gap %v", len(j2.Chat), j2.ChatMore, j2.ChatGap)
	}
}

// TestCloseWaitsForTheStoreWriter: events still queued when the server
// shuts down (the store is slow to take them) are written before Close
// returns, so the store can be closed right after.
func TestCloseWaitsForTheStoreWriter(t *testing.T) {
	gate := make(chan struct{})
	srv := servertest.Start(t, servertest.WrapStore(func(s store.Store) store.Store { return gatedStore{s, gate} }))
	rawJoin(t, srv, "shutdown", "a")
	rawJoin(t, srv, "shutdown", "b")
	go func() {
		time.Sleep(300 * time.Millisecond)
		close(gate)
	}()
	srv.Stop() // closes the server, then its store
	st, err := store.OpenSQLite(srv.Dir + "/confab.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.Events(context.Background(), "shutdown", 100)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range evs {
		kinds[e.Kind]++
	}
	if kinds[store.KindJoin] != 2 || kinds[store.KindLeave] != 2 {
		t.Fatalf("events after shutdown: %v; want 2 joins and 2 leaves", kinds)
	}
}

// TestChatInFlightReachesTheNextJoiner: a message still waiting for the
// store when its sender leaves an otherwise empty room reaches whoever
// joins next (the room stays open for it).
func TestChatInFlightReachesTheNextJoiner(t *testing.T) {
	gate := make(chan struct{})
	var once sync.Once
	openGate := func() { once.Do(func() { close(gate) }) }
	srv := servertest.Start(t,
		servertest.Config(func(c *server.Config) { c.ChatWait = time.Minute }),
		servertest.WrapStore(func(s store.Store) store.Store { return gatedStore{s, gate} }))
	t.Cleanup(openGate)
	a, _ := rawJoin(t, srv, "inflight", "a")
	send(t, a, wire.TypeChat, wire.ChatSend{ID: "last", Text: "last words"})
	a.Close()
	// Wait until the server has seen a leave.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "\nconfab_connections 0\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not see a leave")
		}
		time.Sleep(20 * time.Millisecond)
	}
	b, _ := rawJoin(t, srv, "inflight", "b")
	openGate()
	var ce wire.ChatEvent
	expect(t, b, wire.TypeChat, &ce)
	if ce.Message.ID != "last" {
		t.Fatalf("b got %+v; want a's last message", ce.Message)
	}
}

package server_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

func joinCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// joinWith joins as a receive-only client with a given token.
func joinWith(t *testing.T, srv *servertest.Server, room, tok string, mic bool) (*client.Session, error) {
	t.Helper()
	return client.Join(joinCtx(t), client.Config{Server: srv.URL, Token: tok, Room: room, Mic: mic, LoopbackOnly: true, ReconnectFor: -1})
}

func TestTokenRefusals(t *testing.T) {
	srv := servertest.Start(t, servertest.Closed())
	now := time.Now()
	good := token.Claims{Identity: "alice", Name: "Alice", Room: "standup", Grants: token.DefaultGrants()}
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	baseClaims := func() jwt.MapClaims {
		return jwt.MapClaims{"sub": "alice", "name": "Alice", "room": "standup", "iss": token.Issuer,
			"grants": map[string]bool{"publish": true, "subscribe": true, "chat": true},
			"iat":    now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	noExp := baseClaims()
	delete(noExp, "exp")
	enc := base64.RawURLEncoding
	algNone := enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		enc.EncodeToString([]byte(`{"sub":"alice","name":"Alice","room":"standup","iss":"confab","exp":`+
			itoa(now.Add(time.Hour).Unix())+`}`)) + "."
	noPublish := good
	noPublish.Grants.Publish = false

	cases := []struct {
		name string
		tok  string
		room string
		mic  bool
		code string
	}{
		{"expired", srv.Token(good, time.Hour, now.Add(-2*time.Hour)), "standup", false, wire.CodeTokenExpired},
		{"not yet valid", srv.Token(good, time.Hour, now.Add(time.Hour)), "standup", false, wire.CodeTokenNotYetValid},
		{"wrong secret", sign(jwt.SigningMethodHS256, []byte("another-secret-another-secret-00"), baseClaims()), "standup", false, wire.CodeTokenInvalid},
		{"alg none", algNone, "standup", false, wire.CodeTokenInvalid},
		{"another alg", sign(jwt.SigningMethodHS512, srv.Data.Secret, baseClaims()), "standup", false, wire.CodeTokenInvalid},
		{"no exp", sign(jwt.SigningMethodHS256, srv.Data.Secret, noExp), "standup", false, wire.CodeTokenInvalid},
		{"garbage", "not-a-token", "standup", false, wire.CodeTokenInvalid},
		{"room A used for room B", srv.Token(good, time.Hour, now), "retro", false, wire.CodeRoomMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := joinWith(t, srv, tc.room, tc.tok, tc.mic)
			if err == nil {
				s.Leave()
				t.Fatalf("joined; want refusal %s", tc.code)
			}
			var we *wire.Error
			if !errors.As(err, &we) {
				t.Fatalf("err = %v; want a *wire.Error with code %s", err, tc.code)
			}
			if we.Code != tc.code {
				t.Fatalf("code = %s (%s); want %s", we.Code, we.Message, tc.code)
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		s, err := joinWith(t, srv, "standup", srv.Token(good, time.Hour, now), false)
		if err != nil {
			t.Fatalf("valid token refused: %v", err)
		}
		if got := s.Self(); got.ID != "alice" || got.Name != "Alice" {
			t.Errorf("self = %+v; want identity from the token", got)
		}
		s.Leave()
	})
	t.Run("publishing without publish grant", func(t *testing.T) {
		ws, _, err := websocket.DefaultDialer.Dial(wsURL(srv), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		send(t, ws, wire.TypeJoin, wire.Join{Token: srv.Token(noPublish, time.Hour, now), Room: "standup", Mic: true})
		var e wire.Error
		expect(t, ws, wire.TypeError, &e)
		if e.Code != wire.CodePermissionDenied || !e.Fatal {
			t.Fatalf("error %+v; want fatal permission_denied", e)
		}
	})
	t.Run("receive-only without publish grant", func(t *testing.T) {
		s, err := joinWith(t, srv, "standup", srv.Token(noPublish, time.Hour, now), false)
		if err != nil {
			t.Fatalf("receive-only join refused: %v", err)
		}
		s.Leave()
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestTokenEndpoint(t *testing.T) {
	srv := servertest.Start(t)
	resp, err := http.Get(srv.URL + "/api/token?room=standup&name=Bob")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("open mode: status %d", resp.StatusCode)
	}
	for _, q := range []string{"room=&name=Bob", "room=standup&name=", "room=a%E2%80%AEb&name=Bob", "room=" + strings.Repeat("x", 65) + "&name=Bob"} {
		resp, err := http.Get(srv.URL + "/api/token?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d; want 400", q, resp.StatusCode)
		}
	}
	closed := servertest.Start(t, servertest.Closed())
	resp, err = http.Get(closed.URL + "/api/token?room=standup&name=Bob")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("closed mode: status %d; want 404", resp.StatusCode)
	}
}

func wsURL(srv *servertest.Server) string { return "ws://" + srv.Addr + "/ws" }

func TestOversizeMessageClosesWith1009(t *testing.T) {
	srv := servertest.Start(t)
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	big := `{"v":1,"type":"chat","data":{"id":"x","text":"` + strings.Repeat("a", wire.MaxMessageBytes) + `"}}`
	if err := ws.WriteMessage(websocket.TextMessage, []byte(big)); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
			t.Fatalf("read error %v; want close 1009", err)
		}
		return
	}
}

func TestForeignOriginRefused(t *testing.T) {
	srv := servertest.Start(t)
	h := http.Header{"Origin": {"http://evil.example"}}
	_, resp, err := websocket.DefaultDialer.Dial(wsURL(srv), h)
	if err == nil {
		t.Fatal("foreign origin was accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("resp %v; want 403", resp)
	}
	h = http.Header{"Origin": {"http://" + srv.Addr}}
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(srv), h)
	if err != nil {
		t.Fatalf("same origin refused: %v", err)
	}
	ws.Close()
}

// rawJoin opens a websocket and joins with an open-mode token; it returns
// the socket after the joined message.
func rawJoin(t *testing.T, srv *servertest.Server, room, name string) (*websocket.Conn, wire.Joined) {
	t.Helper()
	tok := srv.Token(token.Claims{Identity: name, Name: name, Room: room, Grants: token.DefaultGrants()}, time.Hour, time.Now())
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	send(t, ws, wire.TypeJoin, wire.Join{Token: tok, Room: room})
	var j wire.Joined
	expect(t, ws, wire.TypeJoined, &j)
	return ws, j
}

func send(t *testing.T, ws *websocket.Conn, typ string, v any) {
	t.Helper()
	b, err := wire.Encode(typ, v)
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatal(err)
	}
}

// expect reads until a message of type typ arrives and decodes it into v.
func expect(t *testing.T, ws *websocket.Conn, typ string, v any) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
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
			if v != nil {
				if err := wire.DecodeData(env, v); err != nil {
					t.Fatal(err)
				}
			}
			return
		}
		if typ != wire.TypeError && env.Type == wire.TypeError {
			t.Fatalf("waiting for %s: got error %s", typ, env.Data)
		}
	}
}

func TestProtocolErrors(t *testing.T) {
	srv := servertest.Start(t)
	// The first message must be join.
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	send(t, ws, wire.TypeChat, wire.ChatSend{ID: "1", Text: "hi"})
	var e wire.Error
	expect(t, ws, wire.TypeError, &e)
	if e.Code != wire.CodeNotJoined || !e.Fatal {
		t.Errorf("chat before join: %+v", e)
	}
	ws.Close()

	ws, _ = rawJoin(t, srv, "room", "mallory")
	cases := []struct {
		raw  string
		code string
	}{
		{`not json`, wire.CodeBadMessage},
		{`{"v":2,"type":"chat","data":{}}`, wire.CodeUnsupportedProtocol},
		{`{"v":1,"type":"teleport","data":{}}`, wire.CodeBadMessage},
		{`{"v":1,"type":"chat","data":{"id":"1","text":""}}`, wire.CodeBadMessage},
		{`{"v":1,"type":"chat","data":{"id":"1","text":"a\u0000b"}}`, wire.CodeBadMessage},
		{`{"v":1,"type":"chat","data":{"id":"1","text":"` + strings.Repeat("é", 2100) + `"}}`, wire.CodeTooLarge},
		{`{"v":1,"type":"set_source","data":{"source":"hologram","enabled":true}}`, wire.CodeBadMessage},
		{`{"v":1,"type":"answer","data":{"sdp":"v=0"}}`, wire.CodeBadMessage},
		{`{"v":1,"type":"history","data":{"before":-1}}`, wire.CodeBadMessage},
	}
	for _, tc := range cases {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(tc.raw)); err != nil {
			t.Fatal(err)
		}
		var e wire.Error
		expect(t, ws, wire.TypeError, &e)
		if e.Code != tc.code || e.Fatal {
			t.Errorf("%.60s: error %+v; want non-fatal %s", tc.raw, e, tc.code)
		}
	}
	// The connection survived all of that: chat still works.
	send(t, ws, wire.TypeChat, wire.ChatSend{ID: "ok-1", Text: "still here"})
	var ce wire.ChatEvent
	expect(t, ws, wire.TypeChat, &ce)
	if ce.Message.Text != "still here" || ce.Message.From != "mallory" {
		t.Errorf("chat after errors: %+v", ce.Message)
	}
}

func TestRoomFull(t *testing.T) {
	srv := servertest.Start(t, servertest.MaxParticipants(2))
	for _, n := range []string{"a", "b"} {
		rawJoin(t, srv, "small", n)
	}
	_, err := client.Join(joinCtx(t), client.Config{Server: srv.URL, Room: "small", Name: "c", LoopbackOnly: true, ReconnectFor: -1})
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != wire.CodeRoomFull {
		t.Fatalf("third join: %v; want room_full", err)
	}
}

func TestRateLimit(t *testing.T) {
	srv := servertest.Start(t)
	ws, _ := rawJoin(t, srv, "room", "spammer")
	for i := 0; i < 100; i++ {
		send(t, ws, wire.TypeHistory, wire.HistoryRequest{Before: 0})
	}
	var e wire.Error
	expect(t, ws, wire.TypeError, &e)
	if e.Code != wire.CodeRateLimited {
		t.Fatalf("flood: %+v; want rate_limited", e)
	}
}

package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/invite"
	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

// apiCall sends method url with a JSON body (nil: none) and a bearer
// token (empty: none) and returns the status, the decoded JSON body and
// the response.
func apiCall(t *testing.T, method, url, bearer string, body any) (int, map[string]any, *http.Response) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, resp
}

// hostToken is an ordinary (not guest) join token for room.
func hostToken(srv *servertest.Server, room string, now time.Time) string {
	return srv.Token(token.Claims{Identity: "host-1", Name: "Host", Room: room, Grants: token.DefaultGrants()}, time.Hour, now)
}

var codeRE = regexp.MustCompile(`^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{7}$`)

// TestInviteFlow makes an invite with a host's token, reads it, exchanges
// it for a guest token and joins the room with that token, on a server
// in closed mode (no /api/token): the link is all a guest needs.
func TestInviteFlow(t *testing.T) {
	srv := servertest.Start(t, servertest.Closed())
	now := time.Now()
	host := hostToken(srv, "standup", now)

	st, body, _ := apiCall(t, "POST", srv.URL+"/api/invite", host, map[string]any{"ttl": 600, "max_uses": 3})
	if st != http.StatusCreated {
		t.Fatalf("create: %d %v", st, body)
	}
	code, _ := body["code"].(string)
	if !codeRE.MatchString(code) || body["url"] != srv.URL+"/j/"+code || body["room"] != "standup" || body["max_uses"] != 3.0 || body["uses"] != 0.0 {
		t.Fatalf("create answered %v", body)
	}
	exp, err := time.Parse(time.RFC3339, body["expires"].(string))
	if err != nil || exp.Sub(now) < 599*time.Second || exp.Sub(now) > 601*time.Second {
		t.Fatalf("expires %v, want now+600s", body["expires"])
	}

	// Lower case works too: codes are case-insensitive.
	st, body, _ = apiCall(t, "GET", srv.URL+"/api/invite/"+strings.ToLower(code), "", nil)
	if st != http.StatusOK || body["room"] != "standup" || body["code"] != nil || body["url"] != nil {
		t.Fatalf("info: %d %v", st, body)
	}

	// The page for the link is the guest page.
	resp, err := http.Get(srv.URL + "/j/" + code)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte(`src="/web/app.js"`)) {
		t.Fatalf("GET /j/%s: %s", code, resp.Status)
	}

	st, body, _ = apiCall(t, "POST", srv.URL+"/api/invite/"+code+"/token", "", map[string]any{"name": "Ada Guest"})
	if st != http.StatusOK {
		t.Fatalf("exchange: %d %v", st, body)
	}
	c, err := token.Verify(srv.Data.Secret, body["token"].(string), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if c.Room != "standup" || c.Name != "Ada Guest" || !strings.HasPrefix(c.Identity, "g-") || body["identity"] != c.Identity ||
		c.Grants != (token.Grants{Publish: true, Subscribe: true, Chat: true, Guest: true}) {
		t.Fatalf("guest token claims %+v, answer %v", c, body)
	}
	if c.ExpiresAt.Time.After(exp) {
		t.Fatalf("guest token expires %v, after the code (%v)", c.ExpiresAt.Time, exp)
	}

	// The guest token joins that room, and no other.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := client.Join(ctx, client.Config{Server: srv.URL, Token: body["token"].(string), Room: "standup", LoopbackOnly: true})
	if err != nil {
		t.Fatalf("guest join: %v", err)
	}
	if s.Self().Name != "Ada Guest" {
		t.Errorf("joined as %+v", s.Self())
	}
	s.Leave()
	_, err = client.Join(ctx, client.Config{Server: srv.URL, Token: body["token"].(string), Room: "other", LoopbackOnly: true, ReconnectFor: -1})
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != wire.CodeRoomMismatch {
		t.Fatalf("guest token in another room: %v, want room_mismatch", err)
	}

	// A guest cannot make or revoke invites.
	guest := body["token"].(string)
	if st, body, _ := apiCall(t, "POST", srv.URL+"/api/invite", guest, nil); st != http.StatusForbidden || body["code"] != wire.CodePermissionDenied {
		t.Fatalf("guest creating an invite: %d %v", st, body)
	}
	if st, body, _ := apiCall(t, "DELETE", srv.URL+"/api/invite/"+code, guest, nil); st != http.StatusForbidden || body["code"] != wire.CodePermissionDenied {
		t.Fatalf("guest revoking an invite: %d %v", st, body)
	}

	// Uses are counted: 3 allowed.
	for i := 2; i <= 3; i++ {
		if st, body, _ := apiCall(t, "POST", srv.URL+"/api/invite/"+code+"/token", "", map[string]any{"name": "Guest"}); st != http.StatusOK {
			t.Fatalf("use %d: %d %v", i, st, body)
		}
	}
	st, body, _ = apiCall(t, "POST", srv.URL+"/api/invite/"+code+"/token", "", map[string]any{"name": "Guest"})
	if st != http.StatusGone || body["code"] != server.CodeInviteUsedUp {
		t.Fatalf("fourth use: %d %v", st, body)
	}
	st, body, _ = apiCall(t, "GET", srv.URL+"/api/invite/"+code, "", nil)
	if st != http.StatusGone || body["code"] != server.CodeInviteUsedUp {
		t.Fatalf("info of a used-up code: %d %v", st, body)
	}
}

// TestInviteRefusals covers the creator's token, the body's bounds, the
// guest's name, and unknown, expired and revoked codes with their pages.
func TestInviteRefusals(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	srv := servertest.Start(t, servertest.Clock(now))
	host := hostToken(srv, "standup", now())
	h := srv.Srv.Handler()

	for _, tc := range []struct {
		what, bearer string
		body         any
		status       int
		code         string
	}{
		{"no token", "", nil, 401, wire.CodeTokenInvalid},
		{"garbage token", "not-a-jwt", nil, 401, wire.CodeTokenInvalid},
		{"expired token", srv.Token(token.Claims{Identity: "h", Room: "standup"}, time.Minute, now().Add(-time.Hour)), nil, 401, wire.CodeTokenExpired},
		{"token for another room", host, map[string]any{"room": "other"}, 403, wire.CodeRoomMismatch},
		{"ttl too short", host, map[string]any{"ttl": 10}, 400, wire.CodeBadMessage},
		{"ttl too long", host, map[string]any{"ttl": 100 * 24 * 3600}, 400, wire.CodeBadMessage},
		{"ttl not a number", host, map[string]any{"ttl": "2h"}, 400, wire.CodeBadMessage},
		{"negative uses", host, map[string]any{"max_uses": -1}, 400, wire.CodeBadMessage},
		{"too many uses", host, map[string]any{"max_uses": 1e6}, 400, wire.CodeBadMessage},
		{"not an object", host, []int{1}, 400, wire.CodeBadMessage},
	} {
		st, body, _ := apiCall(t, "POST", srv.URL+"/api/invite", tc.bearer, tc.body)
		if st != tc.status || body["code"] != tc.code || body["message"] == "" {
			t.Errorf("%s: %d %v, want %d %s", tc.what, st, body, tc.status, tc.code)
		}
	}
	// A body that is not JSON.
	req, _ := http.NewRequest("POST", srv.URL+"/api/invite", strings.NewReader("ttl=60"))
	req.Header.Set("Authorization", "Bearer "+host)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 400 {
		t.Fatalf("form body: %v %v", resp, err)
	}

	// No CORS: a browser's preflight is not answered with permission.
	for _, path := range []string{"/api/invite", "/api/invite/ABCDEFG/token"} {
		rec := serveFrom(h, "OPTIONS", path, "192.0.2.200:1", "")
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("OPTIONS %s: %d %v", path, rec.Code, rec.Header())
		}
	}

	mk := func() string {
		st, body, _ := apiCall(t, "POST", srv.URL+"/api/invite", host, map[string]any{"ttl": 120})
		if st != http.StatusCreated {
			t.Fatalf("create: %d %v", st, body)
		}
		return body["code"].(string)
	}
	code := mk()
	for _, name := range []string{"", " Ada", "Ada\n", strings.Repeat("x", 65), "a\u202eb"} {
		st, body, _ := apiCall(t, "POST", srv.URL+"/api/invite/"+code+"/token", "", map[string]any{"name": name})
		if st != 400 || body["code"] != wire.CodeBadMessage {
			t.Errorf("name %q: %d %v", name, st, body)
		}
	}
	if st, body, _ := apiCall(t, "POST", srv.URL+"/api/invite/"+code+"/token", "", nil); st != 400 {
		t.Errorf("no name: %d %v", st, body)
	}
	// Bad names used nothing.
	if _, body, _ := apiCall(t, "GET", srv.URL+"/api/invite/"+code, "", nil); body["uses"] != 0.0 {
		t.Errorf("after refused names: %v", body)
	}

	// Revoked: by the room's host; another room's host is told it is unknown.
	revoked := mk()
	other := hostToken(srv, "other", now())
	if st, body, _ := apiCall(t, "DELETE", srv.URL+"/api/invite/"+revoked, other, nil); st != 404 || body["code"] != server.CodeInviteUnknown {
		t.Fatalf("revoke by another room's host: %d %v", st, body)
	}
	if st, body, _ := apiCall(t, "DELETE", srv.URL+"/api/invite/"+revoked, host, nil); st != 200 || body["revoked"] != true {
		t.Fatalf("revoke: %d %v", st, body)
	}

	clock.Add(int64(121 * time.Second)) // code (120 s) has expired
	// Each case from its own address, so the limit of misses stays out of it.
	for i, tc := range []struct {
		what, code string
		status     int
		errCode    string
		title      string
	}{
		{"unknown", "ABCDEFG", 404, server.CodeInviteUnknown, "This invite link does not work"},
		{"not a code", "abc", 404, server.CodeInviteUnknown, "This invite link does not work"},
		{"expired", code, 410, server.CodeInviteExpired, "This invite link has expired"},
		{"revoked", revoked, 410, server.CodeInviteRevoked, "This invite link was withdrawn"},
	} {
		addr := "192.0.2." + string(rune('1'+i)) + ":1000"
		for _, m := range []struct{ method, path string }{{"GET", "/api/invite/" + tc.code}, {"POST", "/api/invite/" + tc.code + "/token"}} {
			rec := serveFrom(h, m.method, m.path, addr, `{"name":"Ada"}`)
			var e wire.Error
			if rec.Code != tc.status || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Code != tc.errCode {
				t.Errorf("%s: %s %s = %d %s, want %d %s", tc.what, m.method, m.path, rec.Code, rec.Body, tc.status, tc.errCode)
			}
		}
		rec := serveFrom(h, "GET", "/j/"+tc.code, addr, "")
		b := rec.Body.String()
		if rec.Code != tc.status || !strings.Contains(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(b, tc.title) {
			t.Errorf("%s: GET /j/%s = %d %q", tc.what, tc.code, rec.Code, b)
		}
		if strings.Contains(b, "standup") || strings.Contains(b, "app.js") {
			t.Errorf("%s: the page tells the room or is the guest page: %s", tc.what, b)
		}
		if rec.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("%s: the page has no CSP", tc.what)
		}
	}
}

// serveFrom serves one request to h as if from the client at addr.
func serveFrom(h http.Handler, method, path, addr, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://127.0.0.1:7880"+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.RemoteAddr = addr
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestInviteGuessingIsLimited tries codes that do not exist from one
// address: after 10 misses it gets 429, even for a code that works, while
// another address is not affected.
func TestInviteGuessingIsLimited(t *testing.T) {
	srv := servertest.Start(t)
	h := srv.Srv.Handler()
	st, body, _ := apiCall(t, "POST", srv.URL+"/api/invite", hostToken(srv, "standup", time.Now()), nil)
	if st != http.StatusCreated {
		t.Fatalf("create: %d %v", st, body)
	}
	good := body["code"].(string)
	const guesser = "198.51.100.7:4000"
	misses := 0
	for i := range 30 {
		guess := "ZZZZZZ" + string(invite.Alphabet[i%len(invite.Alphabet)])
		if guess == good {
			continue
		}
		path := []string{"/api/invite/" + guess, "/j/" + guess, "/api/invite/" + guess + "/token"}[i%3]
		rec := serveFrom(h, map[bool]string{true: "POST", false: "GET"}[strings.HasSuffix(path, "/token")], path, guesser, `{"name":"x"}`)
		if rec.Code == http.StatusTooManyRequests {
			if rec.Header().Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After")
			}
			break
		}
		if rec.Code != http.StatusNotFound {
			t.Fatalf("guess %d: %d %s", i, rec.Code, rec.Body)
		}
		misses++
	}
	if misses != 10 {
		t.Fatalf("%d misses before 429, want 10", misses)
	}
	rec := serveFrom(h, "GET", "/api/invite/"+good, guesser, "")
	var e wire.Error
	if rec.Code != http.StatusTooManyRequests || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Code != wire.CodeRateLimited {
		t.Fatalf("a working code from the guessing address: %d %s", rec.Code, rec.Body)
	}
	if rec := serveFrom(h, "GET", "/j/"+good, guesser, ""); rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "Too many tries") {
		t.Fatalf("the link's page from the guessing address: %d %s", rec.Code, rec.Body)
	}
	if rec := serveFrom(h, "GET", "/api/invite/"+good, "203.0.113.9:5000", ""); rec.Code != http.StatusOK {
		t.Fatalf("another address: %d %s", rec.Code, rec.Body)
	}
}

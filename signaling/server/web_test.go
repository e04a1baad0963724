package server_test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/confab/confab/assets"
	"github.com/confab/confab/signaling/server/servertest"
)

// webGet sends a GET for target (a raw request target, so odd escapes
// reach the server as typed) to h.
func webGet(h http.Handler, target string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:7880/", nil)
	req.RequestURI = target
	u, err := req.URL.Parse(target)
	if err != nil {
		panic(err)
	}
	req.URL = u
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func checkWebHeaders(t *testing.T, target string, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Header()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", target, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: CSP allows inline code: %q", target, csp)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options = %q", target, got)
	}
	if got := h.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("%s: Referrer-Policy = %q", target, got)
	}
}

func webIndex(t *testing.T) []byte {
	t.Helper()
	b, err := fs.ReadFile(assets.Web, "web/index.html")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWebRoutes(t *testing.T) {
	srv := servertest.Start(t)
	h := srv.Srv.Handler()
	index := webIndex(t)
	cases := []struct {
		target string
		status int
		ctype  string
	}{
		{"/", 200, "text/html; charset=utf-8"},
		{"/r/standup", 200, "text/html; charset=utf-8"},
		{"/web/app.js", 200, "text/javascript; charset=utf-8"},
		{"/web/session.js", 200, "text/javascript; charset=utf-8"},
		{"/web/style.css", 200, "text/css; charset=utf-8"},
		{"/web/icon.svg", 200, "image/svg+xml"},
		{"/web/", 404, ""},
		{"/web/nope.js", 404, ""},
		{"/web/index.html", 404, ""},
		{"/web/APP.JS", 404, ""},
		{"/nope", 404, ""},
		{"/index.html", 404, ""},
		{"/r/a/b", 404, ""},
		{"/favicon.ico", 404, ""},
	}
	for _, c := range cases {
		rec := webGet(h, c.target)
		if rec.Code != c.status {
			t.Errorf("GET %s = %d, want %d", c.target, rec.Code, c.status)
			continue
		}
		if c.status != 200 {
			continue
		}
		checkWebHeaders(t, c.target, rec)
		if got := rec.Header().Get("Content-Type"); got != c.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", c.target, got, c.ctype)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q", c.target, got)
		}
		if rec.Header().Get("ETag") == "" {
			t.Errorf("GET %s: no ETag", c.target)
		}
		if strings.HasPrefix(c.ctype, "text/html") && rec.Body.String() != string(index) {
			t.Errorf("GET %s: not the guest page", c.target)
		}
	}
	// The API routes are still there, and stay JSON.
	if rec := webGet(h, "/healthz"); rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Errorf("/healthz = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	// Other methods are not served.
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("x"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code == 200 {
		t.Errorf("POST / = 200")
	}
}

// TestWebEveryFileHasHeaders serves every embedded file and checks its
// security headers and type.
func TestWebEveryFileHasHeaders(t *testing.T) {
	srv := servertest.Start(t)
	h := srv.Srv.Handler()
	n := 0
	err := fs.WalkDir(assets.Web, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "web/index.html" {
			return err
		}
		n++
		target := "/" + p
		rec := webGet(h, target)
		if rec.Code != 200 {
			t.Errorf("GET %s = %d", target, rec.Code)
			return nil
		}
		checkWebHeaders(t, target, rec)
		ct := rec.Header().Get("Content-Type")
		if ct == "" || strings.HasPrefix(ct, "text/plain") || strings.HasPrefix(ct, "application/octet-stream") {
			t.Errorf("GET %s: Content-Type %q", target, ct)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 4 {
		t.Fatalf("only %d asset files embedded", n)
	}
	// 404s from the page's routes carry the headers too.
	for _, target := range []string{"/web/missing.css", "/web/"} {
		rec := webGet(h, target)
		if rec.Code != 404 {
			t.Errorf("GET %s = %d", target, rec.Code)
		}
		checkWebHeaders(t, target, rec)
	}
}

func TestWebRevalidation(t *testing.T) {
	srv := servertest.Start(t)
	h := srv.Srv.Handler()
	for _, target := range []string{"/", "/web/app.js"} {
		first := webGet(h, target)
		etag := first.Header().Get("ETag")
		if etag == "" {
			t.Fatalf("%s: no ETag", target)
		}
		again := webGet(h, target, "If-None-Match", etag)
		if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
			t.Errorf("%s with matching ETag = %d (%d bytes), want 304", target, again.Code, again.Body.Len())
		}
		checkWebHeaders(t, target, again)
	}
}

// TestWebRoomInURLIsNeverReflected asks for /r/{room} with odd and invalid
// room names: the answer is always the same static page (the page reads
// the room from its own URL as text), never one with the name written in.
func TestWebRoomInURLIsNeverReflected(t *testing.T) {
	srv := servertest.Start(t)
	h := srv.Srv.Handler()
	index := string(webIndex(t))
	rooms := []string{
		"%3Cscript%3Ealert(1)%3C%2Fscript%3E",
		"%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
		"a%2Fb",
		"caf%C3%A9%20%F0%9F%8E%89",
		"%E2%80%AEevil",
		"%00",
		"%0d%0aSet-Cookie:%20x=1",
		"..%2F..%2Fetc%2Fpasswd",
		"javascript:alert(1)",
		strings.Repeat("x", 300),
		"%20%20",
		"'%22%60",
	}
	for _, room := range rooms {
		target := "/r/" + room
		rec := webGet(h, target)
		if rec.Code != 200 {
			// A room the router cannot read may be refused, but never
			// reflected or served as something else.
			if rec.Code != 404 && rec.Code != 400 {
				t.Errorf("GET %s = %d", target, rec.Code)
			}
			continue
		}
		checkWebHeaders(t, target, rec)
		if rec.Body.String() != index {
			t.Errorf("GET %s: body differs from the static page", target)
		}
		if rec.Header().Get("Set-Cookie") != "" {
			t.Errorf("GET %s: sets a cookie", target)
		}
	}
	if rec := webGet(h, "/r/"); rec.Code != http.StatusFound || rec.Header().Get("Location") != "/" {
		t.Errorf("GET /r/ = %d to %q, want 302 to /", rec.Code, rec.Header().Get("Location"))
	}
}

// TestWebPageNeedsNoInlineCode checks that the page works under its CSP:
// no inline script, no inline style, no event-handler attributes, every
// referenced file exists, and no script writes HTML from strings.
func TestWebPageNeedsNoInlineCode(t *testing.T) {
	index := string(webIndex(t))
	if regexp.MustCompile(`(?i)<script(\s[^>]*)?>\s*[^<\s]`).MatchString(index) {
		t.Error("index.html has an inline script")
	}
	if regexp.MustCompile(`(?i)<style|\sstyle\s*=`).MatchString(index) {
		t.Error("index.html has inline style")
	}
	if regexp.MustCompile(`(?i)\son[a-z]+\s*=`).MatchString(index) {
		t.Error("index.html has an event-handler attribute")
	}
	// The ids automated browser tests drive the page by.
	for _, id := range []string{"name", "room", "join", "mic-toggle", "camera-toggle", "mute", "camera",
		"share", "leave", "chat-toggle", "chat-input", "chat-send", "chat-older"} {
		if n := strings.Count(index, `id="`+id+`"`); n != 1 {
			t.Errorf("index.html has %d elements with id %q, want 1", n, id)
		}
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="(/web/[^"]+)"`).FindAllStringSubmatch(index, -1) {
		if _, err := fs.Stat(assets.Web, strings.TrimPrefix(m[1], "/")); err != nil {
			t.Errorf("index.html references missing %s", m[1])
		}
	}
	scripts, _ := fs.Glob(assets.Web, "web/*.js")
	for _, p := range scripts {
		b, _ := fs.ReadFile(assets.Web, p)
		src := string(b)
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
			if strings.Contains(src, bad) {
				t.Errorf("%s uses %s", p, bad)
			}
		}
		if regexp.MustCompile(`setAttribute\(\s*["']style["']`).MatchString(src) {
			t.Errorf("%s sets a style attribute", p)
		}
		for _, m := range regexp.MustCompile(`from\s+"\./([^"]+)"`).FindAllStringSubmatch(src, -1) {
			if _, err := fs.Stat(assets.Web, "web/"+m[1]); err != nil {
				t.Errorf("%s imports missing %s", p, m[1])
			}
		}
	}
}

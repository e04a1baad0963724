package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/confab/confab/assets"
)

// webCSP is the Content-Security-Policy of every guest page response. The
// page has no inline script and no style attributes, talks only to its own
// origin (the token endpoint and the websocket; CSP 3 lets 'self' match
// ws: and wss: on the same host) and may not be framed.
const webCSP = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self'; " +
	"object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// webTypes are the Content-Types of the files the guest page is made of.
// Files of other kinds under assets/web are not served.
var webTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

// webFile is one embedded file, ready to serve.
type webFile struct {
	name  string
	body  []byte
	ctype string
	etag  string
}

// loadWebFiles reads every servable file under root in fsys, keyed by its
// path below root, with a content hash as its ETag.
func loadWebFiles(fsys fs.FS, root string) (map[string]*webFile, error) {
	files := make(map[string]*webFile)
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ctype, ok := webTypes[path.Ext(p)]
		if !ok {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, root+"/")
		files[name] = &webFile{name: name, body: b, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("guest page: %w", err)
	}
	if files["index.html"] == nil {
		return nil, fmt.Errorf("guest page: no index.html")
	}
	return files, nil
}

// webRoutes adds the browser guest page's routes to mux: the page itself at
// / and at /r/{room} (the same bytes: the page reads the room from its own
// URL, the server never writes it into the page), and its scripts, styles
// and icons under /web/. Other paths stay 404.
func (s *Server) webRoutes(mux *http.ServeMux) {
	files, err := loadWebFiles(assets.Web, "web")
	if err != nil {
		s.log.Error("browser guest page not served", "err", err)
		return
	}
	index := files["index.html"]
	page := func(w http.ResponseWriter, r *http.Request) { serveWebFile(w, r, index) }
	mux.HandleFunc("GET /{$}", page)
	mux.HandleFunc("GET /r/{room}", page)
	mux.HandleFunc("GET /r/{$}", func(w http.ResponseWriter, r *http.Request) {
		setWebHeaders(w.Header())
		http.Redirect(w, r, "/", http.StatusFound)
	})
	mux.HandleFunc("GET /web/{file...}", func(w http.ResponseWriter, r *http.Request) {
		f := files[r.PathValue("file")]
		if f == nil || f == index {
			setWebHeaders(w.Header())
			http.Error(w, "404 page not found", http.StatusNotFound)
			return
		}
		serveWebFile(w, r, f)
	})
}

// setWebHeaders sets the security headers every guest page response has.
func setWebHeaders(h http.Header) {
	h.Set("Content-Security-Policy", webCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=()")
}

// serveWebFile answers with f. Browsers revalidate on every load
// (no-cache) and get 304 while the ETag, a hash of the content, matches:
// a new server version is picked up at once without renamed files.
func serveWebFile(w http.ResponseWriter, r *http.Request, f *webFile) {
	h := w.Header()
	setWebHeaders(h)
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
}

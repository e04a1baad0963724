package server

import (
	"encoding/json"
	"errors"
	"html/template"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/confab/confab/assets"
	"github.com/confab/confab/signaling/invite"
	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

// Invite link limits.
const (
	// inviteMisses is how many unknown, expired, used-up or revoked codes
	// an address may try before it gets 429; one more is allowed every
	// inviteMissEvery.
	inviteMisses    = 10
	inviteMissEvery = 30 * time.Second
	// maxInviteBody bounds the JSON or form body of the invite API.
	maxInviteBody = 4096
)

// Error codes of the invite API (PROTOCOL.md, "Invite links").
const (
	CodeInviteUnknown = "invite_unknown"
	CodeInviteExpired = "invite_expired"
	CodeInviteUsedUp  = "invite_used_up"
	CodeInviteRevoked = "invite_revoked"
)

// InviteResponse is the JSON the invite API answers with.
type InviteResponse struct {
	Code    string    `json:"code,omitempty"`
	URL     string    `json:"url,omitempty"`
	Room    string    `json:"room"`
	Expires time.Time `json:"expires"`
	MaxUses int       `json:"max_uses"`
	Uses    int       `json:"uses"`
	Revoked bool      `json:"revoked,omitempty"`
}

// InviteTokenResponse is the JSON POST /api/invite/{code}/token answers
// with.
type InviteTokenResponse struct {
	Token    string    `json:"token"`
	Identity string    `json:"identity"`
	Room     string    `json:"room"`
	Name     string    `json:"name"`
	Expires  time.Time `json:"expires"`
}

// invites returns the store's invite codes, nil if it keeps none.
func (s *Server) invites() store.Invites {
	inv, _ := s.cfg.Store.(store.Invites)
	return inv
}

// inviteRoutes adds the invite link routes to mux (PROTOCOL.md, "Invite
// links"). A store without invite codes (store.Invites) leaves them 404.
func (s *Server) inviteRoutes(mux *http.ServeMux) {
	if s.invites() == nil {
		return
	}
	var index *webFile
	if files, err := loadWebFiles(assets.Web, "web"); err == nil {
		index = files["index.html"]
	}
	page := func(w http.ResponseWriter, r *http.Request) { s.serveInvitePage(w, r, index) }
	mux.HandleFunc("POST /api/invite", s.serveInviteCreate)
	mux.HandleFunc("GET /api/invite/{code}", s.serveInviteInfo)
	mux.HandleFunc("DELETE /api/invite/{code}", s.serveInviteRevoke)
	mux.HandleFunc("POST /api/invite/{code}/token", s.serveInviteToken)
	mux.HandleFunc("GET /j/{code}", page)
}

// bearer verifies the request's "Authorization: Bearer <token>" and
// answers the error itself when it is missing or not valid.
func (s *Server) bearer(w http.ResponseWriter, r *http.Request) (*token.Claims, bool) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		writeJSONError(w, http.StatusUnauthorized, wire.CodeTokenInvalid, "send a join token as Authorization: Bearer <token>")
		return nil, false
	}
	c, err := token.Verify(s.cfg.Secret, strings.TrimSpace(raw), s.cfg.Now())
	switch {
	case errors.Is(err, token.ErrExpired):
		writeJSONError(w, http.StatusUnauthorized, wire.CodeTokenExpired, "the token has expired")
	case errors.Is(err, token.ErrNotYetValid):
		writeJSONError(w, http.StatusUnauthorized, wire.CodeTokenNotYetValid, "the token is not valid yet")
	case err != nil:
		writeJSONError(w, http.StatusUnauthorized, wire.CodeTokenInvalid, "the token is not valid on this server")
	default:
		return c, true
	}
	return nil, false
}

// inviteRequest is the body of POST /api/invite.
type inviteRequest struct {
	Room    *string `json:"room"`
	TTL     *int64  `json:"ttl"` // seconds
	MaxUses *int    `json:"max_uses"`
}

// serveInviteCreate makes an invite code for the room of the caller's
// join token (guests' tokens may not).
func (s *Server) serveInviteCreate(w http.ResponseWriter, r *http.Request) {
	c, ok := s.bearer(w, r)
	if !ok {
		return
	}
	if c.Grants.Guest {
		writeJSONError(w, http.StatusForbidden, wire.CodePermissionDenied, "a guest's token cannot make invites")
		return
	}
	var req inviteRequest
	if err := readJSONBody(w, r, &req); err != nil {
		writeJSONError(w, http.StatusBadRequest, wire.CodeBadMessage, err.Error())
		return
	}
	room := c.Room
	if req.Room != nil && *req.Room != c.Room {
		writeJSONError(w, http.StatusForbidden, wire.CodeRoomMismatch, "the token is for another room")
		return
	}
	o := invite.Options{Room: room, Creator: c.Identity}
	if req.TTL != nil {
		if *req.TTL <= 0 || *req.TTL > int64(invite.MaxTTL/time.Second) {
			writeJSONError(w, http.StatusBadRequest, wire.CodeBadMessage, "ttl: seconds from 60 to 2592000")
			return
		}
		o.TTL = time.Duration(*req.TTL) * time.Second
	}
	if req.MaxUses != nil {
		o.MaxUses = *req.MaxUses
	}
	if _, err := o.Check(); err != nil {
		writeJSONError(w, http.StatusBadRequest, wire.CodeBadMessage,
			"ttl: seconds from 60 to 2592000; max_uses: 0 (no limit) to 10000")
		return
	}
	ctx, cancel := s.ctx()
	defer cancel()
	inv, err := invite.New(ctx, s.invites(), o, s.cfg.Now())
	if err != nil {
		s.log.Error("invite: create", "err", err)
		writeJSONError(w, http.StatusInternalServerError, wire.CodeInternal, "the invite could not be stored")
		return
	}
	s.log.Info("invite created", "room", inv.Room, "creator", inv.Creator, "expires", inv.Expires, "max_uses", inv.MaxUses)
	resp := inviteJSON(inv)
	resp.Code = inv.Code
	resp.URL = ownOrigin(r) + invite.Path(inv.Code)
	writeJSON(w, http.StatusCreated, resp)
}

// readJSONBody decodes a JSON object of at most maxInviteBody bytes into
// v; an empty body leaves v as it is.
func readJSONBody(w http.ResponseWriter, r *http.Request, v any) error {
	return readJSONBodyN(w, r, v, maxInviteBody)
}

// readJSONBodyN is readJSONBody for a body of at most limit bytes.
func readJSONBodyN(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return errors.New("send the body as application/json")
		}
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		if err.Error() == "EOF" {
			return nil
		}
		return errors.New("the body is not a JSON object of the documented fields")
	}
	if dec.More() {
		return errors.New("one JSON object only")
	}
	return nil
}

func inviteJSON(inv store.Invite) InviteResponse {
	return InviteResponse{Room: inv.Room, Expires: inv.Expires, MaxUses: inv.MaxUses, Uses: inv.Uses, Revoked: !inv.Revoked.IsZero()}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// inviteCode reads the request's {code}. It answers 429 itself when the
// client's address has missed too often, and a shape that can never be a
// code as a miss; ok is false then.
func (s *Server) inviteCode(w http.ResponseWriter, r *http.Request, page bool) (string, bool) {
	if s.inviteMiss.exhausted(r.RemoteAddr, time.Now()) {
		s.metrics.rateLimited.Add(1)
		s.answerMiss(w, r, page, http.StatusTooManyRequests, wire.CodeRateLimited)
		return "", false
	}
	code, ok := invite.Normalize(r.PathValue("code"))
	if !ok {
		s.miss(w, r, page, store.ErrNotFound)
		return "", false
	}
	return code, true
}

// miss answers a code that cannot be used (err from the store) and counts
// it against the client's address.
func (s *Server) miss(w http.ResponseWriter, r *http.Request, page bool, err error) {
	s.inviteMiss.allow(r.RemoteAddr, time.Now())
	switch {
	case errors.Is(err, store.ErrInviteExpired):
		s.answerMiss(w, r, page, http.StatusGone, CodeInviteExpired)
	case errors.Is(err, store.ErrInviteUsedUp):
		s.answerMiss(w, r, page, http.StatusGone, CodeInviteUsedUp)
	case errors.Is(err, store.ErrInviteRevoked):
		s.answerMiss(w, r, page, http.StatusGone, CodeInviteRevoked)
	default:
		s.answerMiss(w, r, page, http.StatusNotFound, CodeInviteUnknown)
	}
}

// missText is what a person is told about a code that cannot be used.
var missText = map[string][2]string{
	CodeInviteUnknown:    {"This invite link does not work", "The link is not known here. Check that it was copied whole, or ask the person who sent it for a new one."},
	CodeInviteExpired:    {"This invite link has expired", "Ask the person who sent it for a new one."},
	CodeInviteUsedUp:     {"This invite link has been used up", "It was used as many times as it allows. Ask the person who sent it for a new one."},
	CodeInviteRevoked:    {"This invite link was withdrawn", "The person who made it turned it off. Ask them for a new one."},
	wire.CodeRateLimited: {"Too many tries", "This address tried too many invite links that do not work. Wait a few minutes, then open the link again."},
}

// answerMiss answers status with code: JSON for the API, a page for /j/.
func (s *Server) answerMiss(w http.ResponseWriter, r *http.Request, page bool, status int, code string) {
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", strconv.Itoa(int(inviteMissEvery/time.Second)))
	}
	t := missText[code]
	if !page {
		writeJSONError(w, status, code, strings.ToLower(t[0][:1])+t[0][1:])
		return
	}
	h := w.Header()
	setWebHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = missPage.Execute(w, map[string]string{"Title": t[0], "Text": t[1]})
}

// missPage is the page /j/CODE shows for a code that cannot be used. It
// says nothing of the room (the code is all the server was told).
var missPage = template.Must(template.New("miss").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<meta name="referrer" content="no-referrer">
<title>{{.Title}} · Confab</title>
<link rel="icon" href="/web/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/web/style.css">
</head>
<body data-phase="invite-error">
<main class="screen end" aria-labelledby="end-title">
  <div class="end-card">
    <h1 id="end-title">{{.Title}}</h1>
    <p id="end-message" class="sub">{{.Text}}</p>
  </div>
</main>
</body>
</html>
`))

// serveInviteInfo tells the room, expiry and uses of a code without using
// it; the guest page asks before showing its form.
func (s *Server) serveInviteInfo(w http.ResponseWriter, r *http.Request) {
	code, ok := s.inviteCode(w, r, false)
	if !ok {
		return
	}
	ctx, cancel := s.ctx()
	defer cancel()
	inv, err := s.invites().LookupInvite(ctx, code, s.cfg.Now())
	if err != nil {
		s.storeMiss(w, r, false, err)
		return
	}
	writeJSON(w, http.StatusOK, inviteJSON(inv))
}

// storeMiss answers a store error: a miss, or 500 if the store failed.
func (s *Server) storeMiss(w http.ResponseWriter, r *http.Request, page bool, err error) {
	for _, e := range []error{store.ErrNotFound, store.ErrInviteExpired, store.ErrInviteUsedUp, store.ErrInviteRevoked} {
		if errors.Is(err, e) {
			s.miss(w, r, page, err)
			return
		}
	}
	s.log.Error("invite: store", "err", err)
	if page {
		h := w.Header()
		setWebHeaders(h)
		http.Error(w, "the server could not read the invite; try again shortly", http.StatusInternalServerError)
		return
	}
	writeJSONError(w, http.StatusInternalServerError, wire.CodeInternal, "the invite could not be read")
}

// serveInvitePage serves the guest page for a usable code (the page reads
// the code from its own URL) and a page saying why for any other.
func (s *Server) serveInvitePage(w http.ResponseWriter, r *http.Request, index *webFile) {
	code, ok := s.inviteCode(w, r, true)
	if !ok {
		return
	}
	ctx, cancel := s.ctx()
	defer cancel()
	if _, err := s.invites().LookupInvite(ctx, code, s.cfg.Now()); err != nil {
		s.storeMiss(w, r, true, err)
		return
	}
	if index == nil {
		http.Error(w, "the browser guest page is not served", http.StatusNotFound)
		return
	}
	serveWebFile(w, r, index)
}

// serveInviteToken exchanges a code and a display name for a guest token:
// publish, subscribe and chat in the code's room only, expiring no later
// than the code (and at most Config.TokenTTL from now). Each exchange
// counts one use.
func (s *Server) serveInviteToken(w http.ResponseWriter, r *http.Request) {
	code, ok := s.inviteCode(w, r, false)
	if !ok {
		return
	}
	var req struct {
		Name *string `json:"name"`
	}
	if err := readJSONBody(w, r, &req); err != nil {
		writeJSONError(w, http.StatusBadRequest, wire.CodeBadMessage, err.Error())
		return
	}
	name := ""
	if req.Name != nil {
		name = *req.Name
	}
	if err := wire.ValidateName("name", name); err != nil {
		writeJSONError(w, http.StatusBadRequest, wire.CodeBadMessage, err.Error())
		return
	}
	if strings.TrimSpace(name) != name {
		writeJSONError(w, http.StatusBadRequest, wire.CodeBadMessage, "name: begins or ends with whitespace")
		return
	}
	ctx, cancel := s.ctx()
	defer cancel()
	now := s.cfg.Now()
	inv, err := s.invites().UseInvite(ctx, code, now)
	if err != nil {
		s.storeMiss(w, r, false, err)
		return
	}
	ttl := min(s.cfg.TokenTTL, inv.Expires.Sub(now))
	identity := "g-" + randomHex(8)
	g := token.Grants{Publish: true, Subscribe: true, Chat: true, Guest: true}
	tok, err := token.Issue(s.cfg.Secret, token.Claims{Identity: identity, Name: name, Room: inv.Room, Grants: g}, ttl, now)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, wire.CodeInternal, "could not issue a token")
		return
	}
	s.log.Info("invite used", "room", inv.Room, "identity", identity, "uses", inv.Uses, "max_uses", inv.MaxUses)
	// JWT times are whole seconds, rounded down: exp is never after the code's expiry.
	exp := now.Add(ttl).Truncate(time.Second).UTC()
	writeJSON(w, http.StatusOK, InviteTokenResponse{Token: tok, Identity: identity, Room: inv.Room, Name: name, Expires: exp})
}

// serveInviteRevoke revokes a code for the holder of a join token for its
// room (not a guest's). A code of another room is answered as unknown.
func (s *Server) serveInviteRevoke(w http.ResponseWriter, r *http.Request) {
	code, ok := s.inviteCode(w, r, false)
	if !ok {
		return
	}
	c, ok := s.bearer(w, r)
	if !ok {
		return
	}
	if c.Grants.Guest {
		writeJSONError(w, http.StatusForbidden, wire.CodePermissionDenied, "a guest's token cannot revoke invites")
		return
	}
	ctx, cancel := s.ctx()
	defer cancel()
	inv, err := s.invites().LookupInvite(ctx, code, s.cfg.Now())
	if err != nil && !errors.Is(err, store.ErrInviteExpired) && !errors.Is(err, store.ErrInviteUsedUp) && !errors.Is(err, store.ErrInviteRevoked) {
		s.storeMiss(w, r, false, err)
		return
	}
	if inv.Room != c.Room {
		s.miss(w, r, false, store.ErrNotFound)
		return
	}
	if inv, err = s.invites().RevokeInvite(ctx, code, s.cfg.Now()); err != nil {
		s.storeMiss(w, r, false, err)
		return
	}
	s.log.Info("invite revoked", "room", inv.Room, "by", c.Identity)
	writeJSON(w, http.StatusOK, inviteJSON(inv))
}

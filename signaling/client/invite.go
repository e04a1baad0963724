package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/confab/confab/signaling/wire"
)

// ErrNoInvites reports a server that makes no invite links (one older
// than the invite API, or one whose store keeps no codes).
var ErrNoInvites = errors.New("client: the server makes no invite links")

// Invite is an invite link made by CreateInvite (PROTOCOL.md, "Invite
// links").
type Invite struct {
	Code    string    `json:"code"`
	URL     string    `json:"url"` // http://HOST:PORT/j/CODE as the server was reached
	Room    string    `json:"room"`
	Expires time.Time `json:"expires"`
	MaxUses int       `json:"max_uses"`
}

// InviteOptions are what an invite link is made with; zero values take
// the server's defaults (1 hour, no use limit).
type InviteOptions struct {
	TTL     time.Duration
	MaxUses int
}

// CreateInvite asks the server at server (http://host:port) for an invite
// link to the room of tok, a join token. A refusal is a *wire.Error
// (e.g. room_mismatch, permission_denied for a guest's token); a server
// without invite links is ErrNoInvites; one that cannot be reached wraps
// ErrUnreachable.
func CreateInvite(ctx context.Context, hc *http.Client, server, tok string, o InviteOptions) (Invite, error) {
	base, _, err := serverURLs(server)
	if err != nil {
		return Invite{}, err
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	body := map[string]any{}
	if o.TTL > 0 {
		body["ttl"] = int64(o.TTL / time.Second)
	}
	if o.MaxUses > 0 {
		body["max_uses"] = o.MaxUses
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/invite", bytes.NewReader(b))
	if err != nil {
		return Invite{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := hc.Do(req)
	if err != nil {
		return Invite{}, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return Invite{}, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	var we wire.Error
	switch {
	case resp.StatusCode == http.StatusCreated:
	case json.Unmarshal(raw, &we) == nil && we.Code != "":
		return Invite{}, fmt.Errorf("invite: %w", &we)
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		return Invite{}, ErrNoInvites
	default:
		return Invite{}, fmt.Errorf("%w: invite request: %s", ErrUnreachable, resp.Status)
	}
	var inv Invite
	if err := json.Unmarshal(raw, &inv); err != nil || inv.Code == "" {
		return Invite{}, fmt.Errorf("%w: invite response unreadable", ErrProtocol)
	}
	return inv, nil
}

// CreateInvite makes an invite link to the session's room with its token
// (see the function CreateInvite).
func (s *Session) CreateInvite(ctx context.Context, o InviteOptions) (Invite, error) {
	return CreateInvite(ctx, s.cfg.HTTPClient, s.cfg.Server, s.token, o)
}

package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/support"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

// feedbackGrace is how long after its token expired a customer may still
// rate a call (a call may outlast the token that let them in).
const feedbackGrace = 24 * time.Hour

// feedbackCall answers the error itself unless the request's bearer token
// is a customer's for a support call's room; it returns the call.
func (h *supportHub) feedbackCall(w http.ResponseWriter, r *http.Request) (store.SupportCall, *token.Claims, bool) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		writeJSONError(w, http.StatusUnauthorized, wire.CodeTokenInvalid, "send the call's join token as Authorization: Bearer <token>")
		return store.SupportCall{}, nil, false
	}
	c, err := verifyRecent(h.s.cfg.Secret, strings.TrimSpace(raw), h.s.cfg.Now())
	if err != nil {
		code := wire.CodeTokenInvalid
		if errors.Is(err, token.ErrExpired) {
			code = wire.CodeTokenExpired
		}
		writeJSONError(w, http.StatusUnauthorized, code, "the token is not valid on this server")
		return store.SupportCall{}, nil, false
	}
	ctx, cancel := h.ctx()
	defer cancel()
	call, err := h.st.Call(ctx, c.Room)
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, support.CodeNotFound, "this call asks for no feedback")
		return store.SupportCall{}, nil, false
	}
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, wire.CodeInternal, "the call could not be read")
		return store.SupportCall{}, nil, false
	}
	if c.Identity == call.Agent {
		writeJSONError(w, http.StatusForbidden, wire.CodePermissionDenied, "the agent does not rate their own call")
		return store.SupportCall{}, nil, false
	}
	return call, c, true
}

// verifyRecent verifies a token as token.Verify does, but also takes one
// that expired less than feedbackGrace ago: it is checked (signature,
// claims) as of a second before its expiry.
func verifyRecent(secret []byte, raw string, now time.Time) (*token.Claims, error) {
	c, err := token.Verify(secret, raw, now)
	if !errors.Is(err, token.ErrExpired) {
		return c, err
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, err
	}
	payload, derr := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if derr != nil || json.Unmarshal(payload, &claims) != nil || claims.Exp == 0 {
		return nil, err
	}
	exp := time.Unix(claims.Exp, 0)
	if now.Sub(exp) > feedbackGrace {
		return nil, err
	}
	return token.Verify(secret, raw, exp.Add(-time.Second))
}

// serveFeedbackInfo tells the guest page whether to ask for feedback:
// 200 {"agent":"Sam","rated":false} for a support call's customer.
func (h *supportHub) serveFeedbackInfo(w http.ResponseWriter, r *http.Request) {
	call, _, ok := h.feedbackCall(w, r)
	if !ok {
		return
	}
	ctx, cancel := h.ctx()
	defer cancel()
	name := ""
	if a, err := h.st.Agent(ctx, call.Agent); err == nil {
		name = a.Name
	}
	writeJSON(w, http.StatusOK, map[string]any{"agent": name, "rated": call.Rating != 0})
}

// serveFeedback stores the customer's rating of a support call:
// {"rating":1-5,"comment":"…"}, with the conversation and in the room's
// meeting log, and tells the agents.
func (h *supportHub) serveFeedback(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Rating  *int   `json:"rating"`
		Comment string `json:"comment"`
	}
	if err := readJSONBody(w, r, &req); err != nil {
		writeJSONError(w, http.StatusBadRequest, wire.CodeBadMessage, err.Error())
		return
	}
	if req.Rating == nil {
		writeJSONError(w, http.StatusBadRequest, wire.CodeBadMessage, "rating is required")
		return
	}
	if err := support.ValidateFeedback(*req.Rating, req.Comment); err != nil {
		writeJSONError(w, http.StatusBadRequest, wire.CodeBadMessage, strings.TrimPrefix(err.Error(), "support: invalid: "))
		return
	}
	call, c, ok := h.feedbackCall(w, r)
	if !ok {
		return
	}
	ctx, cancel := h.ctx()
	defer cancel()
	now := h.s.cfg.Now()
	rated, err := h.st.RateCall(ctx, call.Room, *req.Rating, req.Comment, now)
	if errors.Is(err, store.ErrRated) {
		writeJSONError(w, http.StatusConflict, support.CodeAlreadyRated, "this call has its rating already")
		return
	}
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, wire.CodeInternal, "the rating could not be stored")
		return
	}
	detail, _ := json.Marshal(map[string]any{"rating": rated.Rating, "comment": rated.Comment, "conversation": rated.Conversation})
	h.s.writer.event(store.Event{Room: call.Room, Identity: c.Identity, Kind: "rating", At: now, Detail: string(detail)})
	text := fmt.Sprintf("%s rated the video call %d of 5.", c.Name, rated.Rating)
	if rated.Comment != "" {
		text += " “" + rated.Comment + "”"
	}
	h.system(call.Conversation, "", text)
	h.log.Info("support call rated", "room", call.Room, "rating", rated.Rating)
	writeJSON(w, http.StatusOK, map[string]any{"rating": rated.Rating, "comment": rated.Comment})
}

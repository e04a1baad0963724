package server

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/confab/confab/signaling/meeting"
	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/wire"
)

// CodeMeetingNotFound is the error code of /api/meetings/ID for a meeting
// that does not exist or is of another room than the token's.
const CodeMeetingNotFound = "meeting_not_found"

// MeetingList is the body of GET /api/meetings.
type MeetingList struct {
	Meetings []meeting.Analytics `json:"meetings"`
}

// meetingRoutes adds GET /api/meetings and GET /api/meetings/{id}
// (PROTOCOL.md, "Meetings and analytics"). A store without meetings leaves
// them 404.
func (s *Server) meetingRoutes(mux *http.ServeMux) {
	if s.meetings.st == nil {
		return
	}
	mux.HandleFunc("GET /api/meetings", s.serveMeetings)
	mux.HandleFunc("GET /api/meetings/{id}", s.serveMeeting)
}

// meetingAdmin checks the bearer token and its admin grant; it answers the
// error itself.
func (s *Server) meetingAdmin(w http.ResponseWriter, r *http.Request) (room string, ok bool) {
	c, ok := s.bearer(w, r)
	if !ok {
		return "", false
	}
	if !c.Grants.Admin {
		writeJSONError(w, http.StatusForbidden, wire.CodePermissionDenied, "reading meetings needs a token with the admin grant")
		return "", false
	}
	return c.Room, true
}

func (s *Server) serveMeetings(w http.ResponseWriter, r *http.Request) {
	room, ok := s.meetingAdmin(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	if qr := q.Get("room"); qr != "" && qr != room {
		writeJSONError(w, http.StatusForbidden, wire.CodeRoomMismatch, "the token is for another room")
		return
	}
	f := store.MeetingFilter{Room: room, Limit: 100}
	if v := q.Get("since"); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < 0 {
			writeJSONError(w, http.StatusBadRequest, wire.CodeBadMessage, "since: Unix milliseconds")
			return
		}
		f.Since = time.UnixMilli(ms)
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxMeetings {
			writeJSONError(w, http.StatusBadRequest, wire.CodeBadMessage, "limit: 1 to 1000")
			return
		}
		f.Limit = n
	}
	ctx := r.Context()
	ms, err := s.meetings.st.Meetings(ctx, f)
	if err != nil {
		s.log.Error("meetings", "err", err)
		writeJSONError(w, http.StatusInternalServerError, wire.CodeInternal, "the meetings could not be read")
		return
	}
	out := MeetingList{Meetings: []meeting.Analytics{}}
	now := s.cfg.Now()
	for _, m := range ms {
		a, err := meeting.Load(ctx, s.meetings.st, m, now)
		if err != nil {
			s.log.Error("meetings", "id", m.ID, "err", err)
			writeJSONError(w, http.StatusInternalServerError, wire.CodeInternal, "the meetings could not be read")
			return
		}
		out.Meetings = append(out.Meetings, a)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) serveMeeting(w http.ResponseWriter, r *http.Request) {
	room, ok := s.meetingAdmin(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeJSONError(w, http.StatusNotFound, CodeMeetingNotFound, "no such meeting")
		return
	}
	ctx := r.Context()
	m, err := s.meetings.st.Meeting(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && m.Room != room {
		writeJSONError(w, http.StatusNotFound, CodeMeetingNotFound, "no such meeting")
		return
	}
	var a meeting.Analytics
	if err == nil {
		a, err = meeting.Load(ctx, s.meetings.st, m, s.cfg.Now())
	}
	if err != nil {
		s.log.Error("meeting", "id", id, "err", err)
		writeJSONError(w, http.StatusInternalServerError, wire.CodeInternal, "the meeting could not be read")
		return
	}
	writeJSON(w, http.StatusOK, a)
}

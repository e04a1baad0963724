package server

import (
	"context"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/signaling/recording"
	"github.com/confab/confab/signaling/sfu"
	"github.com/confab/confab/signaling/wire"
)

// Recording a room (PROTOCOL.md §5.1, §5.2 recording): a room is
// recorded from its first join when Config.Record names it, or from an
// admin's start_recording until its stop_recording, the end of the
// meeting, or a write failure. The room's rec (under room.mu) is the
// state everyone is told; the session (signaling/recording) is made and
// stopped on goroutines of the server's wait group, never under a lock.

// meetingIDWait bounds how long a new recording waits for its meeting's
// id (the meeting opens at the room's first join).
const meetingIDWait = 2 * time.Second

// roomRec is a room's recording. Guarded by room.mu.
type roomRec struct {
	by, byName, reason string
	since              time.Time
	sess               *recording.Session // nil until started
}

func (rec *roomRec) event() wire.Recording {
	return wire.Recording{Active: true, Reason: rec.reason, By: rec.by, ByName: rec.byName, Since: rec.since.UnixMilli()}
}

// startRecordingLocked starts recording the room unless it already is;
// r.mu must be held, and the caller must be one the server's wait group
// counts (or hold s.mu with the server open). Everyone is told at once;
// the files start when the session is ready (startSession).
func (r *room) startRecordingLocked(by, byName, reason string) bool {
	if r.rec != nil || r.s.cfg.RecordDir == "" {
		return false
	}
	rec := &roomRec{by: by, byName: byName, reason: reason, since: r.s.cfg.Now()}
	r.rec = rec
	r.broadcastLocked(nil, wire.TypeRecording, rec.event())
	r.s.wg.Add(1)
	go r.startSession(rec)
	return true
}

// stopRecordingLocked stops the room's recording, if any, and tells
// everyone why; r.mu must be held. The session is stopped (its files
// closed, its manifest written) on a goroutine of the wait group.
func (r *room) stopRecordingLocked(reason, by, byName string) bool {
	rec := r.rec
	if rec == nil {
		return false
	}
	r.rec = nil
	ev := wire.Recording{Active: false, Reason: reason}
	if reason == wire.RecordingAdmin {
		ev.By, ev.ByName = by, byName
	}
	r.broadcastLocked(nil, wire.TypeRecording, ev)
	if sess := rec.sess; sess != nil {
		r.s.wg.Add(1)
		go func() {
			defer r.s.wg.Done()
			m := sess.Stop(reason)
			r.s.log.Info("recording stopped", "room", r.name, "dir", sess.Dir(), "reason", m.StopReason, "files", len(m.Files))
		}()
	}
	return true
}

// startSession opens the recording's directory and session and taps the
// tracks published by then; later ones are added by recordTrackLocked.
func (r *room) startSession(rec *roomRec) {
	defer r.s.wg.Done()
	id := r.s.meetings.idFor(r.name, meetingIDWait)
	dir, err := recording.NewDir(r.s.cfg.RecordDir, id, r.name, rec.since)
	var sess *recording.Session
	if err == nil {
		sess, err = recording.Start(recording.Options{Dir: dir, MeetingID: id, Room: r.name, Start: time.Now(),
			StartedBy: rec.by, StartedByName: rec.byName, Logger: r.s.log,
			OnFail: func(err error) { r.recordingFailed(rec, err) }})
	}
	r.mu.Lock()
	if err != nil {
		if r.rec == rec {
			r.stopRecordingLocked(recording.FailReason(err), "", "")
		}
		r.mu.Unlock()
		r.s.log.Error("recording could not start", "room", r.name, "err", err)
		return
	}
	if r.rec != rec { // stopped meanwhile
		r.mu.Unlock()
		sess.Stop(recording.ReasonAdmin)
		return
	}
	rec.sess = sess
	for _, q := range r.peers {
		for _, t := range q.published {
			sess.Add(t, trackInfo(q, t))
		}
	}
	r.mu.Unlock()
	r.s.log.Info("recording started", "room", r.name, "dir", dir, "by", rec.by, "reason", rec.reason)
}

// recordingFailed stops a recording whose files could not be written.
// It is called once, by the session, from one of its goroutines.
func (r *room) recordingFailed(rec *roomRec, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rec == rec {
		r.stopRecordingLocked(recording.FailReason(err), "", "")
	}
}

// recordTrackLocked records t, just published by p, if the room is
// recorded; r.mu must be held.
func (r *room) recordTrackLocked(p *peer, t *sfu.Track) {
	if r.rec != nil && r.rec.sess != nil {
		r.rec.sess.Add(t, trackInfo(p, t))
	}
}

func trackInfo(p *peer, t *sfu.Track) recording.TrackInfo {
	return recording.TrackInfo{Participant: p.id, Name: p.name, Source: t.Source,
		Video: t.Kind == webrtc.RTPCodecTypeVideo, Simulcast: t.Simulcast}
}

// handleRecording is an admin's start_recording or stop_recording. A
// request that changes nothing is answered, to the sender alone, with
// the current state.
func (p *peer) handleRecording(start bool) {
	if !p.grants.Admin {
		p.sendError(wire.CodePermissionDenied, "only a participant whose token has the admin grant may start or stop recording", "")
		return
	}
	if p.s.cfg.RecordDir == "" {
		p.sendError(wire.CodeRecordingUnavailable, "this server does not record: it has no recording directory", "")
		return
	}
	r := p.room
	r.mu.Lock()
	defer r.mu.Unlock()
	if start {
		if !r.startRecordingLocked(p.id, p.name, wire.RecordingAdmin) {
			p.sendMsg(wire.TypeRecording, r.rec.event())
		}
		return
	}
	if !r.stopRecordingLocked(wire.RecordingAdmin, p.id, p.name) {
		p.sendMsg(wire.TypeRecording, wire.Recording{Active: false, Reason: wire.RecordingAdmin})
	}
}

// recoverRecordings marks what a kill or crash left unfinished under the
// recording directory as interrupted.
func (s *Server) recoverRecordings() {
	if s.cfg.RecordDir == "" {
		return
	}
	changed, err := recording.Recover(s.cfg.RecordDir)
	for _, dir := range changed {
		s.log.Info("recording: marked a recording left unfinished by a stop as interrupted", "dir", dir)
	}
	if err != nil {
		s.log.Error("recording: recovering", "err", err)
	}
}

// idFor returns the id of room's running meeting, waiting up to wait for
// it to open; 0 if the store keeps no meetings or it does not open.
func (t *meetingTracker) idFor(room string, wait time.Duration) int64 {
	if t.st == nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		t.mu.Lock()
		lm := t.live[room]
		t.mu.Unlock()
		if lm != nil {
			select {
			case <-lm.opened:
				t.mu.Lock()
				defer t.mu.Unlock()
				return lm.id
			case <-ctx.Done():
				return 0
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return 0
		}
	}
}

// validateRecording checks the recording settings of a Config.
func (c *Config) validateRecording() error {
	if c.Record.String() != "none" && c.RecordDir == "" {
		return fmt.Errorf("%w: recording rooms (%s) needs a recording directory", ErrConfig, c.Record)
	}
	return nil
}

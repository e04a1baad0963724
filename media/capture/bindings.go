package capture

import (
	"io"
	"log/slog"
	"sync"
)

// bindingSet holds a track's bindings, one per RTPSender, and the
// copy-on-write snapshot of them that the capture pump iterates without
// holding a lock. The owning track's mu guards every method; the pump reads
// sinks under mu and then uses the slice it got.
type bindingSet[B interface{ shutdown() }] struct {
	byID  map[string]B
	sinks []B
}

func newBindingSet[B interface{ shutdown() }]() bindingSet[B] {
	return bindingSet[B]{byID: make(map[string]B)}
}

// put stores b as the binding of sender id and returns the one it
// replaces, if any; the caller shuts that down after unlocking.
func (s *bindingSet[B]) put(id string, b B) (old B, replaced bool) {
	old, replaced = s.byID[id]
	s.byID[id] = b
	s.rebuild()
	return old, replaced
}

// remove takes out the binding of sender id, if any.
func (s *bindingSet[B]) remove(id string) (b B, ok bool) {
	b, ok = s.byID[id]
	if ok {
		delete(s.byID, id)
		s.rebuild()
	}
	return b, ok
}

// takeAll empties the set and returns what it held.
func (s *bindingSet[B]) takeAll() []B {
	all := s.sinks
	s.byID = make(map[string]B)
	s.sinks = nil
	return all
}

func (s *bindingSet[B]) rebuild() {
	sinks := make([]B, 0, len(s.byID))
	for _, b := range s.byID {
		sinks = append(sinks, b)
	}
	s.sinks = sinks
}

// encoderRun is what audio and video bindings share: the encoder and the
// life of the writer goroutine that pulls from it.
type encoderRun struct {
	enc        io.Closer   // the encoder, closed by shutdown
	trackMu    *sync.Mutex // the owning track's mu; guards started
	log        *slog.Logger
	what       string // "opus" or "vp8", for logs
	stop       chan struct{}
	stopOnce   sync.Once
	writerDone chan struct{}
	started    bool // the writer was started; guarded by *trackMu
}

func newEncoderRun(trackMu *sync.Mutex, log *slog.Logger, what string) encoderRun {
	return encoderRun{trackMu: trackMu, log: log, what: what, stop: make(chan struct{}), writerDone: make(chan struct{})}
}

// shutdown stops the writer, waits for it (if it was started: Bind may fail
// after building the encoder) and closes the encoder. It is idempotent and
// safe from any goroutine but the writer's.
func (r *encoderRun) shutdown() {
	r.stopOnce.Do(func() {
		close(r.stop)
		r.trackMu.Lock()
		started := r.started
		r.trackMu.Unlock()
		if started {
			<-r.writerDone
		}
		if r.enc != nil {
			if err := r.enc.Close(); err != nil {
				r.log.Debug("close encoder", "codec", r.what, "err", err)
			}
		}
	})
}

package server

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/wire"
)

// Store writer bounds. A chat message is either stored and delivered soon
// or refused quickly with wire.CodeOverloaded: never queued for seconds.
const (
	// defaultChatQueue is the number of chat messages waiting to be stored
	// beyond which new ones are refused (Config.ChatQueue).
	defaultChatQueue = 4096
	// defaultChatWait is the longest a chat message may wait in the
	// queue (Config.ChatWait); one that waited longer is refused instead
	// of stored, by the writer when it takes the message or by expire,
	// whichever comes first.
	defaultChatWait = time.Second
	// expireEvery is how often expire looks for messages waiting too long.
	expireEvery = 100 * time.Millisecond
	// maxBatch is the most chat messages written in one transaction; it
	// keeps one batch's write and delivery short.
	maxBatch = 256
	// maxEventQueue bounds meeting events waiting to be written; past it
	// events are dropped (and logged) rather than memory grown.
	maxEventQueue = 100_000
	// storeTimeout bounds one batch's transaction.
	storeTimeout = 5 * time.Second
)

// chatReq is a chat message waiting to be stored.
type chatReq struct {
	r      *room
	p      *peer
	msg    store.ChatMessage
	queued time.Time
}

// storeWriter writes chat messages and meeting events through one
// goroutine, many per transaction (group commit), and then delivers the
// stored messages to their rooms in commit order, which is seq order.
//
// Goroutines: chat and event are called by any goroutine and never block
// on I/O; run alone calls the store and hands each committed batch to
// deliver, which sends them out in that order (a pipeline: the next batch
// is written while this one is sent); expire refuses messages that waited
// too long while run is busy. close is called once, by
// Server.Close, after every connection has ended; it waits until what was
// queued is written.
type storeWriter struct {
	s      *Server
	st     store.Store
	limit  int
	queued atomic.Int64 // chat messages waiting, for /metrics
	wake   chan struct{}
	stop   chan struct{}  // closed by close: expire ends
	done   chan struct{}  // closed when run, deliver and expire have ended
	stored chan delivered // from run to deliver, in commit order

	mu     sync.Mutex
	chats  []chatReq
	events []store.Event
	closed bool
}

func newStoreWriter(s *Server) *storeWriter {
	w := &storeWriter{s: s, st: s.cfg.Store, limit: s.cfg.ChatQueue,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		stored: make(chan delivered, 8)}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); defer close(w.stored); w.run() }()
	go func() { defer wg.Done(); w.deliver() }()
	go func() { defer wg.Done(); w.expire() }()
	go func() { wg.Wait(); close(w.done) }()
	return w
}

// expire refuses, with overloaded, the queued chat messages that have
// waited longer than Config.ChatWait, so a sender hears within about that long
// even while the writer is stuck in a slow transaction. The queue is in
// arrival order, so they are at its head.
func (w *storeWriter) expire() {
	tick := time.NewTicker(expireEvery)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case now := <-tick.C:
			w.mu.Lock()
			n := 0
			for n < len(w.chats) && now.Sub(w.chats[n].queued) > w.s.cfg.ChatWait {
				n++
			}
			expired := slices.Clone(w.chats[:n])
			w.chats = append(w.chats[:0], w.chats[n:]...)
			w.queued.Store(int64(len(w.chats)))
			w.mu.Unlock()
			for _, c := range expired {
				w.refuse(c)
			}
		}
	}
}

// refuse tells c's sender that c was not stored because the server is busy.
func (w *storeWriter) refuse(c chatReq) {
	w.s.metrics.overloaded.Add(1)
	c.p.sendError(wire.CodeOverloaded, "the server is busy and did not store the message; send it again shortly", c.msg.ID)
	c.r.settled(1)
}

// settled counts n chat messages of r as delivered or refused; the last
// one of an empty room lets it close.
func (r *room) settled(n int) {
	if r.inflight.Add(int64(-n)) != 0 {
		return
	}
	r.mu.Lock()
	empty := len(r.peers) == 0 && len(r.joining) == 0 && !r.closed
	r.mu.Unlock()
	if empty {
		r.closeIfEmpty()
	}
}

func (w *storeWriter) notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// chat queues m from p in r; false means the queue is full (or the server
// is closing) and m was not queued.
func (w *storeWriter) chat(r *room, p *peer, m store.ChatMessage) bool {
	w.mu.Lock()
	if w.closed || len(w.chats) >= w.limit {
		w.mu.Unlock()
		return false
	}
	w.chats = append(w.chats, chatReq{r: r, p: p, msg: m, queued: time.Now()})
	w.queued.Store(int64(len(w.chats)))
	w.mu.Unlock()
	w.notify()
	return true
}

// event queues e for the meeting log.
func (w *storeWriter) event(e store.Event) {
	w.mu.Lock()
	if w.closed || len(w.events) >= maxEventQueue {
		w.mu.Unlock()
		w.s.log.Error("event log: dropped", "room", e.Room, "kind", e.Kind, "closed", w.closed)
		return
	}
	w.events = append(w.events, e)
	w.mu.Unlock()
	w.notify()
}

// close stops taking work and waits until the queue is written.
func (w *storeWriter) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	w.notify()
	<-w.done
}

func (w *storeWriter) run() {
	for range w.wake {
		for {
			w.mu.Lock()
			n := min(len(w.chats), maxBatch)
			chats := slices.Clone(w.chats[:n])
			w.chats = append(w.chats[:0], w.chats[n:]...)
			w.queued.Store(int64(len(w.chats)))
			events := w.events
			w.events = nil
			closed := w.closed
			w.mu.Unlock()
			if len(chats) == 0 && len(events) == 0 {
				if closed {
					return
				}
				break
			}
			w.write(chats, events)
		}
	}
}

// write stores one batch and hands it to deliver. Messages that waited
// longer than Config.ChatWait are refused with overloaded, not stored.
func (w *storeWriter) write(chats []chatReq, events []store.Event) {
	now := time.Now()
	keep := chats[:0]
	for _, c := range chats {
		if now.Sub(c.queued) > w.s.cfg.ChatWait {
			w.refuse(c)
			continue
		}
		keep = append(keep, c)
	}
	b := store.Batch{Events: events, LogChats: true}
	for _, c := range keep {
		b.Chats = append(b.Chats, c.msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	res, err := w.st.AppendBatch(ctx, b)
	cancel()
	w.s.metrics.storeBatches.Add(1)
	if err != nil {
		w.s.log.Error("store batch", "chats", len(keep), "events", len(events), "err", err)
		for _, c := range keep {
			c.p.sendError(wire.CodeInternal, "the message could not be stored", c.msg.ID)
			c.r.settled(1)
		}
		return
	}
	w.stored <- delivered{keep, res}
}

// delivered is a committed batch: the requests and their results.
type delivered struct {
	reqs []chatReq
	res  []store.ChatResult
}

// deliver sends committed batches out in commit order, room by room, each
// room's messages in seq order under one short hold of its lock.
func (w *storeWriter) deliver() {
	for d := range w.stored {
		w.deliverBatch(d.reqs, d.res)
	}
}

func (w *storeWriter) deliverBatch(keep []chatReq, res []store.ChatResult) {
	var order []*room
	byRoom := map[*room][]int{}
	for i, c := range keep {
		if byRoom[c.r] == nil {
			order = append(order, c.r)
		}
		byRoom[c.r] = append(byRoom[c.r], i)
	}
	for _, r := range order {
		r.mu.Lock()
		for _, i := range byRoom[r] {
			ev := wire.ChatEvent{Message: wireChat(res[i].Msg)}
			if res[i].Dup {
				keep[i].p.sendMsg(wire.TypeChat, ev)
				continue
			}
			r.deliverChatLocked(ev)
			w.s.metrics.chats.Add(1)
		}
		r.mu.Unlock()
		r.settled(len(byRoom[r]))
	}
}

// deliverChatLocked sends a stored message to everyone in the room whose
// joined message did not already hold it, and holds it for those still
// reading their join page; r.mu must be held.
func (r *room) deliverChatLocked(ev wire.ChatEvent) {
	b, err := wire.Encode(wire.TypeChat, ev)
	if err != nil {
		return
	}
	for _, q := range r.peers {
		if ev.Message.Seq > q.chatFloor {
			q.sendRaw(b)
		}
	}
	for _, h := range r.joining {
		h.msgs = append(h.msgs, ev.Message)
	}
}

// chatHold collects the messages delivered in a room while a joining peer
// reads its chat page from the store, so none falls between the page and
// the live messages.
type chatHold struct {
	msgs []wire.ChatMessage
}

// joinPage is the chat a joined message carries.
//
// The page may hold messages that are committed but not yet delivered
// (the store read sees them first); floor, its last seq, keeps those from
// reaching the peer a second time when they are delivered. The page is
// gap-free up to floor, and every message after floor is delivered to the
// peer after it enters the room: the store read starts after the peer is
// registered as joining, so everything delivered before that was committed
// before the read; everything delivered between then and entering is held.
type joinPage struct {
	chat  []wire.ChatMessage
	more  bool  // older messages exist (newest-page mode)
	gap   bool  // more messages follow than chat holds (resume mode)
	floor int64 // the last seq in chat (afterSeq if none)
}

// readJoinChat reads the chat page for a join from the store: with
// afterSeq > 0 the messages after it (up to wire.MaxResumeChat), else the
// newest page. It takes no lock.
func (s *Server) readJoinChat(room string, afterSeq int64) (msgs []store.ChatMessage, more bool, err error) {
	ctx, cancel := s.ctx()
	defer cancel()
	if afterSeq > 0 {
		return s.cfg.Store.ChatAfter(ctx, room, afterSeq, wire.MaxResumeChat)
	}
	return s.cfg.Store.ChatHistory(ctx, room, 0, wire.HistoryPage)
}

// mergeJoinChat joins the page read from the store with the messages held
// while it was read: no duplicates, in seq order, cut to the page size.
func mergeJoinChat(read []store.ChatMessage, readMore bool, held []wire.ChatMessage, afterSeq int64) joinPage {
	all := make([]wire.ChatMessage, 0, len(read)+len(held))
	for _, m := range read {
		all = append(all, wireChat(m))
	}
	for _, m := range held {
		if m.Seq > afterSeq {
			all = append(all, m)
		}
	}
	slices.SortFunc(all, func(a, b wire.ChatMessage) int { return int(a.Seq - b.Seq) })
	all = slices.CompactFunc(all, func(a, b wire.ChatMessage) bool { return a.Seq == b.Seq })
	var page joinPage
	if afterSeq > 0 {
		page = joinPage{chat: all[:min(len(all), wire.MaxResumeChat)], gap: readMore || len(all) > wire.MaxResumeChat}
	} else {
		page = joinPage{chat: all[max(0, len(all)-wire.HistoryPage):], more: readMore || len(all) > wire.HistoryPage}
	}
	page.floor = afterSeq
	if len(page.chat) > 0 {
		page.floor = page.chat[len(page.chat)-1].Seq
	}
	return page
}

func wireChat(m store.ChatMessage) wire.ChatMessage {
	return wire.ChatMessage{Seq: m.Seq, ID: m.ID, From: m.From, Name: m.Name, Text: m.Text, At: m.At.UnixMilli()}
}

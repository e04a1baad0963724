package client

import (
	"sync"
	"time"
)

// abandonAfter is how long undelivered events are kept after the session
// ends before the queue gives up on a consumer that stopped reading.
const abandonAfter = 5 * time.Second

// eventQueue delivers events in order on a channel without ever blocking
// the producer: events wait in a slice until the consumer takes them.
type eventQueue struct {
	out    chan Event
	signal chan struct{}
	mu     sync.Mutex
	items  []Event
	closed bool
	gone   chan struct{}
	done   chan struct{}
}

func newEventQueue() *eventQueue {
	q := &eventQueue{out: make(chan Event), signal: make(chan struct{}, 1), gone: make(chan struct{}), done: make(chan struct{})}
	go q.run()
	return q
}

func (q *eventQueue) push(ev Event) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.items = append(q.items, ev)
	q.mu.Unlock()
	q.wake()
}

func (q *eventQueue) wake() {
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// close delivers what is queued, then closes the channel; a consumer that
// does not read within abandonAfter loses the rest.
func (q *eventQueue) close() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	q.mu.Unlock()
	time.AfterFunc(abandonAfter, func() { close(q.gone) })
	q.wake()
}

func (q *eventQueue) run() {
	defer close(q.done)
	defer close(q.out)
	for {
		q.mu.Lock()
		if len(q.items) == 0 {
			closed := q.closed
			q.mu.Unlock()
			if closed {
				return
			}
			<-q.signal
			continue
		}
		ev := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		q.mu.Unlock()
		select {
		case q.out <- ev:
		case <-q.gone:
			return
		}
	}
}

package calls

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/confab/confab/signaling/internal/serverurl"
	"github.com/confab/confab/signaling/internal/wsframe"
	"github.com/confab/confab/signaling/wire"
)

// Client errors; match them with errors.Is.
var (
	// ErrUnreachable reports a server that could not be reached, or a
	// connection that dropped before an answer.
	ErrUnreachable = errors.New("calls: server unreachable")
	// ErrNoPresence reports a server without presence (too old).
	ErrNoPresence = errors.New("calls: the server has no presence")
	// ErrClosed reports a use of a closed client.
	ErrClosed = errors.New("calls: client closed")
)

// Event is one thing the server said: *Ready (again after a reconnect),
// PersonOnline, PersonUpdated, PersonOffline, *CallMsg (a call changed;
// an incoming call is one whose Member(you).State is ringing), *Error (not
// the answer to a request) or Disconnected.
type Event any

// PersonOnline says someone came online.
type PersonOnline struct{ Person }

// PersonUpdated says someone changed: their name, or busy.
type PersonUpdated struct{ Person }

// Disconnected says the connection dropped; the client reconnects by
// itself and a *Ready follows when it is back.
type Disconnected struct{ Err error }

// Client is one presence connection: it keeps its owner online on the
// server, delivers people and calls on Events, and makes and answers
// calls. It reconnects after a drop until Close. Its methods are safe for
// concurrent use.
type Client struct {
	server string
	hello  Hello
	events chan Event
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
	refs   atomic.Uint64

	mu      sync.Mutex
	ws      *websocket.Conn
	ready   Ready
	pending map[string]chan any // by ref: *CallMsg or *Error
}

// Dial connects to server (an address such as "127.0.0.1:7880" or
// "https://confab.example.com") and signs in with hello. It returns once
// the server has answered with Ready; a refusal is an *Error.
func Dial(ctx context.Context, server string, hello Hello) (*Client, error) {
	if err := hello.Validate(); err != nil {
		return nil, err
	}
	ws, ready, err := dial(ctx, server, hello)
	if err != nil {
		return nil, err
	}
	c := &Client{server: server, hello: hello, events: make(chan Event, 1024), stop: make(chan struct{}),
		done: make(chan struct{}), ws: ws, ready: *ready, pending: map[string]chan any{}}
	go c.run(ws)
	return c, nil
}

// dial opens the websocket, sends hello and reads the answer.
func dial(ctx context.Context, server string, hello Hello) (*websocket.Conn, *Ready, error) {
	u, err := serverurl.Parse(server)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	ws, b, err := wsframe.Dial(ctx, serverurl.WS(u, Path), 16<<20, TypeHello, hello)
	if err != nil {
		if r := (*wsframe.Refused)(nil); errors.As(err, &r) {
			var e Error
			if json.Unmarshal(r.Body, &e) == nil && e.Code != "" {
				return nil, nil, &e
			}
			if r.Status == http.StatusNotFound {
				return nil, nil, ErrNoPresence
			}
		}
		return nil, nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	ev, err := decodeEvent(b)
	if err != nil {
		ws.Close()
		return nil, nil, err
	}
	switch ev := ev.(type) {
	case *Ready:
		return ws, ev, nil
	case *Error:
		ws.Close()
		return nil, nil, ev
	default:
		ws.Close()
		return nil, nil, fmt.Errorf("calls: the server answered hello with %T", ev)
	}
}

// decodeEvent turns a frame into an Event; nil for a type it does not know.
func decodeEvent(b []byte) (Event, error) {
	var env wire.Envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("calls: %w", err)
	}
	var v any
	switch env.Type {
	case TypeReady:
		v = &Ready{}
	case TypePersonOnline:
		v = &Person{}
	case TypePersonUpdated:
		v = &Person{}
	case TypePersonOffline:
		v = &PersonOffline{}
	case TypeCall:
		v = &CallMsg{}
	case TypeError:
		v = &Error{}
	default:
		return nil, nil // a later version's message
	}
	if err := json.Unmarshal(env.Data, v); err != nil {
		return nil, fmt.Errorf("calls: %s: %w", env.Type, err)
	}
	switch env.Type {
	case TypePersonOnline:
		return PersonOnline{*v.(*Person)}, nil
	case TypePersonUpdated:
		return PersonUpdated{*v.(*Person)}, nil
	case TypePersonOffline:
		return *v.(*PersonOffline), nil
	}
	return v, nil
}

// Ready returns the server's latest answer to hello: who you are, who was
// online then, the ring timeout.
func (c *Client) Ready() Ready {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ready
}

// Me returns your identity and name on this server.
func (c *Client) Me() Person { return c.Ready().You }

// Events delivers what the server says, in order. It is closed after
// Close, or after a reconnect the server refused (an *Error is the last
// event then). A reader that falls 1024 events behind loses the oldest.
func (c *Client) Events() <-chan Event { return c.events }

// run reads the connection, then reconnects until stopped.
func (c *Client) run(ws *websocket.Conn) {
	defer close(c.done)
	defer close(c.events)
	wait := 250 * time.Millisecond
	for {
		err := c.read(ws)
		c.failPending()
		select {
		case <-c.stop:
			return
		default:
		}
		c.emit(Disconnected{Err: err})
		for {
			select {
			case <-c.stop:
				return
			case <-time.After(wait):
			}
			wait = min(wait*2, 5*time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			next, ready, err := dial(ctx, c.server, c.hello)
			cancel()
			var e *Error
			if errors.As(err, &e) && e.Code != CodeTooManyConnections && e.Code != wire.CodeOverloaded && e.Code != wire.CodeInternal {
				c.emit(e)
				return
			}
			if err != nil {
				continue
			}
			c.mu.Lock()
			select {
			case <-c.stop:
				c.mu.Unlock()
				next.Close()
				return
			default:
			}
			c.ws, c.ready = next, *ready
			c.mu.Unlock()
			ws, wait = next, 250*time.Millisecond
			c.emit(ready)
			break
		}
	}
}

// read delivers ws's events and answers until it fails.
func (c *Client) read(ws *websocket.Conn) error {
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return err
		}
		ev, err := decodeEvent(b)
		if err != nil || ev == nil {
			continue
		}
		ref := ""
		switch ev := ev.(type) {
		case *CallMsg:
			ref = ev.Ref
		case *Error:
			ref = ev.Ref
		}
		if ref != "" {
			c.mu.Lock()
			ch := c.pending[ref]
			delete(c.pending, ref)
			c.mu.Unlock()
			if ch != nil {
				ch <- ev
				continue
			}
		}
		c.emit(ev)
	}
}

// failPending answers the requests in flight with ErrUnreachable.
func (c *Client) failPending() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ref, ch := range c.pending {
		ch <- fmt.Errorf("%w: the connection dropped", ErrUnreachable)
		delete(c.pending, ref)
	}
}

// emit queues ev; a reader that does not keep up loses the oldest.
func (c *Client) emit(ev Event) {
	select {
	case c.events <- ev:
	default:
		select {
		case <-c.events:
		default:
		}
		c.events <- ev
	}
}

// send writes one frame on the current connection.
func (c *Client) send(typ string, data any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.stop:
		return ErrClosed
	default:
	}
	if err := wsframe.Write(c.ws, typ, data); err != nil {
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return nil
}

// request sends a request with a fresh ref and waits for its answer.
func (c *Client) request(ctx context.Context, typ string, build func(ref string) any) (*CallMsg, error) {
	ref := "r" + strconv.FormatUint(c.refs.Add(1), 10)
	ch := make(chan any, 1)
	c.mu.Lock()
	c.pending[ref] = ch
	c.mu.Unlock()
	if err := c.send(typ, build(ref)); err != nil {
		c.mu.Lock()
		delete(c.pending, ref)
		c.mu.Unlock()
		return nil, err
	}
	select {
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.pending, ref)
		c.mu.Unlock()
		return nil, ctx.Err()
	case <-c.done:
		return nil, ErrClosed
	case v := <-ch:
		switch v := v.(type) {
		case *CallMsg:
			return v, nil
		case *Error:
			return nil, v
		case error:
			return nil, v
		}
		return nil, fmt.Errorf("calls: unexpected answer %T", v)
	}
}

// Call starts a call of kind (KindVideo or KindAudio) to the people with
// the identities to. The answer carries the call (each invitee ringing, or
// busy) and Join, the caller's way into the call's room.
func (c *Client) Call(ctx context.Context, kind string, to ...string) (*CallMsg, error) {
	return c.request(ctx, TypeInvite, func(ref string) any { return Invite{Ref: ref, To: to, Kind: kind} })
}

// InviteMore asks more people into call, which you are in.
func (c *Client) InviteMore(ctx context.Context, call string, to ...string) (*CallMsg, error) {
	return c.request(ctx, TypeInvite, func(ref string) any { return Invite{Ref: ref, Call: call, To: to} })
}

// Accept answers an invitation ringing for you; the answer's Join lets
// you into the call's room.
func (c *Client) Accept(ctx context.Context, call string) (*CallMsg, error) {
	return c.request(ctx, TypeAccept, func(ref string) any { return Answer{Ref: ref, Call: call} })
}

// Decline refuses an invitation ringing for you.
func (c *Client) Decline(ctx context.Context, call string) (*CallMsg, error) {
	return c.request(ctx, TypeDecline, func(ref string) any { return Answer{Ref: ref, Call: call} })
}

// Cancel withdraws invitations still ringing: those to the identities to,
// or every one you made (all of them, for the caller) when to is empty.
func (c *Client) Cancel(ctx context.Context, call string, to ...string) (*CallMsg, error) {
	return c.request(ctx, TypeCancel, func(ref string) any { return Answer{Ref: ref, Call: call, To: to} })
}

// Hangup leaves call on purpose (leaving its room does too).
func (c *Client) Hangup(ctx context.Context, call string) (*CallMsg, error) {
	return c.request(ctx, TypeHangup, func(ref string) any { return Answer{Ref: ref, Call: call} })
}

// SetBusy says you are in a call the server cannot see (a room joined by
// name), so invitations get busy; no answer follows.
func (c *Client) SetBusy(busy bool) error { return c.send(TypeSetBusy, SetBusy{Busy: busy}) }

// Close goes offline: the connection closes and Events is closed.
func (c *Client) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		close(c.stop)
		if c.ws != nil {
			_ = c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			c.ws.Close()
		}
		c.mu.Unlock()
	})
	<-c.done
	return nil
}

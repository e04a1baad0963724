package support

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/confab/confab/signaling/internal/serverurl"
	"github.com/confab/confab/signaling/internal/wsframe"
	"github.com/confab/confab/signaling/wire"
)

// Client errors; match them with errors.Is.
var (
	// ErrUnreachable reports a server that could not be reached.
	ErrUnreachable = errors.New("support: server unreachable")
	// ErrNoSupport reports a server without the support desk (too old).
	ErrNoSupport = errors.New("support: the server has no support desk")
	// ErrClosed reports a use of a closed connection.
	ErrClosed = errors.New("support: connection closed")
)

// Event is one thing the server said: one of *Ready, *Summary, *Message,
// *History, *Video, *CustomerEntered, *VideoEnded, *Closed,
// *ConversationState, *Error, or Disconnected/Reconnected of an agent's
// connection.
type Event any

// Disconnected says an agent's connection dropped; it reconnects by
// itself (a Ready follows when it is back).
type Disconnected struct{ Err error }

// Endpoints returns the HTTP base (http://host:port) and the websocket
// base (ws://host:port) of a server address such as "127.0.0.1:7880" or
// "https://confab.example.com".
func Endpoints(server string) (base, ws string, err error) {
	u, err := serverurl.Parse(server)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return u.String(), serverurl.WS(u, ""), nil
}

// decodeEvent turns a frame from the server into an Event.
func decodeEvent(b []byte, agent bool) (Event, error) {
	var env wire.Envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, err
	}
	var v any
	switch env.Type {
	case TypeReady:
		v = &Ready{}
	case TypeConversation:
		if agent {
			v = &Summary{}
		} else {
			v = &ConversationState{}
		}
	case TypeMessage:
		v = &Message{}
	case TypeHistory:
		v = &History{}
	case TypeVideo:
		v = &Video{}
	case TypeCustomerEntered:
		v = &CustomerEntered{}
	case TypeVideoEnded:
		v = &VideoEnded{}
	case TypeClosed:
		v = &Closed{}
	case TypeError:
		v = &Error{}
	default:
		return nil, nil // a later version's message: ignored
	}
	if err := json.Unmarshal(env.Data, v); err != nil {
		return nil, fmt.Errorf("%s: %w", env.Type, err)
	}
	return v, nil
}

// dial opens the websocket at path, sends first and waits for the first
// answer, which must not be an error.
func dial(ctx context.Context, server, path, typ string, first any, agent bool) (*websocket.Conn, Event, error) {
	_, ws, err := Endpoints(server)
	if err != nil {
		return nil, nil, err
	}
	c, msg, err := wsframe.Dial(ctx, ws+path, 4<<20, typ, first)
	if err != nil {
		if r := (*wsframe.Refused)(nil); errors.As(err, &r) {
			var e Error
			if json.Unmarshal(r.Body, &e) == nil && e.Code != "" {
				return nil, nil, &e
			}
			if r.Status == http.StatusNotFound {
				return nil, nil, ErrNoSupport
			}
		}
		return nil, nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	ev, err := decodeEvent(msg, agent)
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("support: %w", err)
	}
	if e, ok := ev.(*Error); ok {
		c.Close()
		return nil, nil, e
	}
	return c, ev, nil
}

// conn is one websocket with a writer lock; its reader is its owner's.
type conn struct {
	mu sync.Mutex
	ws *websocket.Conn
}

func (c *conn) send(typ string, data any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ws == nil {
		return ErrClosed
	}
	return wsframe.Write(c.ws, typ, data)
}

// Agent is a signed-in agent's connection. It reconnects by itself after
// a drop (Disconnected, then Ready again) until Close. Its methods are safe
// for concurrent use; events arrive in order on Events.
type Agent struct {
	server, key string
	events      chan Event
	stop        chan struct{}
	done        chan struct{}
	once        sync.Once

	c conn
	// Info is the signed-in agent.
	Info AgentInfo
}

// DialAgent signs in at server with key and returns the connection once
// the server has answered with Ready (the first event). A wrong key is an
// *Error with CodeAgentKeyInvalid.
func DialAgent(ctx context.Context, server, key string) (*Agent, error) {
	ws, ev, err := dial(ctx, server, "/api/agent/ws", TypeAuth, Auth{Key: key}, true)
	if err != nil {
		return nil, err
	}
	ready, ok := ev.(*Ready)
	if !ok {
		ws.Close()
		return nil, fmt.Errorf("support: the server answered sign-in with %T", ev)
	}
	a := &Agent{server: server, key: key, events: make(chan Event, 1024), stop: make(chan struct{}), done: make(chan struct{}), Info: ready.Agent}
	a.c.ws = ws
	a.events <- ready
	go a.run(ws)
	return a, nil
}

// Events delivers what the server says, in order. It is closed after
// Close (or a refused reconnect: an *Error is the last event then).
func (a *Agent) Events() <-chan Event { return a.events }

// run reads ws, then reconnects until stopped.
func (a *Agent) run(ws *websocket.Conn) {
	defer close(a.done)
	defer close(a.events)
	wait := 250 * time.Millisecond
	for {
		err := a.read(ws)
		select {
		case <-a.stop:
			return
		default:
		}
		a.emit(Disconnected{Err: err})
		for {
			select {
			case <-a.stop:
				return
			case <-time.After(wait):
			}
			wait = min(wait*2, 5*time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			next, ev, err := dial(ctx, a.server, "/api/agent/ws", TypeAuth, Auth{Key: a.key}, true)
			cancel()
			var e *Error
			if errors.As(err, &e) && e.Code == CodeAgentKeyInvalid {
				a.emit(e)
				return
			}
			if err != nil {
				continue
			}
			a.c.mu.Lock()
			select {
			case <-a.stop:
				a.c.mu.Unlock()
				next.Close()
				return
			default:
			}
			a.c.ws = next
			a.c.mu.Unlock()
			ws, wait = next, 250*time.Millisecond
			a.emit(ev)
			break
		}
	}
}

// read delivers ws's events until it fails.
func (a *Agent) read(ws *websocket.Conn) error {
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return err
		}
		ev, err := decodeEvent(b, true)
		if err != nil || ev == nil {
			continue
		}
		a.emit(ev)
	}
}

// emit queues ev; a reader that does not keep up loses the oldest.
func (a *Agent) emit(ev Event) {
	select {
	case a.events <- ev:
	default:
		select {
		case <-a.events:
		default:
		}
		a.events <- ev
	}
}

// Send sends text to the conversation with a new message id, which it
// returns; the stored message comes back as a *Message.
func (a *Agent) Send(conversation, id, text string) error {
	return a.c.send(TypeSend, Send{Conversation: conversation, ID: id, Text: text})
}

// Open asks for the newest page of a conversation (before 0) or the one
// before seq before; a *History answers.
func (a *Agent) Open(conversation string, before int64) error {
	return a.c.send(TypeOpen, Open{Conversation: conversation, Before: before})
}

// MarkRead marks the conversation read up to seq.
func (a *Agent) MarkRead(conversation string, seq int64) error {
	return a.c.send(TypeRead, Read{Conversation: conversation, Seq: seq})
}

// StartVideo starts a video call for the conversation; a *Video answers
// (or an *Error such as CodeAgentBusy).
func (a *Agent) StartVideo(conversation string) error {
	return a.c.send(TypeStartVideo, ConversationRef{Conversation: conversation})
}

// EndVideo ends the agent's video call; a *VideoEnded answers.
func (a *Agent) EndVideo() error { return a.c.send(TypeEndVideo, struct{}{}) }

// CloseConversation closes the conversation.
func (a *Agent) CloseConversation(conversation string) error {
	return a.c.send(TypeClose, ConversationRef{Conversation: conversation})
}

// Close signs out: the connection closes and Events is closed.
func (a *Agent) Close() error {
	a.once.Do(func() {
		close(a.stop)
		a.c.mu.Lock()
		if a.c.ws != nil {
			a.c.ws.Close()
		}
		a.c.mu.Unlock()
	})
	<-a.done
	return nil
}

// NewConversation is the answer to CreateConversation.
type NewConversation struct {
	Conversation string `json:"conversation"`
	Key          string `json:"key"`
}

// CreateConversation opens a support conversation at server as a customer
// would from the widget: name, optional email, first message.
func CreateConversation(ctx context.Context, server, name, email, text string) (NewConversation, error) {
	base, _, err := Endpoints(server)
	if err != nil {
		return NewConversation{}, err
	}
	body, _ := json.Marshal(map[string]string{"name": name, "email": email, "text": text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/support/conversations", bytes.NewReader(body))
	if err != nil {
		return NewConversation{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return NewConversation{}, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusCreated {
		var e Error
		if json.Unmarshal(raw, &e) == nil && e.Code != "" {
			return NewConversation{}, &e
		}
		return NewConversation{}, fmt.Errorf("%w: %s", ErrNoSupport, resp.Status)
	}
	var nc NewConversation
	if err := json.Unmarshal(raw, &nc); err != nil || nc.Conversation == "" {
		return NewConversation{}, fmt.Errorf("support: unreadable answer")
	}
	return nc, nil
}

// Customer is a customer's connection to their conversation (tests and
// tools; the widget is the browser's). It does not reconnect.
type Customer struct {
	c      conn
	events chan Event
	done   chan struct{}
	// State is the conversation as resumed.
	State ConversationState
}

// DialCustomer resumes the conversation with its key; a wrong one is an
// *Error with CodeSupportKeyInvalid.
func DialCustomer(ctx context.Context, server, conversation, key string, after int64) (*Customer, error) {
	ws, ev, err := dial(ctx, server, "/api/support/ws", TypeResume, Resume{Conversation: conversation, Key: key, After: after}, false)
	if err != nil {
		return nil, err
	}
	st, ok := ev.(*ConversationState)
	if !ok {
		ws.Close()
		return nil, fmt.Errorf("support: the server answered resume with %T", ev)
	}
	cu := &Customer{events: make(chan Event, 1024), done: make(chan struct{}), State: *st}
	cu.c.ws = ws
	go func() {
		defer close(cu.done)
		defer close(cu.events)
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if ev, err := decodeEvent(b, false); err == nil && ev != nil {
				select {
				case cu.events <- ev:
				default:
				}
			}
		}
	}()
	return cu, nil
}

// Events delivers what the server says after the resume; it is closed
// when the connection ends.
func (cu *Customer) Events() <-chan Event { return cu.events }

// Send sends text with message id id.
func (cu *Customer) Send(id, text string) error { return cu.c.send(TypeSend, Send{ID: id, Text: text}) }

// Close closes the connection.
func (cu *Customer) Close() error {
	cu.c.mu.Lock()
	ws := cu.c.ws
	cu.c.ws = nil
	cu.c.mu.Unlock()
	if ws != nil {
		ws.Close()
	}
	<-cu.done
	return nil
}

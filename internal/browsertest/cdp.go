package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/gorilla/websocket"
)

// ErrClosed is returned by calls on a DevTools connection that has ended.
var ErrClosed = errors.New("browsertest: devtools connection closed")

// conn is one DevTools-protocol websocket to the browser, in flattened
// session mode: page sessions are addressed by sessionId on the same
// socket. Its reader goroutine alone reads the socket; writes are
// serialised by wmu.
type conn struct {
	ws   *websocket.Conn
	done chan struct{}

	wmu sync.Mutex

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan response
	onEvent func(sessionID, method string, params json.RawMessage)
	err     error
}

type request struct {
	ID        int64  `json:"id"`
	Method    string `json:"method"`
	Params    any    `json:"params,omitempty"`
	SessionID string `json:"sessionId,omitempty"`
}

type response struct {
	ID        int64           `json:"id"`
	Result    json.RawMessage `json:"result"`
	Error     *cdpError       `json:"error"`
	Method    string          `json:"method"`
	Params    json.RawMessage `json:"params"`
	SessionID string          `json:"sessionId"`
}

type cdpError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    string `json:"data"`
}

func (e *cdpError) Error() string {
	if e.Data != "" {
		return fmt.Sprintf("devtools error %d: %s (%s)", e.Code, e.Message, e.Data)
	}
	return fmt.Sprintf("devtools error %d: %s", e.Code, e.Message)
}

// dial connects to the browser's DevTools websocket URL. onEvent, when not
// nil, is called on the reader goroutine for every event.
func dial(ctx context.Context, url string, onEvent func(sessionID, method string, params json.RawMessage)) (*conn, error) {
	d := websocket.Dialer{}
	ws, _, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("devtools websocket %s: %w", url, err)
	}
	c := &conn{ws: ws, done: make(chan struct{}), pending: map[int64]chan response{}, onEvent: onEvent}
	go c.read()
	return c, nil
}

func (c *conn) read() {
	defer close(c.done)
	for {
		var r response
		if err := c.ws.ReadJSON(&r); err != nil {
			c.mu.Lock()
			c.err = err
			for id, ch := range c.pending {
				close(ch)
				delete(c.pending, id)
			}
			c.mu.Unlock()
			return
		}
		if r.ID == 0 {
			if c.onEvent != nil {
				c.onEvent(r.SessionID, r.Method, r.Params)
			}
			continue
		}
		c.mu.Lock()
		ch := c.pending[r.ID]
		delete(c.pending, r.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
}

// call sends method with params in session (""= the browser) and decodes
// the result into out (when not nil).
func (c *conn) call(ctx context.Context, session, method string, params, out any) error {
	ch := make(chan response, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return fmt.Errorf("%w: %v", ErrClosed, c.err)
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()

	c.wmu.Lock()
	err := c.ws.WriteJSON(request{ID: id, Method: method, Params: params, SessionID: session})
	c.wmu.Unlock()
	if err != nil {
		c.forget(id)
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: %w", method, ErrClosed)
		}
		if r.Error != nil {
			return fmt.Errorf("%s: %w", method, r.Error)
		}
		if out != nil {
			if err := json.Unmarshal(r.Result, out); err != nil {
				return fmt.Errorf("%s: decode result: %w", method, err)
			}
		}
		return nil
	case <-ctx.Done():
		c.forget(id)
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

func (c *conn) forget(id int64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// close ends the connection and waits for the reader. It is idempotent.
func (c *conn) close() {
	_ = c.ws.Close()
	<-c.done
}

// Package wsframe is what the presence (signaling/calls) and support-desk
// (signaling/support) websocket clients, and the server's side of them,
// share: one message per text frame in the protocol's envelope, and the
// opening handshake (dial, first message out, first answer in).
package wsframe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/gorilla/websocket"

	"github.com/confab/confab/signaling/wire"
)

// WriteWait bounds the writing of one frame.
const WriteWait = 10 * time.Second

// Encode makes one frame: data as the envelope's data, typ as its type.
func Encode(typ string, data any) ([]byte, error) {
	d, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	return json.Marshal(wire.Envelope{V: wire.ProtocolVersion, Type: typ, Data: d})
}

// Write sends one frame on ws, within WriteWait. The caller is ws's one
// writer at a time.
func Write(ws *websocket.Conn, typ string, data any) error {
	b, err := Encode(typ, data)
	if err != nil {
		return err
	}
	_ = ws.SetWriteDeadline(time.Now().Add(WriteWait))
	return ws.WriteMessage(websocket.TextMessage, b)
}

// Refused is a server that answered the websocket upgrade with an HTTP
// status instead: Body holds up to 4 KiB of its answer (a JSON error in
// the protocol's shape, usually).
type Refused struct {
	Status int
	Body   []byte
	Err    error
}

func (r *Refused) Error() string { return fmt.Sprintf("HTTP %d: %v", r.Status, r.Err) }
func (r *Refused) Unwrap() error { return r.Err }

// Dial opens the websocket at url with a read limit of limit bytes, sends
// first (a frame of typ) and returns the server's first frame, read
// before ctx's deadline (or within 15 s). An upgrade the server refused
// is a *Refused; any other failure is the transport's error. On error the
// socket is closed.
func Dial(ctx context.Context, url string, limit int64, typ string, first any) (*websocket.Conn, []byte, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			return nil, nil, &Refused{Status: resp.StatusCode, Body: body, Err: err}
		}
		return nil, nil, err
	}
	ws.SetReadLimit(limit)
	if err := Write(ws, typ, first); err != nil {
		ws.Close()
		return nil, nil, err
	}
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(15 * time.Second)
	}
	_ = ws.SetReadDeadline(dl)
	_, b, err := ws.ReadMessage()
	if err != nil {
		ws.Close()
		return nil, nil, err
	}
	_ = ws.SetReadDeadline(time.Time{})
	return ws, b, nil
}

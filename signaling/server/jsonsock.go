package server

import (
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/confab/confab/signaling/internal/wsframe"
)

// Timing shared by the presence and support-desk websockets.
const (
	sockPing      = 15 * time.Second // a ping this often
	sockWriteWait = 10 * time.Second // for one frame to go out
)

// jsonSocket is the sending half shared by the presence (online.go) and
// support-desk (supportconn.go) websockets: a bounded queue of frames that
// one writer goroutine sends, pings, and a close that first flushes the
// queue and then sends a close frame. A client that cannot keep up (queue
// full) is dropped. Its reader is the owning connection's.
type jsonSocket struct {
	ws   *websocket.Conn
	send chan []byte
	quit chan struct{}
	once sync.Once
	// code and reason are the close frame's, set once by shut before quit
	// closes (so the writer reads them after quit).
	code   int
	reason string
}

func newJSONSocket(ws *websocket.Conn, queue int) jsonSocket {
	return jsonSocket{ws: ws, send: make(chan []byte, queue), quit: make(chan struct{})}
}

// encodeFrame makes one frame in the protocol's envelope.
var encodeFrame = wsframe.Encode

// enqueue queues a frame; a full queue drops the connection. It never
// blocks, so it may be called under a hub's lock.
func (s *jsonSocket) enqueue(b []byte) {
	select {
	case <-s.quit:
	case s.send <- b:
	default:
		s.shut(websocket.ClosePolicyViolation, "too slow")
	}
}

// sendMsg queues one message.
func (s *jsonSocket) sendMsg(typ string, data any) {
	if b, err := encodeFrame(typ, data); err == nil {
		s.enqueue(b)
	}
}

// shut ends the connection once: the writer flushes the queue, sends a
// close frame with code and reason and closes the socket, which ends the
// reader. It never blocks.
func (s *jsonSocket) shut(code int, reason string) {
	s.once.Do(func() {
		s.code, s.reason = code, reason
		close(s.quit)
	})
}

// writePump is the connection's one writer; it returns (and closes the
// socket) after shut or a failed write.
func (s *jsonSocket) writePump() {
	defer s.ws.Close()
	ping := time.NewTicker(sockPing)
	defer ping.Stop()
	write := func(b []byte) error {
		_ = s.ws.SetWriteDeadline(time.Now().Add(sockWriteWait))
		return s.ws.WriteMessage(websocket.TextMessage, b)
	}
	for {
		select {
		case b := <-s.send:
			if err := write(b); err != nil {
				s.shut(websocket.CloseGoingAway, "write failed")
				return
			}
		case <-ping.C:
			if err := s.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(sockWriteWait)); err != nil {
				s.shut(websocket.CloseGoingAway, "ping failed")
				return
			}
		case <-s.quit:
			for flushing := true; flushing; {
				select {
				case b := <-s.send:
					if write(b) != nil {
						return
					}
				default:
					flushing = false
				}
			}
			_ = s.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(s.code, s.reason), time.Now().Add(time.Second))
			return
		}
	}
}

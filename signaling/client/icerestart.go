package client

import (
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/confab/confab/signaling/wire"
)

const (
	// iceAskAfter is how long media may be disconnected before the client
	// asks the server for an ICE restart (at once when ICE has failed).
	iceAskAfter = 2 * time.Second
	// iceAskEvery spaces further requests while media stays down.
	iceAskEvery = 5 * time.Second
)

// iceWatch asks the server for ICE restarts while this connection's media
// is down and its websocket lives. Its mu guards it; the timer's callback
// only queues a message.
type iceWatch struct {
	mu    sync.Mutex
	down  bool
	timer *time.Timer
	ended bool
}

// watchICE hooks the PeerConnection's ICE state.
func (c *conn) watchICE() {
	c.pc.OnICEConnectionStateChange(func(st webrtc.ICEConnectionState) {
		w := &c.ice
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.ended {
			return
		}
		switch st {
		case webrtc.ICEConnectionStateConnected, webrtc.ICEConnectionStateCompleted:
			w.down = false
			if w.timer != nil {
				w.timer.Stop()
				w.timer = nil
			}
		case webrtc.ICEConnectionStateDisconnected, webrtc.ICEConnectionStateFailed:
			w.down = true
			wait := iceAskAfter
			if st == webrtc.ICEConnectionStateFailed {
				wait = 0
			}
			if w.timer == nil {
				w.timer = time.AfterFunc(wait, c.askICERestart)
			} else if wait == 0 {
				w.timer.Reset(0)
			}
		}
	})
}

func (c *conn) askICERestart() {
	w := &c.ice
	w.mu.Lock()
	if w.ended || !w.down {
		w.timer = nil
		w.mu.Unlock()
		return
	}
	w.timer = time.AfterFunc(iceAskEvery, c.askICERestart)
	w.mu.Unlock()
	c.s.log.Info("media stopped; asking the server for an ICE restart")
	c.sendMsg(wire.TypeRenegotiate, wire.Renegotiate{ICERestart: true})
}

// stopICEWatch ends the requests; shutdown calls it.
func (c *conn) stopICEWatch() {
	w := &c.ice
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ended = true
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

package client

import (
	"time"

	"github.com/confab/confab/signaling/internal/icewatch"
	"github.com/confab/confab/signaling/wire"
)

const (
	// iceAskAfter is how long media may be disconnected before the client
	// asks the server for an ICE restart (at once when ICE has failed).
	iceAskAfter = 2 * time.Second
	// iceAskEvery spaces further requests while media stays down.
	iceAskEvery = 5 * time.Second
)

// watchICE asks the server for ICE restarts while this connection's media
// is down and its websocket lives (PROTOCOL.md §8.1).
func (c *conn) watchICE() {
	c.ice = icewatch.New(iceAskAfter, iceAskEvery, func(time.Duration) {
		c.s.log.Info("media stopped; asking the server for an ICE restart")
		c.sendMsg(wire.TypeRenegotiate, wire.Renegotiate{ICERestart: true})
	})
	c.pc.OnICEConnectionStateChange(c.ice.State)
}

package sfu

import (
	"net"
	"net/netip"
	"sync"

	"github.com/pion/transport/v4"
)

// Batcher groups the datagrams the SFU writes while it fans one packet
// out to its subscribers, so that they leave in one sendmmsg(2) call
// instead of one sendto(2) each. Begin and End bracket a fan-out; they
// may be called from several forwarding goroutines at once. The Engine
// is one.
type Batcher interface {
	Begin()
	End()
}

// batchSize is the most datagrams one sendmmsg call carries; a fan-out
// to more subscribers is sent in several.
const batchSize = 64

// batchBuf is the largest datagram that is queued; a larger one (never
// an SRTP packet of the SFU's, which are at most maxPacket plus the SRTP
// tag) is written at once, after what is queued.
const batchBuf = maxPacket + 64

// batchConn is the media UDP socket. Outside a fan-out it writes each
// datagram at once, as a plain socket does. Between Begin and End it
// queues them (copied: pion reuses its buffers) and End sends the queue
// with sendmmsg (batchSender: on Linux a raw sendmmsg(2) over headers
// filled as each datagram is queued; elsewhere x/net's
// ipv4.PacketConn.WriteBatch, one by one where that is missing); datagrams that
// other goroutines write meanwhile (RTCP, ICE checks) join the queue
// and leave at the same End, microseconds later. No datagram waits for
// more than the fan-out it was written during: End flushes whatever is
// queued, and nothing is queued while no fan-out is open.
//
// mu guards the queue and is held across sendmmsg: a socket's writes are
// serialized by the kernel as well, and keeping the queue's order needs
// it; writes outside a fan-out do not take it for the syscall.
type batchConn struct {
	*net.UDPConn

	mu   sync.Mutex
	open int // fan-outs begun and not ended
	n    int // datagrams queued
	q    batchSender
}

func newBatchConn(c *net.UDPConn) *batchConn {
	b := &batchConn{UDPConn: c}
	b.q.init(c)
	return b
}

// Begin opens a fan-out: datagrams are queued until the matching End.
func (b *batchConn) Begin() {
	b.mu.Lock()
	b.open++
	b.mu.Unlock()
}

// End closes a fan-out and sends what is queued.
func (b *batchConn) End() {
	b.mu.Lock()
	if b.open > 0 {
		b.open--
	}
	if b.n > 0 {
		b.flushLocked()
	}
	b.mu.Unlock()
}

// WriteTo writes (or queues) one datagram to addr.
func (b *batchConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return b.UDPConn.WriteTo(p, addr)
	}
	return b.WriteToAddrPort(p, ua.AddrPort())
}

// ReadFromAddrPort and WriteToAddrPort let pion's UDP mux read and write
// without allocating an address per datagram (ice.AddrPortReaderWriter).
func (b *batchConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	return b.UDPConn.ReadFromUDPAddrPort(p)
}

// WriteToAddrPort writes (or queues) one datagram to addr. A queued
// datagram is reported written: UDP gives no delivery report anyway, and
// a send that fails in the batch is counted nowhere but lost like one
// lost on the way.
func (b *batchConn) WriteToAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	b.mu.Lock()
	if b.open == 0 || len(p) > batchBuf {
		if b.n > 0 {
			b.flushLocked()
		}
		b.mu.Unlock()
		return b.UDPConn.WriteToUDPAddrPort(p, addr)
	}
	b.q.put(b.n, p, addr)
	b.n++
	if b.n == batchSize {
		b.flushLocked()
	}
	b.mu.Unlock()
	return len(p), nil
}

// flushLocked sends the queue.
func (b *batchConn) flushLocked() {
	b.q.send(b.UDPConn, b.n)
	b.n = 0
}

// batchNet is the network the Engine opens its media sockets on: the
// standard one, with each UDP socket made a batchConn and kept in conns.
type batchNet struct {
	transport.Net
	mu    sync.Mutex
	conns []*batchConn
}

func (n *batchNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	uc, ok := c.(*net.UDPConn)
	if !ok {
		return c, nil // not a kernel socket: no batching
	}
	bc := newBatchConn(uc)
	n.mu.Lock()
	n.conns = append(n.conns, bc)
	n.mu.Unlock()
	return bc, nil
}

//go:build !linux

package sfu

import (
	"errors"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/net/ipv4"
)

// batchSender is a batchConn's queue of datagrams, sent with x/net's
// ipv4.PacketConn.WriteBatch (sendmmsg where the system has it, else one
// by one).
type batchSender struct {
	pc     *ipv4.PacketConn
	single bool // WriteBatch is unavailable: the queue is sent one by one
	msgs   [batchSize]ipv4.Message
	bufs   [batchSize][batchBuf]byte
	iovs   [batchSize][1][]byte
	addrs  [batchSize]net.UDPAddr
	ips    [batchSize][16]byte
}

func (q *batchSender) init(c *net.UDPConn) {
	q.pc = ipv4.NewPacketConn(c)
	for i := range q.msgs {
		q.msgs[i].Buffers = q.iovs[i][:]
		q.msgs[i].Addr = &q.addrs[i]
	}
}

// put queues a copy of p to addr in slot i.
func (q *batchSender) put(i int, p []byte, addr netip.AddrPort) {
	m := &q.msgs[i]
	m.Buffers[0] = q.bufs[i][:copy(q.bufs[i][:], p)]
	ua := &q.addrs[i]
	if ip := addr.Addr().Unmap(); ip.Is4() {
		a := ip.As4()
		ua.IP = q.ips[i][:4]
		copy(ua.IP, a[:])
	} else {
		a := ip.As16()
		ua.IP = q.ips[i][:16]
		copy(ua.IP, a[:])
	}
	ua.Port = int(addr.Port())
}

// send sends the first n datagrams queued, skipping one the system
// refuses so that the rest still go.
func (q *batchSender) send(c *net.UDPConn, n int) {
	for sent := 0; sent < n; {
		if q.single {
			m := &q.msgs[sent]
			_, _ = c.WriteTo(m.Buffers[0], m.Addr)
			sent++
			continue
		}
		k, err := q.pc.WriteBatch(q.msgs[sent:n], 0)
		if err != nil {
			if errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EOPNOTSUPP) {
				q.single = true
				continue
			}
			k = max(k, 0) + 1 // the first one not sent failed: go on after it
		}
		sent += max(k, 1)
	}
}

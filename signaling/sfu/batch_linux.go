package sfu

import (
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is the kernel's struct mmsghdr (sendmmsg(2)); Go pads it as C
// does on every Linux architecture.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// batchSender is a batchConn's queue of datagrams, sent with sendmmsg(2)
// over message headers filled as each datagram is queued. The system call
// is made raw (unix.RawSyscall6), through the socket's syscall.RawConn:
// the socket is non-blocking, so it never waits in the kernel, and the
// Go scheduler's bookkeeping around a system call that might block (and
// the wake-up of its monitor thread it often costs) is left out. A full
// socket buffer (EAGAIN) waits in the poller like any write.
type batchSender struct {
	raw   syscall.RawConn
	write func(fd uintptr) bool // sendmmsg of hdrs[from:to], made once (a closure per call would be allocated)
	from  int
	to    int
	sent  int
	errno syscall.Errno
	hdrs  [batchSize]mmsghdr
	iovs  [batchSize]unix.Iovec
	addr4 [batchSize]unix.RawSockaddrInet4
	addr6 [batchSize]unix.RawSockaddrInet6
	bufs  [batchSize][batchBuf]byte
}

func (q *batchSender) init(c *net.UDPConn) {
	q.raw, _ = c.SyscallConn()
	q.write = q.sendmmsg
	for i := range q.hdrs {
		q.iovs[i].Base = &q.bufs[i][0]
		q.hdrs[i].hdr.Iov = &q.iovs[i]
		q.hdrs[i].hdr.SetIovlen(1)
	}
}

// put queues a copy of p to addr in slot i.
func (q *batchSender) put(i int, p []byte, addr netip.AddrPort) {
	q.iovs[i].SetLen(copy(q.bufs[i][:], p))
	h := &q.hdrs[i].hdr
	port := addr.Port()
	if ip := addr.Addr().Unmap(); ip.Is4() {
		sa := &q.addr4[i]
		sa.Family = unix.AF_INET
		putPort(&sa.Port, port)
		sa.Addr = ip.As4()
		h.Name = (*byte)(unsafe.Pointer(sa))
		h.Namelen = unix.SizeofSockaddrInet4
	} else {
		sa := &q.addr6[i]
		sa.Family = unix.AF_INET6
		putPort(&sa.Port, port)
		sa.Addr = ip.As16()
		sa.Scope_id = 0
		h.Name = (*byte)(unsafe.Pointer(sa))
		h.Namelen = unix.SizeofSockaddrInet6
	}
}

// putPort stores port in network byte order, as a sockaddr holds it.
func putPort(dst *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(dst))
	b[0], b[1] = byte(port>>8), byte(port)
}

// getPort reads a port stored by putPort.
func getPort(src *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(src))
	return uint16(b[0])<<8 | uint16(b[1])
}

// sendmmsg is q.write: one sendmmsg(2) of hdrs[from:to]; false when the
// socket buffer is full (the poller waits, then calls it again).
func (q *batchSender) sendmmsg(fd uintptr) bool {
	r, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&q.hdrs[q.from])), uintptr(q.to-q.from), 0, 0, 0)
	if e == syscall.EAGAIN {
		return false
	}
	q.sent, q.errno = int(r), e
	return true
}

// send sends the first n datagrams queued, skipping one the kernel
// refuses so that the rest still go.
func (q *batchSender) send(c *net.UDPConn, n int) {
	if q.raw == nil {
		q.sendSingly(c, 0, n)
		return
	}
	for sent := 0; sent < n; {
		q.from, q.to = sent, n
		err := q.raw.Write(q.write)
		switch {
		case err != nil:
			return // the socket is closed: so is the queue
		case q.errno == syscall.ENOSYS:
			q.sendSingly(c, sent, n)
			return
		case q.errno == syscall.EINTR:
			continue
		case q.errno != 0:
			sent++ // the first one not sent failed: go on after it
		default:
			sent += max(q.sent, 1)
		}
	}
}

// sendSingly sends datagrams from to n one by one, where sendmmsg is
// missing.
func (q *batchSender) sendSingly(c *net.UDPConn, from, n int) {
	for i := from; i < n; i++ {
		buf := unsafe.Slice(q.iovs[i].Base, q.iovs[i].Len)
		var to netip.AddrPort
		if q.hdrs[i].hdr.Namelen == unix.SizeofSockaddrInet4 {
			sa := &q.addr4[i]
			to = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), getPort(&sa.Port))
		} else {
			sa := &q.addr6[i]
			to = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), getPort(&sa.Port))
		}
		_, _ = c.WriteToUDPAddrPort(buf, to)
	}
}

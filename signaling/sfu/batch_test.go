package sfu

import (
	"fmt"
	"net"
	"testing"
	"time"
)

// TestBatchConnQueuesUntilEnd: datagrams written inside a fan-out wait
// in the queue (a full queue goes at once) and leave, in order, at End;
// outside a fan-out they go at once.
func TestBatchConnQueuesUntilEnd(t *testing.T) {
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	recv, send := listen(), newBatchConn(listen())
	to := recv.LocalAddr().(*net.UDPAddr)
	read := func(want string) {
		t.Helper()
		buf := make([]byte, 2000)
		_ = recv.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err := recv.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if got := string(buf[:n]); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}

	if _, err := send.WriteTo([]byte("alone"), to); err != nil {
		t.Fatal(err)
	}
	if send.n != 0 {
		t.Fatal("a datagram outside a fan-out was queued")
	}
	read("alone")

	send.Begin()
	total := batchSize + 3 // one full batch goes during the fan-out
	for i := range total {
		if _, err := send.WriteToAddrPort([]byte(fmt.Sprint("pkt ", i)), to.AddrPort()); err != nil {
			t.Fatal(err)
		}
	}
	if send.n != 3 {
		t.Fatalf("%d datagrams queued before End, want 3", send.n)
	}
	send.End()
	if send.n != 0 || send.open != 0 {
		t.Fatalf("after End: %d queued, %d open", send.n, send.open)
	}
	for i := range total {
		read(fmt.Sprint("pkt ", i))
	}

	// Too large to queue: what is queued goes first, then it.
	send.Begin()
	_, _ = send.WriteTo([]byte("small"), to)
	big := make([]byte, batchBuf+1)
	_, _ = send.WriteTo(big, to)
	send.End()
	read("small")
	read(string(big))
}

// BenchmarkBatchConn is one fan-out of a 1100-byte datagram to eight
// subscribers on loopback: queued, then sent in one sendmmsg. It must not
// allocate.
func BenchmarkBatchConn(b *testing.B) {
	recv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer recv.Close()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	send := newBatchConn(c)
	to := recv.LocalAddr().(*net.UDPAddr).AddrPort()
	pkt := make([]byte, 1100)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		send.Begin()
		for range 8 {
			_, _ = send.WriteToAddrPort(pkt, to)
		}
		send.End()
	}
}

package sfu

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestBatchSenderAddresses: queued datagrams reach IPv4 and IPv6
// destinations with the port in network byte order, through sendmmsg and
// through the one-by-one path used where sendmmsg is missing.
func TestBatchSenderAddresses(t *testing.T) {
	for _, tc := range []struct{ network, ip string }{{"udp4", "127.0.0.1"}, {"udp6", "::1"}} {
		recv, err := net.ListenUDP(tc.network, &net.UDPAddr{IP: net.ParseIP(tc.ip)})
		if err != nil {
			t.Logf("%s: %v (no %s loopback here)", tc.network, err, tc.network)
			continue
		}
		defer recv.Close()
		c, err := net.ListenUDP(tc.network, &net.UDPAddr{IP: net.ParseIP(tc.ip)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		send := newBatchConn(c)
		to := recv.LocalAddr().(*net.UDPAddr).AddrPort()
		read := func(want string) {
			t.Helper()
			buf := make([]byte, 2000)
			_ = recv.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, from, err := recv.ReadFromUDPAddrPort(buf)
			if err != nil {
				t.Fatalf("%s: waiting for %q: %v", tc.network, want, err)
			}
			if got := string(buf[:n]); got != want {
				t.Fatalf("%s: got %q, want %q", tc.network, got, want)
			}
			if from.Port() != c.LocalAddr().(*net.UDPAddr).AddrPort().Port() {
				t.Fatalf("%s: from port %d, want the sender's", tc.network, from.Port())
			}
		}
		send.Begin()
		for i := range 3 {
			_, _ = send.WriteToAddrPort([]byte(fmt.Sprint("batched ", i)), to)
		}
		send.End()
		for i := range 3 {
			read(fmt.Sprint("batched ", i))
		}
		// The fall-back: the same queue, one sendto each.
		send.mu.Lock()
		for i := range 2 {
			send.q.put(i, []byte(fmt.Sprint("single ", i)), netip.AddrPortFrom(to.Addr(), to.Port()))
		}
		send.q.sendSingly(send.UDPConn, 0, 2)
		send.mu.Unlock()
		read("single 0")
		read("single 1")
	}
}

package client

import (
	"testing"
	"time"
)

func TestReconnectWait(t *testing.T) {
	for _, tc := range []struct {
		n      int
		jitter float64
		want   time.Duration
	}{
		{0, 0, 250 * time.Millisecond},
		{1, 0, 500 * time.Millisecond},
		{4, 0, 4 * time.Second},
		{6, 0, MaxReconnectWait},
		{1000, 0, MaxReconnectWait},
		{1000, 1, MaxReconnectWait * 8 / 10},
		{0, 0.5, 225 * time.Millisecond},
	} {
		if got := reconnectWait(tc.n, tc.jitter); got != tc.want {
			t.Errorf("reconnectWait(%d, %v) = %v, want %v", tc.n, tc.jitter, got, tc.want)
		}
	}
}

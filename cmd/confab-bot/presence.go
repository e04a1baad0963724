package main

import (
	"context"
	"fmt"
	"time"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/wire"
)

// checkReaction refuses a --react value the server would refuse.
func checkReaction(emoji string) error {
	if emoji != "" && !wire.ValidReaction(emoji) {
		return fmt.Errorf("--react %q is not one of the reactions %v", emoji, wire.Reactions)
	}
	return nil
}

// startPresence waits after, then raises the hand (raise) and sends emoji
// every interval (when emoji is set) until ctx or the session ends. The
// returned func waits for it to stop.
func startPresence(ctx context.Context, s *client.Session, after time.Duration, raise bool, emoji string, every time.Duration) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-ctx.Done():
			return
		case <-s.Done():
			return
		case <-time.After(after):
		}
		if raise {
			_ = s.SetHandRaised(true)
		}
		if emoji == "" || every <= 0 {
			return
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			_ = s.React(emoji) // refused when rate-limited: the next tick tries again
			select {
			case <-ctx.Done():
				return
			case <-s.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { <-done }
}

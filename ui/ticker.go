package ui

import (
	"sync/atomic"
	"time"
)

// startTicker runs f through do (on the UI goroutine) every interval until
// the returned stop func is called. A tick is skipped while the previous
// one has not run yet, so work never queues up behind a busy UI.
func startTicker(every time.Duration, do func(func()), f func()) (stop func()) {
	done := make(chan struct{})
	var pending atomic.Bool
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if pending.CompareAndSwap(false, true) {
					do(func() {
						pending.Store(false)
						f()
					})
				}
			}
		}
	}()
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			close(done)
		}
	}
}

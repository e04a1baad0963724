package main

import (
	"errors"
	"time"
)

// takeoverEvery is how often an app that uses another Confab's built-in
// server checks whether that app quit and its port is free.
const takeoverEvery = time.Second

// setServer makes e the built-in server. When e is another app's server,
// a watcher takes over hosting (same port, same data dir) as soon as that
// app quits, so calls through it can rejoin and later joins still work.
func (b *backend) setServer(e *embedded) {
	b.mu.Lock()
	b.embedded = e
	if b.quit == nil {
		b.quit = make(chan struct{})
	}
	quit := b.quit
	b.mu.Unlock()
	if e.Shared {
		b.watchers.Add(1)
		go b.watchShared(e, quit)
	}
}

// watchShared tries to take over the shared server e until it succeeds or
// the app stops.
func (b *backend) watchShared(e *embedded, quit chan struct{}) {
	defer b.watchers.Done()
	t := time.NewTicker(takeoverEvery)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
		}
		if done := b.takeOver(e); done {
			return
		}
	}
}

// takeOver starts hosting at the address of the shared server e when
// its app has gone. It reports whether e is no longer the built-in
// server: taken over now, or replaced before.
func (b *backend) takeOver(e *embedded) bool {
	b.takeoverMu.Lock()
	defer b.takeoverMu.Unlock()
	if b.server() != e {
		return true
	}
	next, err := startEmbeddedShared(e.Listen, e.dataDir, e.log, false)
	if errors.Is(err, errHostedElsewhere) {
		return false // the other app still hosts it
	}
	if err != nil {
		b.log.Warn("could not take over the built-in server", "addr", e.Listen, "err", err)
		return false
	}
	b.mu.Lock()
	if b.embedded != e || b.stopped {
		b.mu.Unlock()
		next.Stop()
		return true
	}
	b.embedded = next
	notify := b.serverChanged
	b.mu.Unlock()
	b.log.Info("the app that hosted the built-in server quit; hosting it here now", "url", next.URL)
	if notify != nil {
		notify()
	}
	return true
}

// OnServerChanged registers f, called from any goroutine when the
// built-in server changes by itself (this app took over hosting it).
func (b *backend) OnServerChanged(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.serverChanged = f
}

// ensureServer takes over the shared built-in server at once if its app
// has quit, so a join does not wait for the watcher.
func (b *backend) ensureServer() {
	e := b.server()
	if e != nil && e.Shared && !confabAt(e.URL) {
		b.takeOver(e)
	}
}

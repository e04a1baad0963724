package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/confab/confab/signaling/calls"
)

// callFlags are the flags that put the bot online to make or answer a
// call between people (PROTOCOL.md, "Presence and calls").
type callFlags struct {
	online      bool
	answer      string
	answerAfter time.Duration
	call        string
	kind        string
	key         string
	token       string
}

func addCallFlags(fs *flag.FlagSet) *callFlags {
	f := &callFlags{}
	fs.BoolVar(&f.online, "online", false, "go online (presence) under --name instead of joining --room; with --answer, answer calls")
	fs.StringVar(&f.answer, "answer", "", "answer incoming calls: accept (the first, then stay in it), decline or ignore (every call for --duration); implies --online")
	fs.DurationVar(&f.answerAfter, "answer-after", 0, "let a call ring this long before answering it")
	fs.StringVar(&f.call, "call", "", "call the person online with this name or identity, and stay in the call; implies --online")
	fs.StringVar(&f.kind, "call-kind", calls.KindVideo, "the kind of call --call makes: video or audio")
	fs.StringVar(&f.key, "key", "", "the presence key (open mode) that gives the bot a stable identity (default: a new one each run)")
	fs.StringVar(&f.token, "presence-token", "", "sign in to presence with this token (servers with tokens); default: --token, else a key")
	return f
}

// parse checks the flags' values.
func (f *callFlags) parse() error {
	switch f.answer {
	case "", "accept", "decline", "ignore":
	default:
		return fmt.Errorf("--answer must be accept, decline or ignore, not %q", f.answer)
	}
	if f.kind != calls.KindVideo && f.kind != calls.KindAudio {
		return fmt.Errorf("--call-kind must be video or audio, not %q", f.kind)
	}
	if f.call != "" && f.answer != "" {
		return errors.New("--call and --answer do not go together")
	}
	if f.answer != "" || f.call != "" {
		f.online = true
	}
	if f.key != "" && (len(f.key) < calls.MinKeyBytes || len(f.key) > calls.MaxKeyBytes) {
		return fmt.Errorf("--key must be %d to %d characters", calls.MinKeyBytes, calls.MaxKeyBytes)
	}
	return nil
}

// botCall is the bot's presence and the call it is in.
type botCall struct {
	pc    *calls.Client
	id    string
	kind  string
	join  *calls.Join
	ended chan struct{} // closed when the call ends

	mu     sync.Mutex
	people map[string]calls.Person // online now, by identity
	last   calls.Call
	rung   int
	done   chan struct{}
	endOn  sync.Once
}

// callReport is what the report says of calls.
type callReport struct {
	CallID string            `json:"call_id,omitempty"`
	Kind   string            `json:"call_kind,omitempty"`
	End    string            `json:"call_end,omitempty"`
	Rung   int               `json:"calls_rung,omitempty"`
	States map[string]string `json:"call_states,omitempty"`
}

// start goes online. With --call it calls and returns the call to join;
// with --answer accept it returns the first call it accepted; with
// decline or ignore it answers every call so for stay and returns a nil
// join. It returns nil without --online.
func (f *callFlags) start(ctx context.Context, server, name, tok string, stay time.Duration, stderr io.Writer) (*botCall, error) {
	if !f.online {
		return nil, nil
	}
	hello := calls.Hello{Key: f.key, Name: name}
	if t := firstNonEmpty(f.token, tok); t != "" {
		hello = calls.Hello{Token: t}
	} else if hello.Key == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		hello.Key = hex.EncodeToString(b)
	}
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	pc, err := calls.Dial(dctx, server, hello)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("online: %w", err)
	}
	bc := &botCall{pc: pc, ended: make(chan struct{}), done: make(chan struct{}), people: map[string]calls.Person{}}
	for _, p := range pc.Ready().People {
		bc.people[p.ID] = p
	}
	fmt.Fprintf(stderr, "confab-bot: online as %s (%s)\n", pc.Me().Name, pc.Me().ID)
	ringing := make(chan calls.Call, 16)
	go bc.watch(ringing)
	fail := func(err error) (*botCall, error) {
		bc.close()
		return nil, err
	}
	if f.call != "" {
		to, err := bc.find(ctx, f.call)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stderr, "confab-bot: calling %s (%s), %s call\n", f.call, to, f.kind)
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		out, err := pc.Call(cctx, f.kind, to)
		cancel()
		if err != nil {
			return fail(fmt.Errorf("call %s: %w", f.call, err))
		}
		bc.use(out)
		return bc, nil
	}
	end := time.After(stay)
	for {
		select {
		case <-ctx.Done():
			return bc, nil
		case <-end:
			return bc, nil
		case c := <-ringing:
			bc.mu.Lock()
			bc.rung++
			bc.mu.Unlock()
			fmt.Fprintf(stderr, "confab-bot: %s call %s from %s rings\n", c.Kind, c.ID, c.FromName)
			if f.answer == "ignore" || f.answer == "" {
				continue
			}
			select {
			case <-time.After(f.answerAfter):
			case <-ctx.Done():
				return bc, nil
			}
			fmt.Fprintf(stderr, "confab-bot: %s call %s\n", map[string]string{"accept": "accepting", "decline": "declining"}[f.answer], c.ID)
			actx, cancel := context.WithTimeout(ctx, 15*time.Second)
			var out *calls.CallMsg
			if f.answer == "accept" {
				out, err = pc.Accept(actx, c.ID)
			} else {
				out, err = pc.Decline(actx, c.ID)
			}
			cancel()
			if err != nil {
				fmt.Fprintf(stderr, "confab-bot: %s %s: %v\n", f.answer, c.ID, err)
				continue
			}
			if f.answer == "accept" {
				bc.use(out)
				return bc, nil
			}
		}
	}
}

// use makes out the bot's call.
func (bc *botCall) use(out *calls.CallMsg) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	bc.id, bc.kind, bc.join, bc.last = out.Call.ID, out.Call.Kind, out.Join, out.Call
	if out.Call.Ended != "" {
		bc.endOn.Do(func() { close(bc.ended) })
	}
}

// find waits up to 15 s for someone with name (or identity) to be online.
func (bc *botCall) find(ctx context.Context, name string) (string, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		bc.mu.Lock()
		for _, p := range bc.people {
			if p.ID == name || p.Name == name {
				bc.mu.Unlock()
				return p.ID, nil
			}
		}
		bc.mu.Unlock()
		if time.Now().After(deadline) {
			return "", fmt.Errorf("call: nobody called %q is online", name)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// watch follows the presence events: incoming calls go to ringing, and
// the bot's call's changes are kept; its end closes ended.
func (bc *botCall) watch(ringing chan<- calls.Call) {
	defer close(bc.done)
	me := bc.pc.Me().ID
	rang := map[string]bool{} // every change of a call comes again: ring once
	for ev := range bc.pc.Events() {
		switch ev := ev.(type) {
		case *calls.CallMsg:
			bc.mu.Lock()
			mine := ev.Call.ID == bc.id
			if mine {
				bc.last = ev.Call
				if ev.Call.Ended != "" {
					bc.endOn.Do(func() { close(bc.ended) })
				}
			}
			bc.mu.Unlock()
			if ev.Call.Ended != "" {
				delete(rang, ev.Call.ID)
				continue
			}
			if m := ev.Call.Member(me); !mine && m != nil && m.State == calls.StateRinging && ev.Call.From != me && !rang[ev.Call.ID] {
				rang[ev.Call.ID] = true
				select {
				case ringing <- ev.Call:
				default:
				}
			}
		case calls.PersonOnline:
			bc.mu.Lock()
			bc.people[ev.ID] = ev.Person
			bc.mu.Unlock()
		case calls.PersonOffline:
			bc.mu.Lock()
			delete(bc.people, ev.ID)
			bc.mu.Unlock()
		case *calls.Ready:
			bc.mu.Lock()
			clear(bc.people)
			for _, p := range ev.People {
				bc.people[p.ID] = p
			}
			bc.mu.Unlock()
		}
	}
}

// fill adds the call to the report.
func (bc *botCall) fill(r *Report) {
	if bc == nil {
		return
	}
	bc.mu.Lock()
	defer bc.mu.Unlock()
	r.Call = &callReport{CallID: bc.id, Kind: bc.kind, End: bc.last.Ended, Rung: bc.rung}
	if bc.id != "" {
		r.Call.States = map[string]string{}
		for _, m := range bc.last.Members {
			r.Call.States[m.Name] = m.State
		}
	}
}

// endedC is closed when the bot's call ends (nil without one: never).
func (bc *botCall) endedC() <-chan struct{} {
	if bc == nil || bc.join == nil {
		return nil
	}
	return bc.ended
}

// close leaves the call on purpose and goes offline.
func (bc *botCall) close() {
	if bc == nil {
		return
	}
	if bc.id != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, _ = bc.pc.Hangup(ctx, bc.id)
		cancel()
	}
	bc.pc.Close()
	<-bc.done
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

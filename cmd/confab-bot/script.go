package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/confab/confab/signaling/client"
)

// Script actions (--script): each runs at its offset from the script's
// start (--script-start).
var scriptActions = map[string]bool{
	"join": true, "leave": true,
	"mute": true, "unmute": true,
	"camera-off": true, "camera-on": true,
	"share": true, "unshare": true,
}

// scriptStep is one timed action of --script.
type scriptStep struct {
	Action string
	At     time.Duration
}

// botScript drives a bot through a timed script: when to join, mute,
// unmute, turn the camera off and on, share and stop sharing the screen
// (the bot shares its test pattern), and leave. Tests of meeting
// analytics compare what the server computed with it.
type botScript struct {
	spec   *string
	startF *int64
	silent *bool

	zero  time.Time
	steps []scriptStep
}

func addScriptFlags(fs *flag.FlagSet) *botScript {
	return &botScript{
		spec: fs.String("script", "", `timed actions, e.g. "join@1s,mute@3s,unmute@5s,camera-off@6s,share@7s,unshare@8s,leave@10s"; `+
			`offsets from --script-start (join: when to join, default at once; leave: instead of --duration)`),
		startF: fs.Int64("script-start", 0, "the script's time zero in Unix milliseconds (default: when the bot starts)"),
		silent: fs.Bool("silent", false, "publish a microphone that sends no sound (the mic shows as on)"),
	}
}

// parse reads --script.
func (b *botScript) parse() error {
	b.zero = time.Now()
	if *b.startF > 0 {
		b.zero = time.UnixMilli(*b.startF)
	}
	if *b.spec == "" {
		return nil
	}
	for _, item := range strings.Split(*b.spec, ",") {
		action, at, ok := strings.Cut(strings.TrimSpace(item), "@")
		if !ok || !scriptActions[action] {
			return fmt.Errorf("--script: %q is not ACTION@OFFSET with ACTION one of join, leave, mute, unmute, camera-off, camera-on, share, unshare", item)
		}
		d, err := time.ParseDuration(at)
		if err != nil || d < 0 {
			return fmt.Errorf("--script: %q: the offset is not a duration like 2.5s", item)
		}
		b.steps = append(b.steps, scriptStep{Action: action, At: d})
	}
	slices.SortStableFunc(b.steps, func(x, y scriptStep) int { return int(x.At - y.At) })
	return nil
}

func (b *botScript) at(action string) (time.Time, bool) {
	for _, s := range b.steps {
		if s.Action == action {
			return b.zero.Add(s.At), true
		}
	}
	return time.Time{}, false
}

// waitJoin waits for the script's join time.
func (b *botScript) waitJoin(ctx context.Context) {
	at, ok := b.at("join")
	if !ok {
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(at)):
	}
}

// media wraps m when the script needs it: with --silent the microphone
// sends nothing, and with a share step the screen is the test pattern
// (bots have no screen to share).
func (b *botScript) media(m client.LocalMedia) client.LocalMedia {
	if _, share := b.at("share"); m == nil || !*b.silent && !share {
		return m
	}
	return scriptMedia{LocalMedia: m, silent: *b.silent}
}

type scriptMedia struct {
	client.LocalMedia
	silent bool
}

func (m scriptMedia) OpenMicrophone() (client.LocalTrack, error) {
	t, err := m.LocalMedia.OpenMicrophone()
	if err == nil && m.silent {
		if mt, ok := t.(interface{ SetMuted(bool) }); ok {
			mt.SetMuted(true) // sends no packets; the server hears nothing
		}
	}
	return t, err
}

func (m scriptMedia) OpenScreen() (client.LocalTrack, error) { return m.LocalMedia.OpenCamera() }

// start runs the script's steps after join on a goroutine; with a leave
// step it sets *stay to the time left until it. The returned func stops
// the steps and waits for them.
func (b *botScript) start(ctx context.Context, s *client.Session, stay *time.Duration, log io.Writer) func() {
	if at, ok := b.at("leave"); ok {
		*stay = max(0, time.Until(at))
	}
	if len(b.steps) == 0 {
		return func() {}
	}
	note(log, "join", b.zero, time.Now())
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, st := range b.steps {
			if st.Action == "join" || st.Action == "leave" {
				continue
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(b.zero.Add(st.At))):
			}
			var err error
			switch st.Action {
			case "mute", "unmute":
				err = s.SetMicMuted(st.Action == "mute")
			case "camera-off", "camera-on":
				err = s.SetCameraOn(st.Action == "camera-on")
			case "share", "unshare":
				err = s.SetScreenShare(st.Action == "share")
			}
			if err != nil {
				fmt.Fprintf(log, "confab-bot: script %s: %v\n", st.Action, err)
			}
			note(log, st.Action, b.zero, time.Now())
		}
	}()
	return func() {
		cancel()
		wg.Wait()
		note(log, "leave", b.zero, time.Now())
	}
}

// note writes one line of JSON saying when a step ran, for tests.
func note(w io.Writer, action string, start, now time.Time) {
	line, _ := json.Marshal(map[string]any{"script": action, "at_ms": now.UnixMilli(),
		"offset": strconv.FormatFloat(now.Sub(start).Seconds(), 'f', 3, 64)})
	fmt.Fprintf(w, "%s\n", line)
}

package browsertest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BotReport is the JSON report of cmd/confab-bot (see its Report type).
type BotReport struct {
	Identity     string `json:"identity"`
	JoinMS       int64  `json:"join_ms"`
	FirstFrameMS int64  `json:"first_frame_ms"`
	Remote       map[string]struct {
		Frames       uint64 `json:"frames"`
		AudioPackets uint64 `json:"audio_packets"`
		AudioDecoded uint64 `json:"audio_decoded"`
		// Layer, Width and Height: their camera's simulcast layer
		// received now, from the server's layer messages.
		Layer  string `json:"layer"`
		Width  int    `json:"width"`
		Height int    `json:"height"`
	} `json:"remote"`
	Sources map[string]map[string]uint64 `json:"sources"`
	Chat    []struct {
		Seq  int64  `json:"seq"`
		ID   string `json:"id"`
		From string `json:"from"`
	} `json:"chat"`
	Left  []string `json:"left"`
	Final bool     `json:"final"`
	Error string   `json:"error"`
}

// Bot is a running confab-bot process that reports what it received every
// half second (--progress).
type Bot struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}

	mu     sync.Mutex
	last   BotReport
	lines  int
	stderr strings.Builder
	err    error
}

// StartBot runs the confab-bot binary bin as name in room on the server at
// url, with extra flags args. It is killed when the test ends if still
// running.
func StartBot(t testing.TB, bin, url, room, name string, args ...string) *Bot {
	t.Helper()
	b := &Bot{Name: name, done: make(chan struct{})}
	all := append([]string{"--server", url, "--room", room, "--name", name, "--progress", "500ms"}, args...)
	b.cmd = exec.Command(bin, all...)
	out, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	b.cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		b.mu.Lock()
		if b.stderr.Len() < 16<<10 {
			b.stderr.Write(p)
		}
		b.mu.Unlock()
		return len(p), nil
	})
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go b.read(out)
	t.Cleanup(func() {
		_ = b.cmd.Process.Kill()
		<-b.done
	})
	return b
}

func (b *Bot) read(out io.Reader) {
	defer close(b.done)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r BotReport
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue
		}
		b.mu.Lock()
		b.last = r
		b.lines++
		b.mu.Unlock()
	}
	err := b.cmd.Wait()
	b.mu.Lock()
	b.err = err
	b.mu.Unlock()
}

// Report returns the newest report (the final one once the bot ended).
func (b *Bot) Report() BotReport {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// Wait polls the bot's reports until cond holds or d passes, and fails t
// with the last report otherwise.
func (b *Bot) Wait(t testing.TB, d time.Duration, what string, cond func(BotReport) bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		r := b.Report()
		if r.Identity != "" && cond(r) {
			return
		}
		select {
		case <-b.done:
			t.Fatalf("bot %s ended while waiting for: %s; %s", b.Name, what, b.describe())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("bot %s, after %v: %s; %s", b.Name, d, what, b.describe())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Stop asks the bot to leave (SIGINT), waits for it and returns its final
// report; it fails t if the bot does not end or print one.
func (b *Bot) Stop(t testing.TB) BotReport {
	t.Helper()
	_ = b.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-b.done:
	case <-time.After(30 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
		t.Fatalf("bot %s did not end within 30 s of SIGINT", b.Name)
	}
	r := b.Report()
	if !r.Final {
		t.Fatalf("bot %s printed no final report; %s", b.Name, b.describe())
	}
	return r
}

func (b *Bot) describe() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	rep, _ := json.Marshal(b.last)
	return fmt.Sprintf("exit %v; last report %s; stderr: %s", b.err, rep, tail(b.stderr.String(), 2000))
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

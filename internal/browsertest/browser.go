package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// EnvChromium names the Chromium binary to use instead of the first of
// chromium, chromium-browser, google-chrome found on PATH.
const EnvChromium = "CONFAB_CHROMIUM"

// ErrNoChromium is returned when no Chromium binary is found.
var ErrNoChromium = errors.New("browsertest: no chromium on PATH (Debian: apt-get install chromium; or set " + EnvChromium + ")")

// ErrNotIsolated is returned by Launch outside a loopback-only namespace.
var ErrNotIsolated = errors.New("browsertest: not in a network namespace with only lo")

// Flags are the Chromium switches every browser gets: headless, no
// sandbox (root in CI), fake camera and microphone accepted without a
// prompt, no background traffic, and WebRTC allowed to use loopback
// (Chromium ignores 127.0.0.1 candidates without it). The fake media UI
// also answers getDisplayMedia's picker: the capture is headless
// Chromium's own screen (a "monitor" surface of the window size, moving
// when the page does), with no --auto-select-* switch needed.
var Flags = []string{
	"--headless=new",
	"--no-sandbox",
	"--use-fake-device-for-media-stream",
	"--use-fake-ui-for-media-stream",
	"--disable-background-networking",
	"--allow-loopback-in-peer-connection",
	"--no-first-run",
	"--no-default-browser-check",
	"--disable-dev-shm-usage",
	"--disable-gpu",
	"--mute-audio",
	"--autoplay-policy=no-user-gesture-required",
	"--disable-features=Translate,MediaRouter,OptimizationHints",
	"--disable-renderer-backgrounding",
	"--disable-background-timer-throttling",
	"--disable-backgrounding-occluded-windows",
}

// Options configure a Browser.
type Options struct {
	// Binary overrides the Chromium binary.
	Binary string
	// Width and Height are the window size (default 1280x800).
	Width, Height int
	// ExtraFlags are added after Flags.
	ExtraFlags []string
	// Log receives Chromium's stderr and the pages' console (default none).
	Log io.Writer
}

// Browser is a running headless Chromium. Close kills its whole process
// group and removes its profile directory.
type Browser struct {
	cmd  *exec.Cmd
	dir  string
	c    *conn
	log  io.Writer
	opts Options

	mu    sync.Mutex
	pages map[string]*Page // by session id
	once  sync.Once
	exit  chan struct{}
}

// FindChromium returns the Chromium binary to use.
func FindChromium() (string, error) {
	if p := os.Getenv(EnvChromium); p != "" {
		return p, nil
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Start launches a Browser for a test: it skips the test (or fails it with
// CONFAB_REQUIRE_BROWSER=1) when the process is not isolated or Chromium is
// missing, fails it when Chromium does not start, and closes the browser
// when the test ends.
func Start(t testing.TB, opts Options) *Browser {
	t.Helper()
	Require(t)
	if opts.Binary == "" {
		p, err := FindChromium()
		if err != nil {
			skipOrFail(t, err.Error())
		}
		opts.Binary = p
	}
	if opts.Log == nil && os.Getenv("CONFAB_TEST_LOG") != "" {
		opts.Log = os.Stderr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := Launch(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// Launch starts Chromium with Flags and a temporary profile, and connects
// to its DevTools endpoint. It refuses to run outside a namespace with only
// lo: Chromium's WebRTC gathers candidates on every interface.
func Launch(ctx context.Context, opts Options) (*Browser, error) {
	if ok, why := Isolated(); !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotIsolated, why)
	}
	if opts.Binary == "" {
		p, err := FindChromium()
		if err != nil {
			return nil, err
		}
		opts.Binary = p
	}
	if opts.Width == 0 || opts.Height == 0 {
		opts.Width, opts.Height = 1280, 800
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	dir, err := os.MkdirTemp(os.Getenv(envTmp), "confab-chromium-")
	if err != nil {
		return nil, err
	}
	args := append([]string{}, Flags...)
	args = append(args,
		"--user-data-dir="+dir,
		"--remote-debugging-port=0",
		"--remote-debugging-address=127.0.0.1",
		fmt.Sprintf("--window-size=%d,%d", opts.Width, opts.Height),
	)
	args = append(args, opts.ExtraFlags...)
	args = append(args, "about:blank")
	cmd := exec.Command(opts.Binary, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout = opts.Log
	stderr := &lockedTail{b: &bytes.Buffer{}}
	cmd.Stderr = io.MultiWriter(opts.Log, stderr)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, ".config"))
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", opts.Binary, err)
	}
	b := &Browser{cmd: cmd, dir: dir, log: opts.Log, opts: opts, pages: map[string]*Page{}, exit: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(b.exit) }()

	url, err := b.devtoolsURL(ctx)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("%w; chromium stderr:\n%s", err, tail(stderr.String(), 2000))
	}
	if b.c, err = dial(ctx, url, b.event); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// devtoolsURL waits for Chromium to write DevToolsActivePort (the port it
// chose and the browser endpoint's path) into the profile directory.
func (b *Browser) devtoolsURL(ctx context.Context) (string, error) {
	f := filepath.Join(b.dir, "DevToolsActivePort")
	for {
		if data, err := os.ReadFile(f); err == nil {
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			if len(lines) == 2 {
				if _, err := strconv.Atoi(lines[0]); err == nil {
					return "ws://127.0.0.1:" + lines[0] + lines[1], nil
				}
			}
		}
		select {
		case <-b.exit:
			return "", errors.New("chromium exited before opening its DevTools port")
		case <-ctx.Done():
			return "", fmt.Errorf("chromium's DevTools port: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Close kills Chromium's process group, waits for it and removes the
// profile directory. It is idempotent.
func (b *Browser) Close() {
	b.once.Do(func() {
		if b.c != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = b.c.call(ctx, "", "Browser.close", nil, nil)
			cancel()
		}
		select {
		case <-b.exit:
		case <-time.After(3 * time.Second):
		}
		pgid := b.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-b.exit
		// The group's other members (renderers, GPU, crashpad) die and are
		// reaped by their new parent a moment later.
		for i := 0; i < 100 && syscall.Kill(-pgid, 0) == nil; i++ {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			time.Sleep(50 * time.Millisecond)
		}
		if b.c != nil {
			b.c.close()
		}
		// Children that left the group (none known) would keep files open;
		// removal is retried briefly.
		for i := 0; i < 20; i++ {
			if err := os.RemoveAll(b.dir); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// Pid is the Chromium browser process's id (its process group id too).
func (b *Browser) Pid() int { return b.cmd.Process.Pid }

// event routes a DevTools event to its page.
func (b *Browser) event(session, method string, params json.RawMessage) {
	b.mu.Lock()
	p := b.pages[session]
	b.mu.Unlock()
	if p != nil {
		p.event(method, params)
	}
}

// NewPage opens a new tab at about:blank and attaches to it.
func (b *Browser) NewPage(ctx context.Context) (*Page, error) {
	var created struct {
		TargetID string `json:"targetId"`
	}
	if err := b.c.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &created); err != nil {
		return nil, err
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": created.TargetID, "flatten": true}, &attached); err != nil {
		return nil, err
	}
	p := &Page{b: b, session: attached.SessionID, target: created.TargetID}
	b.mu.Lock()
	b.pages[p.session] = p
	b.mu.Unlock()
	for _, m := range []string{"Runtime.enable", "Page.enable"} {
		if err := p.call(ctx, m, nil, nil); err != nil {
			return nil, err
		}
	}
	if err := p.SetViewport(ctx, b.opts.Width, b.opts.Height, false); err != nil {
		return nil, err
	}
	return p, nil
}

// lockedTail keeps the last bytes written to it.
type lockedTail struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(p)
	if l.b.Len() > 64<<10 {
		rest := l.b.Bytes()[l.b.Len()-32<<10:]
		nb := bytes.NewBuffer(append([]byte(nil), rest...))
		*l.b = *nb
	}
	return len(p), nil
}

func (l *lockedTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

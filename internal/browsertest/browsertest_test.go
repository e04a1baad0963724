package browsertest

import (
	"bytes"
	"context"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Isolate(m)) }

// TestIsolated checks the namespace the browser tests run in: only
// loopback interfaces, and 127.0.0.1 works.
func TestIsolated(t *testing.T) {
	Require(t)
	if other := otherInterfaces(); len(other) > 0 {
		t.Fatalf("interfaces besides loopback: %v", other)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("loopback does not work: %v", err)
	}
	c.Close()
	// A public address is unreachable: no route at all.
	if c, err := net.DialTimeout("udp", "192.0.2.1:9", time.Second); err == nil {
		_, werr := c.Write([]byte("x"))
		c.Close()
		if werr == nil {
			t.Fatal("a packet to 192.0.2.1 could be sent: the namespace has a route out")
		}
	}
}

func probeServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata")))
	t.Cleanup(srv.Close)
	return srv
}

// TestBrowserProbe checks what the browser tests rely on: fake devices,
// screen capture without a prompt, WebRTC between two peer connections on
// 127.0.0.1 alone, screenshots, and that Close leaves no process behind.
func TestBrowserProbe(t *testing.T) {
	b := Start(t, Options{})
	srv := probeServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	p, err := b.NewPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(ctx, srv.URL+"/probe.html"); err != nil {
		t.Fatal(err)
	}
	var tracks []string
	if err := p.Eval(ctx, "probe.media()", &tracks); err != nil {
		t.Fatal(err)
	}
	if len(tracks) != 2 {
		t.Errorf("fake devices gave tracks %v, want audio and video", tracks)
	}
	var screen struct {
		Label, Surface string
		Width, Frames  int
	}
	if err := p.Eval(ctx, "probe.screen()", &screen); err != nil {
		t.Errorf("getDisplayMedia: %v", err)
	} else if screen.Width == 0 || screen.Frames < 5 {
		t.Errorf("screen capture has no width or fewer than 5 frames in 2 s: %+v", screen)
	}
	t.Logf("screen capture: %+v", screen)

	var loop struct {
		Frames int
		Cands  []string
	}
	if err := p.Eval(ctx, "probe.loop()", &loop); err != nil {
		t.Fatal(err)
	}
	if loop.Frames < 10 {
		t.Errorf("in-page WebRTC call decoded %d frames, want 10", loop.Frames)
	}
	if len(loop.Cands) == 0 {
		t.Error("no ICE candidates gathered")
	}
	for _, c := range loop.Cands {
		f := strings.Fields(c)
		if len(f) < 5 || f[4] != "127.0.0.1" {
			t.Errorf("candidate not on 127.0.0.1: %s", c)
		}
	}

	if err := p.SetViewport(ctx, 360, 640, true); err != nil {
		t.Fatal(err)
	}
	shot, err := p.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	if sz := img.Bounds().Size(); sz.X != 360 || sz.Y != 640 {
		t.Errorf("screenshot is %v, want 360x640", sz)
	}

	pgid := b.Pid()
	dir := b.dir
	b.Close()
	if err := syscall.Kill(-pgid, 0); err != syscall.ESRCH {
		t.Errorf("after Close, Chromium's process group %d still exists (kill -0: %v)", pgid, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("after Close, the profile %s is still there (%v)", dir, err)
	}
}

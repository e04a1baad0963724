package capture_test

import (
	"errors"
	"image"
	"os"
	"testing"
	"time"

	_ "github.com/pion/mediadevices/pkg/driver/screen"

	"github.com/confab/confab/media"
	"github.com/confab/confab/media/capture"
	"github.com/confab/confab/media/decode"
	"github.com/confab/confab/media/internal/mediatest"
)

// TestScreen captures the X display, encodes it and decodes it back. The
// screen driver finds displays when the test binary starts; without
// $DISPLAY there is none and the test checks ErrNoDevice instead. Run it
// under Xvfb:
//
//	Xvfb :97 -screen 0 1280x720x24 & DISPLAY=:97 go test -run Screen ./media/capture/
func TestScreen(t *testing.T) {
	c, err := capture.New()
	if err != nil {
		t.Fatal(err)
	}
	scr, err := c.OpenScreen("")
	if os.Getenv("DISPLAY") == "" {
		if !errors.Is(err, capture.ErrNoDevice) {
			t.Fatalf("OpenScreen without a display = %v, want ErrNoDevice", err)
		}
		t.Skip("no $DISPLAY: screen capture not tested")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer scr.Close()
	t.Logf("screen %+v, %v", scr.Device(), scr.Size())
	if scr.ID() != "screen" {
		t.Errorf("id %q", scr.ID())
	}
	slot := scr.Preview()
	ctx := mediatest.NewContext("s", media.VP8Codec(), nil, 4096)
	defer ctx.Close()
	if _, err := scr.Bind(ctx); err != nil {
		t.Fatal(err)
	}
	defer scr.Unbind(ctx)
	out := media.NewFrameSlot()
	dec, err := decode.NewVideoDecoder(out)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	deadline := time.After(15 * time.Second)
	for dec.FramesDecoded() < 5 {
		select {
		case p := <-ctx.Packets:
			if err := dec.Push(p); err != nil {
				t.Fatal(err)
			}
		case <-deadline:
			t.Fatalf("decoded %d screen frames; %+v", dec.FramesDecoded(), dec.Stats())
		}
	}
	img, _ := out.Latest()
	pre, _ := slot.Latest()
	if img.Bounds().Size() != scr.Size() || pre == nil || pre.Bounds().Size() != scr.Size() {
		t.Fatalf("decoded %v, preview %v, screen %v", img.Bounds(), pre, scr.Size())
	}
	if scr.Size().X < 64 || img.Bounds() == (image.Rectangle{}) {
		t.Fatal("empty screen")
	}
}

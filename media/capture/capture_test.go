package capture_test

import (
	"errors"
	"image"
	"testing"
	"time"

	_ "github.com/pion/mediadevices/pkg/driver/audiotest"
	_ "github.com/pion/mediadevices/pkg/driver/videotest"

	"github.com/confab/confab/media/capture"
)

func TestNewRejectsBadOptions(t *testing.T) {
	bad := map[string]capture.Option{
		"size":      capture.WithVideoSize(0, 480),
		"fps":       capture.WithFrameRate(0),
		"screenfps": capture.WithScreenFrameRate(500),
		"bitrate":   capture.WithVideoBitRate(1000),
		"keyframe":  capture.WithKeyFrameInterval(0),
		"opus":      capture.WithAudioBitRate(1),
		"stream":    capture.WithStreamID(""),
	}
	for name, o := range bad {
		if _, err := capture.New(o); !errors.Is(err, capture.ErrConfig) {
			t.Errorf("%s: New = %v, want ErrConfig", name, err)
		}
	}
	me, c, err := capture.NewMediaEngine(capture.WithVideoBitRate(500_000))
	if err != nil || me == nil || c == nil {
		t.Fatalf("NewMediaEngine: %v", err)
	}
}

func TestDevices(t *testing.T) {
	c, err := capture.New()
	if err != nil {
		t.Fatal(err)
	}
	devs := c.Devices()
	t.Logf("devices: %+v", devs)
	var cam, mic bool
	for _, d := range devs {
		if d.ID == "" || d.Label == "" {
			t.Errorf("device without id or label: %+v", d)
		}
		switch d.Kind {
		case capture.KindCamera:
			cam = cam || d.Label == "VideoTest"
		case capture.KindMicrophone:
			mic = mic || d.Label == "AudioTest"
		}
	}
	if !cam || !mic {
		t.Fatalf("test drivers not listed: %+v", devs)
	}
	if capture.KindScreen.String() != "screen" || capture.Kind(9).String() != "Kind(9)" {
		t.Error("Kind.String")
	}
	if _, err := c.OpenCamera("no-such-id"); !errors.Is(err, capture.ErrNoDevice) {
		t.Errorf("OpenCamera(unknown) = %v, want ErrNoDevice", err)
	}
	if _, err := c.OpenMicrophone("no-such-id"); !errors.Is(err, capture.ErrNoDevice) {
		t.Errorf("OpenMicrophone(unknown) = %v, want ErrNoDevice", err)
	}
}

// TestPreviewAndClose opens the camera, watches the preview, closes it and
// opens it again: a second open of an unreleased device would fail.
func TestPreviewAndClose(t *testing.T) {
	c, err := capture.New()
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		cam, err := c.OpenCamera("", capture.WithTrackID("cam"), capture.WithTrackStreamID("alice"))
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if cam.ID() != "cam" || cam.StreamID() != "alice" || cam.RID() != "" || cam.Device().Label != "VideoTest" {
			t.Fatalf("identity %q %q %q %+v", cam.ID(), cam.StreamID(), cam.RID(), cam.Device())
		}
		slot := cam.Preview()
		deadline := time.Now().Add(3 * time.Second)
		for slot.Seq() < 3 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		img, seq := slot.Latest()
		if seq < 3 || img.Bounds() != image.Rect(0, 0, 640, 480) {
			t.Fatalf("preview: seq %d, img %v", seq, img)
		}
		if cam.Size() != image.Pt(640, 480) || cam.FramesCaptured() < 3 {
			t.Fatalf("size %v, captured %d", cam.Size(), cam.FramesCaptured())
		}
		cam.StopPreview()
		if err := cam.Close(); err != nil {
			t.Fatal(err)
		}
		if err := cam.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-cam.Done():
		default:
			t.Fatal("Done not closed after Close")
		}
		if cam.Err() != nil {
			t.Fatalf("Err after Close = %v", cam.Err())
		}
		n := cam.FramesCaptured()
		time.Sleep(100 * time.Millisecond)
		if cam.FramesCaptured() != n {
			t.Fatal("frames captured after Close")
		}
	}
}

func TestMicrophoneLevelAndMute(t *testing.T) {
	c, err := capture.New()
	if err != nil {
		t.Fatal(err)
	}
	mic, err := c.OpenMicrophone("", capture.WithStartMuted(), capture.WithVoiceThreshold(40))
	if err != nil {
		t.Fatal(err)
	}
	defer mic.Close()
	if !mic.Muted() || mic.ID() != "microphone" || mic.Kind().String() != "audio" {
		t.Fatalf("muted %v id %q kind %v", mic.Muted(), mic.ID(), mic.Kind())
	}
	time.Sleep(100 * time.Millisecond)
	// The test tone is -15 dBov: (60-15)/60 on the meter, muted or not.
	if l := mic.Level(); l < 0.7 || l > 0.8 {
		t.Fatalf("level %.2f, want 0.75", l)
	}
	mic.SetMuted(false)
	if mic.Muted() || mic.ChunksCaptured() == 0 {
		t.Fatal("unmute / capture")
	}
}

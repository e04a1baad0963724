package sounds

import (
	"errors"
	"testing"
)

func TestSoundsDecode(t *testing.T) {
	for _, name := range []string{Join, Leave, Hand, Ring} {
		pcm := PCM(name)
		longest := 1.0
		if name == Ring {
			longest = 2 // a phrase the app repeats while a call rings
		}
		if d := float64(len(pcm)) / SampleRate; d < 0.1 || d > longest {
			t.Errorf("%s lasts %.2f s, want a short sound", name, d)
		}
		var peak int16
		for _, s := range pcm {
			peak = max(peak, s, -s)
		}
		if peak < 3000 || peak > 20000 {
			t.Errorf("%s peaks at %d: too quiet or too loud", name, peak)
		}
	}
	if PCM("nope") != nil {
		t.Error("an unknown sound has samples")
	}
	if _, err := Decode([]byte("RIFF0000WAVEdata")); !errors.Is(err, ErrFormat) {
		t.Errorf("bad file: err %v", err)
	}
}

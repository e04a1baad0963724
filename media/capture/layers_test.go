package capture

import (
	"testing"
)

// TestLayerCount: three layers from 640x360 up, fewer for small cameras.
func TestLayerCount(t *testing.T) {
	for _, c := range []struct{ w, h, n int }{
		{1280, 720, 3}, {640, 480, 3}, {640, 360, 3}, {480, 360, 2}, {320, 240, 2}, {320, 180, 2}, {320, 170, 1}, {160, 120, 1}, {2, 2, 1},
	} {
		if got := layerCount(c.w, c.h); got != c.n {
			t.Errorf("%dx%d: %d layers, want %d", c.w, c.h, got, c.n)
		}
	}
}

// TestSplitRates: the budget is shared 15/30/55 among the layers bound;
// the top layers go when their part is below what they need, come back
// only with room to spare, and the lowest layer always stays.
func TestSplitRates(t *testing.T) {
	mk := func(rids ...string) []*videoLayer {
		var ls []*videoLayer
		for _, r := range rids {
			div := map[string]int{"q": 4, "h": 2, "f": 1}[r]
			l := &videoLayer{rid: r, div: div}
			l.on.Store(true)
			ls = append(ls, l)
		}
		return ls
	}
	all := mk("q", "h", "f")
	for _, c := range []struct {
		total int
		want  []int
	}{
		{1_000_000, []int{150_000, 300_000, 550_000}},
		{400_000, []int{60_000, 120_000, 220_000}}, // f at 220k >= its 200k
		{300_000, []int{100_000, 200_000, 0}},      // f at 165k: dropped
		{90_000, []int{30_000, 60_000, 0}},         // h at 60k >= 51k
		{60_000, []int{60_000, 0, 0}},              // q alone
		{10_000, []int{30_000, 0, 0}},              // never below the encoder's floor
	} {
		got := splitRates(c.total, all, 640, 480)
		for i := range got {
			if diff := got[i] - c.want[i]; diff < -1 || diff > 1 {
				t.Errorf("%d: rates %v, want %v", c.total, got, c.want)
				break
			}
		}
	}
	// f off: at 420k its 231k is under 1.25 x 200k, so it stays off; at
	// 500k it comes back.
	all[2].on.Store(false)
	if got := splitRates(420_000, all, 640, 480); got[2] != 0 {
		t.Errorf("f came back at 420k: %v", got)
	}
	if got := splitRates(500_000, all, 640, 480); got[2] == 0 {
		t.Errorf("f stayed off at 500k: %v", got)
	}
	// The full layer alone (a sender without simulcast) gets everything.
	if got := splitRates(800_000, mk("f"), 640, 480); got[0] != 800_000 {
		t.Errorf("f alone: %v", got)
	}
	if got := splitRates(100_000, mk("f"), 640, 480); got[0] != 100_000 {
		t.Errorf("f alone, starved: %v", got)
	}
	// h and f in standby: q gets at most 8 bits per pixel, 153.6 kbit/s
	// of 160x120; with f, each gets its share (q 15/70, f 55/70), q's
	// capped.
	if got := splitRates(800_000, mk("q"), 640, 480); got[0] != 153_600 {
		t.Errorf("q alone at 800k: %v, want 153600", got)
	}
	if got := splitRates(800_000, mk("q", "f"), 640, 480); got[0] != 153_600 || got[1] != 628_571 {
		t.Errorf("q and f at 800k: %v, want 153600 628571", got)
	}
}

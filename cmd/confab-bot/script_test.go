package main

import (
	"flag"
	"io"
	"testing"
	"time"
)

func TestScriptFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		ok   bool
		n    int
	}{
		{[]string{"--script", "join@1s,mute@3s,unmute@5.5s,camera-off@6s,camera-on@7s,share@8s,unshare@9s,leave@10s"}, true, 8},
		{[]string{"--script", "leave@2s, join@0s"}, true, 2},
		{[]string{}, true, 0},
		{[]string{"--script", "dance@1s"}, false, 0},
		{[]string{"--script", "mute"}, false, 0},
		{[]string{"--script", "mute@soon"}, false, 0},
		{[]string{"--script", "mute@-1s"}, false, 0},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		b := addScriptFlags(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		err := b.parse()
		if (err == nil) != c.ok || len(b.steps) != c.n {
			t.Errorf("%v: err %v, %d steps", c.args, err, len(b.steps))
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	b := addScriptFlags(fs)
	_ = fs.Parse([]string{"--script-start", "1000000", "--script", "leave@2s,join@0.5s"})
	if err := b.parse(); err != nil {
		t.Fatal(err)
	}
	if at, ok := b.at("join"); !ok || !at.Equal(time.UnixMilli(1000500)) {
		t.Errorf("join at %v", at)
	}
	if b.steps[0].Action != "join" {
		t.Errorf("steps not in time order: %+v", b.steps)
	}
}

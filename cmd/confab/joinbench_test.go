package main

import (
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/confab/confab/ui"
)

// BenchmarkAppJoin measures, in the real app under Xvfb with three
// confab-bots already in the room, the time from clicking Join to the
// user's own video drawn in their tile, to the first remote video frame
// drawn and to all four tiles showing video, and reports the medians and
// the slowest (make bench: -benchtime 10x). Each iteration leaves and
// waits for the entry screen's preview before joining again.
func BenchmarkAppJoin(b *testing.B) {
	if e2e.skip != "" {
		b.Skip(e2e.skip)
	}
	const remotes = 3
	for _, name := range []string{"Grace", "Linus", "Margaret"} {
		bot := exec.Command(e2e.bot, "--server", e2e.emb.URL, "--room", "bench-join", "--name", name,
			"--duration", "1800s", "--fps", "15")
		if err := bot.Start(); err != nil {
			b.Fatal(err)
		}
		defer func() {
			_ = bot.Process.Kill()
			_ = bot.Wait()
		}()
	}
	entry := e2e.ui.Entry()
	onUI(func() { entry.RoomEntry.SetText("bench-join") })
	var own, remote, all []time.Duration
	for i := 0; i < b.N; i++ {
		waitFor(b, 2*time.Minute, "the entry screen ready to join", func() bool {
			return e2e.ui.Call() == nil && !entry.Joining() && !entry.JoinButton.Disabled() && entry.Preview.HasFrame()
		})
		start := time.Now()
		onUI(func() { entry.JoinButton.OnTapped() })
		var ownAt, remoteAt, allAt, welcomeAt, sourceAt time.Duration
		waitFor(b, 2*time.Minute, "own video and every remote video drawn", func() bool {
			cs := e2e.ui.Call()
			if cs == nil {
				return false
			}
			if welcomeAt == 0 && len(cs.Tiles()) > 0 {
				welcomeAt = time.Since(start)
			}
			drawn := 0
			for _, t := range cs.Tiles() {
				if t.IsSelf() && !t.IsScreen() && sourceAt == 0 && t.Video.Source() != nil {
					sourceAt = time.Since(start)
				}
				if t.IsScreen() || !t.Video.HasFrame() {
					continue
				}
				if t.IsSelf() && ownAt == 0 {
					ownAt = time.Since(start)
				}
				if !t.IsSelf() && remoteAt == 0 {
					remoteAt = time.Since(start)
				}
				drawn++
			}
			if drawn == remotes+1 && allAt == 0 {
				allAt = time.Since(start)
			}
			return allAt > 0
		})
		own, remote, all = append(own, ownAt), append(remote, remoteAt), append(all, allAt)
		var cs *ui.CallScreen
		var packetAt, decodedAt time.Duration
		onUI(func() {
			cs = e2e.ui.Call()
			for _, st := range cs.RemoteStats() {
				if !st.FirstVideoPacket.IsZero() {
					packetAt = st.FirstVideoPacket.Sub(start)
				}
				if !st.FirstFrame.IsZero() {
					decodedAt = st.FirstFrame.Sub(start)
				}
			}
		})
		b.Logf("join %d: tiles at %v, own video source at %v, own frame drawn at %v; remote: first video packet at %v, first frame decoded at %v, drawn at %v; all %d tiles with video at %v",
			i+1, welcomeAt, sourceAt, ownAt, packetAt, decodedAt, remoteAt, remotes+1, allAt)
		onUI(func() { cs.Controls().Leave.OnTapped() })
	}
	b.ReportMetric(float64(median(own).Milliseconds()), "ms-to-own-video-p50")
	b.ReportMetric(float64(median(remote).Milliseconds()), "ms-to-first-remote-frame-p50")
	b.ReportMetric(float64(median(all).Milliseconds()), "ms-to-four-tiles-p50")
	b.ReportMetric(float64(slices.Max(all).Milliseconds()), "ms-to-four-tiles-max")
	b.Logf("click Join -> own video: %v; -> first remote frame: %v; -> four tiles with video: %v", own, remote, all)
}

// waitFor polls cond on the UI goroutine every 20 ms until it holds.
func waitFor(b *testing.B, d time.Duration, what string, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(d)
	for {
		var ok bool
		onUI(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("after %v: no %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// median returns the middle duration.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

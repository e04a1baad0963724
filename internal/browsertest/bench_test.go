package browsertest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/client/clientmedia"
	"github.com/confab/confab/signaling/server/servertest"
)

// BenchmarkBrowserJoinToFirstFrame measures, in a room where a confab-bot
// publishes 640x480 at 30 fps, the time from a join to the first decoded
// frame of the bot's video, for headless Chromium on the guest page (from
// the Join click to the first frame its page counted, from
// confabTest.timings()) and, alternating with it in the same run, for a
// receive-only Go client (from client.Join to the first decoded frame, as
// BenchmarkJoinToFirstFrame in signaling/client/clientmedia measures it).
// Each iteration is one join of each. Run it with -benchtime=10x; it
// reports p50 and p95 of both.
func BenchmarkBrowserJoinToFirstFrame(b *testing.B) {
	srv := servertest.Start(b)
	requireGuestPage(b, srv.URL)
	br := Start(b, Options{})
	pub := StartBot(b, botBin(b), srv.URL, "bench", "Publisher", "--duration", "30m")
	pub.Wait(b, 60*time.Second, "joined", func(BotReport) bool { return true })
	pubID := pub.Report().Identity
	time.Sleep(3 * time.Second) // the publisher's camera and encoder are running
	ctx := context.Background()

	var browser, browserJoin, goClient []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, joined := browserJoinOnce(b, ctx, br, srv.URL, pubID, i)
		browser = append(browser, d)
		browserJoin = append(browserJoin, joined)
		goClient = append(goClient, goJoinOnce(b, srv.URL, i))
	}
	b.StopTimer()
	b.ReportMetric(ms(pct(browser, 50)), "chromium-p50-ms")
	b.ReportMetric(ms(pct(browser, 95)), "chromium-p95-ms")
	b.ReportMetric(ms(pct(browserJoin, 50)), "chromium-joined-p50-ms")
	b.ReportMetric(ms(pct(goClient, 50)), "go-p50-ms")
	b.ReportMetric(ms(pct(goClient, 95)), "go-p95-ms")
}

// browserJoinOnce opens the guest page in a new tab, joins the bench room
// and returns the times from the Join click to the publisher's first
// frame and to "joined"; it leaves and closes the tab.
func browserJoinOnce(b *testing.B, ctx context.Context, br *Browser, server, pubID string, i int) (first, joined time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	g, err := br.OpenGuest(ctx, server+"/r/bench")
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close(context.Background())
	if err := g.Join(ctx, fmt.Sprintf("Chromium %d", i), "bench"); err != nil {
		b.Fatal(err)
	}
	g.MustWait(b, 30*time.Second, "the publisher's first frame", fmt.Sprintf(`window.confabTest.timings().firstFrame[%q] > 0`, pubID), StateJS)
	tm, err := g.Timings(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := g.Click(ctx, "#leave"); err != nil {
		b.Fatal(err)
	}
	g.MustWait(b, 10*time.Second, "left", `window.confabTest.state().phase === "left"`, StateJS)
	return msDur(tm.FirstFrame[pubID] - tm.JoinClicked), msDur(tm.Joined - tm.JoinClicked)
}

// goJoinOnce joins a receive-only Go client and returns the time from Join
// to the publisher's first decoded frame.
func goJoinOnce(b *testing.B, server string, i int) time.Duration {
	m, err := clientmedia.New(clientmedia.Options{NoSpeaker: true})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	start := time.Now()
	s, err := client.Join(ctx, client.Config{Server: server, Room: "bench", Name: fmt.Sprintf("Go %d", i),
		Decoders: m, Audio: m, LoopbackOnly: true})
	cancel()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Leave()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range s.Stats() {
			if r.Name == "Publisher" && !r.FirstFrame.IsZero() {
				return r.FirstFrame.Sub(start)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	b.Fatalf("Go join %d: no frame within 30 s", i)
	return 0
}

func msDur(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

package clientmedia_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/confab/confab/internal/testbin"
	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/client/clientmedia"
	"github.com/confab/confab/signaling/server/servertest"
)

// BenchmarkJoinToFirstFrame measures, for each join of a receive-only
// participant into a room where a confab-bot publishes 640x480 at 30 fps,
// the time from calling Join to the first decoded video frame, split into
// signaling (Join returns: token, websocket, joined), media setup (first
// video packet: offer/answer, ICE, DTLS, the server's PLI), and decoding
// (first frame: the keyframe's packets and libvpx). Run it with
// -benchtime=20x; it reports p50 and p95.
func BenchmarkJoinToFirstFrame(b *testing.B) {
	srv := servertest.Start(b)
	bot, err := testbin.Build(b.TempDir(), "./cmd/confab-bot", "CONFAB_BOT_BIN")
	if err != nil {
		b.Fatal(err)
	}
	pub := exec.Command(bot, "--server", srv.URL, "--room", "bench", "--name", "Publisher", "--duration", "10m")
	pub.Stderr = os.Stderr
	if err := pub.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = pub.Process.Kill(); _ = pub.Wait() })
	time.Sleep(3 * time.Second) // the publisher's camera and encoder are running

	var total, signaling, media, decode []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, err := clientmedia.New(clientmedia.Options{NoSpeaker: true})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		start := time.Now()
		s, err := client.Join(ctx, client.Config{Server: srv.URL, Room: "bench", Name: fmt.Sprintf("Viewer %d", i),
			Decoders: m, Audio: m, LoopbackOnly: true})
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		joined := time.Now()
		var st client.RemoteStats
		deadline := time.Now().Add(10 * time.Second)
		for st.FirstFrame.IsZero() && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
			for _, r := range s.Stats() {
				if r.Name == "Publisher" {
					st = r
				}
			}
		}
		if st.FirstFrame.IsZero() {
			b.Fatalf("join %d: no frame within 10 s", i)
		}
		total = append(total, st.FirstFrame.Sub(start))
		signaling = append(signaling, joined.Sub(start))
		media = append(media, st.FirstVideoPacket.Sub(joined))
		decode = append(decode, st.FirstFrame.Sub(st.FirstVideoPacket))
		s.Leave()
		m.Close()
	}
	b.StopTimer()
	b.ReportMetric(ms(pct(total, 50)), "p50-ms")
	b.ReportMetric(ms(pct(total, 95)), "p95-ms")
	b.ReportMetric(ms(pct(signaling, 50)), "signaling-p50-ms")
	b.ReportMetric(ms(pct(media, 50)), "media-setup-p50-ms")
	b.ReportMetric(ms(pct(decode, 50)), "keyframe-decode-p50-ms")
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

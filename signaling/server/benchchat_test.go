package server_test

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/server/servertest"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

// benchClient is one raw websocket participant of the chat bench: one
// goroutine reads, the caller writes.
type benchClient struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	sent sync.Map // id -> send time (for answers to own messages)

	mu        sync.Mutex
	delivery  []time.Duration // sender -> this client, per chat message received
	answers   []time.Duration // own message -> ack or refusal
	received  int
	acked     int
	overload  int
	ratelimit int
	other     int
}

func benchJoin(t *testing.T, srv *servertest.Server, room, id string) *benchClient {
	tok := srv.Token(token.Claims{Identity: id, Name: id, Room: room, Grants: token.Grants{Chat: true, Subscribe: false}}, time.Hour, time.Now())
	d := websocket.Dialer{HandshakeTimeout: 20 * time.Second}
	ws, _, err := d.Dial(wsURL(srv), nil)
	if err != nil {
		t.Fatalf("dial %s: %v", id, err)
	}
	b, _ := wire.Encode(wire.TypeJoin, wire.Join{Token: tok, Room: room})
	if err := ws.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("join %s: %v", id, err)
		}
		env, _ := wire.DecodeEnvelope(msg)
		if env.Type == wire.TypeJoined {
			break
		}
		if env.Type == wire.TypeError {
			t.Fatalf("join %s: %s", id, env.Data)
		}
	}
	_ = ws.SetReadDeadline(time.Time{})
	c := &benchClient{ws: ws}
	go c.read()
	return c
}

// chatPrefix starts every chat message the server sends; read picks the
// id and the send time out of those without a JSON decoder, so that the
// 960 clients in the bench's own process cost little CPU.
var chatPrefix = []byte(`{"v":1,"type":"chat","data":{"message":{`)

// field returns the JSON string value after `"name":"` in b.
func field(b []byte, name string) string {
	key := `"` + name + `":"`
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return ""
	}
	rest := b[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

func (c *benchClient) read() {
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		now := time.Now()
		if bytes.HasPrefix(b, chatPrefix) {
			id := field(b, "id")
			sentNS, _ := strconv.ParseInt(strings.TrimPrefix(field(b, "text"), "t="), 10, 64)
			c.mu.Lock()
			c.received++
			c.delivery = append(c.delivery, now.Sub(time.Unix(0, sentNS)))
			if at, ok := c.sent.LoadAndDelete(id); ok {
				c.acked++
				c.answers = append(c.answers, now.Sub(at.(time.Time)))
			}
			c.mu.Unlock()
			continue
		}
		env, err := wire.DecodeEnvelope(b)
		if err != nil {
			continue
		}
		switch env.Type {
		case wire.TypeChat:
			var ce wire.ChatEvent
			if wire.DecodeData(env, &ce) != nil {
				continue
			}
			sentNS, _ := strconv.ParseInt(strings.TrimPrefix(ce.Message.Text, "t="), 10, 64)
			c.mu.Lock()
			c.received++
			c.delivery = append(c.delivery, now.Sub(time.Unix(0, sentNS)))
			if at, ok := c.sent.LoadAndDelete(ce.Message.ID); ok {
				c.acked++
				c.answers = append(c.answers, now.Sub(at.(time.Time)))
			}
			c.mu.Unlock()
		case wire.TypeError:
			var e wire.Error
			if wire.DecodeData(env, &e) != nil {
				continue
			}
			c.mu.Lock()
			switch e.Code {
			case wire.CodeOverloaded:
				c.overload++
			case wire.CodeRateLimited:
				c.ratelimit++
			default:
				c.other++
			}
			if at, ok := c.sent.LoadAndDelete(e.Ref); ok {
				c.answers = append(c.answers, now.Sub(at.(time.Time)))
			}
			c.mu.Unlock()
		}
	}
}

func (c *benchClient) say(id string) error {
	now := time.Now()
	c.sent.Store(id, now)
	b, _ := wire.Encode(wire.TypeChat, wire.ChatSend{ID: id, Text: "t=" + strconv.FormatInt(now.UnixNano(), 10)})
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// reset clears the counters between phases.
func (c *benchClient) reset() {
	c.mu.Lock()
	c.delivery, c.answers = nil, nil
	c.received, c.acked, c.overload, c.ratelimit, c.other = 0, 0, 0, 0, 0
	c.mu.Unlock()
}

type benchTotals struct {
	delivery, answers                                 []time.Duration
	received, acked, overload, ratelimit, other, sent int
}

// counts returns the messages received and the answers to own messages,
// cheaply, for polling.
func counts(cs []*benchClient) (received, answers int) {
	for _, c := range cs {
		c.mu.Lock()
		received += c.received
		answers += len(c.answers)
		c.mu.Unlock()
	}
	return received, answers
}

func totals(cs []*benchClient) benchTotals {
	var t benchTotals
	for _, c := range cs {
		c.mu.Lock()
		t.delivery = append(t.delivery, c.delivery...)
		t.answers = append(t.answers, c.answers...)
		t.received += c.received
		t.acked += c.acked
		t.overload += c.overload
		t.ratelimit += c.ratelimit
		t.other += c.other
		c.mu.Unlock()
	}
	slices.Sort(t.delivery)
	slices.Sort(t.answers)
	return t
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// TestBenchChat is the chat benchmark (scripts/bench-chat.sh; set
// CONFAB_BENCH_CHAT=1). All traffic is on 127.0.0.1 and it stops itself.
//
//  1. Steady: 60 rooms x 16 clients, each sending 1 message/s for
//     CONFAB_BENCH_SECONDS (default 20): delivery latency from sender to
//     every member, p50/p99, and messages lost.
//  2. Ramp: 60 more rooms with one sender each (its own message coming
//     back is the measure, so the store, not the fan-out, is what is
//     loaded), the total rate raised step by step for 3 s each until p99
//     exceeds 100 ms or messages are refused: the highest rate sustained.
//  3. Overload: four times that rate (at least 8000/s) for 3 s: every
//     message must be answered (stored, or refused with overloaded or
//     rate_limited) within about 1 s.
//
// The server is the real one with its real SQLite store in a temporary
// directory; its per-participant limits are raised (chat 10/s by default)
// so that 60 senders can offer thousands of messages per second.
func TestBenchChat(t *testing.T) {
	if os.Getenv("CONFAB_BENCH_CHAT") == "" {
		t.Skip("the chat bench runs from scripts/bench-chat.sh (CONFAB_BENCH_CHAT=1)")
	}
	steadyFor := 20 * time.Second
	if s, err := strconv.Atoi(os.Getenv("CONFAB_BENCH_SECONDS")); err == nil && s > 0 {
		steadyFor = time.Duration(s) * time.Second
	}
	rooms, perRoom := 60, 16
	if n, err := strconv.Atoi(os.Getenv("CONFAB_BENCH_ROOMS")); err == nil && n > 0 {
		rooms = n
	}
	srv := servertest.Start(t, servertest.Config(func(c *server.Config) {
		c.ChatRate, c.ChatBurst, c.MessageRate, c.MessageBurst = 100_000, 100_000, 100_000, 100_000
	}))

	// 1. Steady.
	start := time.Now()
	clients := make([]*benchClient, rooms*perRoom)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			clients[i] = benchJoin(t, srv, fmt.Sprint("steady-", i/perRoom), fmt.Sprint("s", i))
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range clients {
			c.ws.Close()
		}
	})
	fmt.Printf("chat bench: %d clients joined %d rooms in %v\n", len(clients), rooms, time.Since(start).Round(time.Millisecond))
	var sent atomic.Int64
	stop := time.Now().Add(steadyFor)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * time.Second / time.Duration(len(clients))) // spread the phases
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for n := 0; time.Now().Before(stop); n++ {
				if c.say(fmt.Sprintf("s%d-%d", i, n)) != nil {
					return
				}
				sent.Add(1)
				<-tick.C
			}
		}()
	}
	wg.Wait()
	// Every stored message must reach all 16 members of its room; refused
	// ones (overloaded) were never stored, and the sender was told. Wait
	// until nothing more arrives for 2 s (at most 30 s).
	stored := func() int {
		n := 0
		for _, c := range clients {
			c.mu.Lock()
			n += c.acked
			c.mu.Unlock()
		}
		return n
	}
	last, lastAt := -1, time.Now()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		r, a := counts(clients)
		if r+a != last {
			last, lastAt = r+a, time.Now()
		} else if time.Since(lastAt) > 2*time.Second {
			break
		}
	}
	want := stored() * perRoom
	tt := totals(clients)
	fmt.Printf("chat bench steady: %d rooms x %d clients at 1 msg/s for %v: %d messages sent, %d stored, %d deliveries of %d expected, lost %d; delivery p50 %s p99 %s max %s; refused: overloaded %d, rate_limited %d, other errors %d\n",
		rooms, perRoom, steadyFor, sent.Load(), want/perRoom, tt.received, want, want-tt.received,
		ms(pct(tt.delivery, 0.5)), ms(pct(tt.delivery, 0.99)), ms(pct(tt.delivery, 1)), tt.overload, tt.ratelimit, tt.other)
	if tt.received != want {
		t.Errorf("steady phase lost %d deliveries", want-tt.received)
	}
	for _, c := range clients {
		c.ws.Close()
	}

	// 2. Ramp.
	senders := make([]*benchClient, rooms)
	for i := range senders {
		senders[i] = benchJoin(t, srv, fmt.Sprint("ramp-", i), fmt.Sprint("r", i))
	}
	t.Cleanup(func() {
		for _, c := range senders {
			c.ws.Close()
		}
	})
	step := func(name string, rate int, d time.Duration) benchTotals {
		for _, c := range senders {
			c.reset()
		}
		var n atomic.Int64
		end := time.Now().Add(d)
		const tick = 10 * time.Millisecond
		for i, c := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				perTick := float64(rate) / float64(len(senders)) * tick.Seconds()
				owed := 0.0
				tk := time.NewTicker(tick)
				defer tk.Stop()
				for k := 0; time.Now().Before(end); {
					owed += perTick
					for ; owed >= 1; owed-- {
						if c.say(fmt.Sprintf("%s-%d-%d-%d", name, rate, i, k)) != nil {
							return
						}
						k++
						n.Add(1)
					}
					<-tk.C
				}
			}()
		}
		wg.Wait()
		// Wait for every answer (bounded: unanswered ones count as lost).
		dl := time.Now().Add(5 * time.Second)
		for _, a := counts(senders); a < int(n.Load()) && time.Now().Before(dl); _, a = counts(senders) {
			time.Sleep(50 * time.Millisecond)
		}
		tt := totals(senders)
		tt.sent = int(n.Load())
		return tt
	}
	best, bestP99 := 0, time.Duration(0)
	for _, rate := range []int{250, 500, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 10000, 12000, 15000} {
		d := 3 * time.Second
		tt := step("ramp", rate, d)
		achieved := float64(tt.acked) / d.Seconds()
		p99 := pct(tt.answers, 0.99)
		fmt.Printf("chat bench ramp: offered %5d msg/s: stored %6.0f msg/s, ack p50 %s p99 %s, overloaded %d, rate_limited %d, unanswered %d\n",
			rate, achieved, ms(pct(tt.answers, 0.5)), ms(p99), tt.overload, tt.ratelimit, tt.sent-len(tt.answers))
		if p99 > 100*time.Millisecond || tt.overload > 0 || tt.ratelimit > 0 || len(tt.answers) < tt.sent || achieved < 0.9*float64(rate) {
			break
		}
		best, bestP99 = rate, p99
	}
	fmt.Printf("chat bench: highest rate sustained with p99 <= 100 ms: %d msg/s (p99 %s)\n", best, ms(bestP99))

	// 3. Overload.
	over := max(4*best, 8000)
	tt = step("over", over, 3*time.Second)
	fmt.Printf("chat bench overload: offered %d msg/s for 3 s: %d stored, %d overloaded, %d rate_limited, %d unanswered; answer p50 %s p99 %s max %s\n",
		over, tt.acked, tt.overload, tt.ratelimit, tt.sent-len(tt.answers), ms(pct(tt.answers, 0.5)), ms(pct(tt.answers, 0.99)), ms(pct(tt.answers, 1)))
	if tt.sent != len(tt.answers) {
		t.Errorf("overload: %d messages never answered", tt.sent-len(tt.answers))
	}
	within := 0
	for _, d := range tt.answers {
		if d <= time.Second {
			within++
		}
	}
	fmt.Printf("chat bench overload: %.1f%% of the messages answered within 1 s (the server refuses what waited 1 s in its queue; the rest is time before it reads and after it sends, on a shared CPU)\n",
		100*float64(within)/float64(max(1, len(tt.answers))))
}

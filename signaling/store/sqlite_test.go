package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func openTemp(t testing.TB, opts ...Option) (*SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db", "confab.db")
	s, err := OpenSQLite(path, opts...)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func msg(room, from, id string, i int) ChatMessage {
	return ChatMessage{
		Room: room, ID: id, From: from, Name: "Name " + from,
		Text: fmt.Sprintf("message %d", i), At: t0.Add(time.Duration(i) * time.Millisecond),
	}
}

// fill appends n messages from "alice" to room and fails the test on error.
func fill(t *testing.T, s *SQLite, room string, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if _, _, err := s.AppendChat(context.Background(), msg(room, "alice", fmt.Sprint("m", i), i)); err != nil {
			t.Fatal(err)
		}
	}
}

func seqs(msgs []ChatMessage) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func equalSeqs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAppendChatConcurrentSequence(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	const workers, each = 3, 50
	var wg sync.WaitGroup
	got := make([][]int64, workers)
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			from := fmt.Sprint("user", w)
			for i := range each {
				m, dup, err := s.AppendChat(ctx, msg("room", from, fmt.Sprint("id", i), i))
				if err != nil || dup {
					errs[w] = fmt.Errorf("append %d: dup=%v err=%v", i, dup, err)
					return
				}
				got[w] = append(got[w], m.Seq)
				// A second room interleaved must not disturb the first.
				if _, _, err := s.AppendChat(ctx, msg("other", from, fmt.Sprint("id", i), i)); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for w := range workers {
		if errs[w] != nil {
			t.Fatal(errs[w])
		}
		for i := 1; i < len(got[w]); i++ {
			if got[w][i] <= got[w][i-1] {
				t.Fatalf("worker %d saw seq %d after %d", w, got[w][i], got[w][i-1])
			}
		}
	}
	for _, room := range []string{"room", "other"} {
		var all []ChatMessage
		after := int64(0)
		for {
			page, more, err := s.ChatAfter(ctx, room, after, MaxChatPage)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
			if !more {
				break
			}
			after = page[len(page)-1].Seq
		}
		if want := seqRange(1, workers*each); !equalSeqs(seqs(all), want) {
			t.Fatalf("room %s seqs = %v, want 1..%d", room, seqs(all), workers*each)
		}
	}
}

func TestAppendChatDuplicate(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	orig, dup, err := s.AppendChat(ctx, msg("r", "alice", "x", 1))
	if err != nil || dup || orig.Seq != 1 {
		t.Fatalf("first append: %+v dup=%v err=%v", orig, dup, err)
	}
	if !orig.At.Equal(t0.Add(time.Millisecond)) {
		t.Fatalf("At = %v", orig.At)
	}

	retry := msg("r", "alice", "x", 99) // same id, different text and time
	got, dup, err := s.AppendChat(ctx, retry)
	if err != nil || !dup {
		t.Fatalf("retry: dup=%v err=%v", dup, err)
	}
	if got != orig {
		t.Fatalf("retry returned %+v, want original %+v", got, orig)
	}

	// The same id from another sender is another message.
	other, dup, err := s.AppendChat(ctx, msg("r", "bob", "x", 2))
	if err != nil || dup || other.Seq != 2 {
		t.Fatalf("other sender: %+v dup=%v err=%v", other, dup, err)
	}
	// And in another room it starts that room's sequence.
	elsewhere, dup, err := s.AppendChat(ctx, msg("r2", "alice", "x", 3))
	if err != nil || dup || elsewhere.Seq != 1 {
		t.Fatalf("other room: %+v dup=%v err=%v", elsewhere, dup, err)
	}

	all, _, err := s.ChatHistory(ctx, "r", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0] != orig || all[1] != other {
		t.Fatalf("history = %+v", all)
	}
}

func TestChatHistoryPaging(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	fill(t, s, "r", 25)

	tests := []struct {
		name     string
		before   int64
		limit    int
		want     []int64
		wantMore bool
	}{
		{"newest page", 0, 10, seqRange(16, 25), true},
		{"negative before is newest", -5, 10, seqRange(16, 25), true},
		{"second page", 16, 10, seqRange(6, 15), true},
		{"last page", 6, 10, seqRange(1, 5), false},
		{"exact fit", 11, 10, seqRange(1, 10), false},
		{"before first", 1, 10, nil, false},
		{"everything", 0, 100, seqRange(1, 25), false},
		{"zero limit clamped to one", 0, 0, []int64{25}, true},
		{"before beyond end", 1000, 5, seqRange(21, 25), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := s.ChatHistory(ctx, "r", tt.before, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !equalSeqs(seqs(got), tt.want) || more != tt.wantMore {
				t.Fatalf("got %v more=%v, want %v more=%v", seqs(got), more, tt.want, tt.wantMore)
			}
		})
	}

	got, _, err := s.ChatHistory(ctx, "r", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := msg("r", "alice", "m25", 25)
	want.Seq = 25
	if got[0] != want {
		t.Fatalf("message = %+v, want %+v", got[0], want)
	}
	if got, more, err := s.ChatHistory(ctx, "empty", 0, 10); err != nil || more || len(got) != 0 {
		t.Fatalf("empty room: %v %v %v", got, more, err)
	}
}

func TestChatHistoryLimitClamp(t *testing.T) {
	s, _ := openTemp(t)
	fill(t, s, "r", MaxChatPage+5)
	got, more, err := s.ChatHistory(context.Background(), "r", 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != MaxChatPage || !more || got[0].Seq != 6 {
		t.Fatalf("got %d messages from seq %d, more=%v", len(got), got[0].Seq, more)
	}
}

func TestChatAfter(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	fill(t, s, "r", 25)
	tests := []struct {
		name     string
		after    int64
		limit    int
		want     []int64
		wantMore bool
	}{
		{"from start", 0, 10, seqRange(1, 10), true},
		{"negative after is start", -1, 10, seqRange(1, 10), true},
		{"middle", 10, 10, seqRange(11, 20), true},
		{"tail", 20, 10, seqRange(21, 25), false},
		{"exact fit", 15, 10, seqRange(16, 25), false},
		{"caught up", 25, 10, nil, false},
		{"ahead of store", 99, 10, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := s.ChatAfter(ctx, "r", tt.after, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !equalSeqs(seqs(got), tt.want) || more != tt.wantMore {
				t.Fatalf("got %v more=%v, want %v more=%v", seqs(got), more, tt.want, tt.wantMore)
			}
		})
	}
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "confab.db")
	ctx := context.Background()
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, s, "r", 3)
	if err := s.AppendEvent(ctx, Event{Room: "r", Identity: "alice", Kind: KindJoin, At: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	s, err = OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, _, err := s.ChatHistory(ctx, "r", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !equalSeqs(seqs(got), seqRange(1, 3)) || got[2].Text != "message 3" {
		t.Fatalf("after reopen: %+v", got)
	}
	m, dup, err := s.AppendChat(ctx, msg("r", "alice", "m3", 3))
	if err != nil || !dup || m.Seq != 3 {
		t.Fatalf("duplicate after reopen: %+v dup=%v err=%v", m, dup, err)
	}
	m, _, err = s.AppendChat(ctx, msg("r", "alice", "m4", 4))
	if err != nil || m.Seq != 4 {
		t.Fatalf("sequence after reopen: %+v err=%v", m, err)
	}
	ev, err := s.Events(ctx, "r", 10)
	if err != nil || len(ev) != 1 || ev[0].Kind != KindJoin {
		t.Fatalf("events after reopen: %+v err=%v", ev, err)
	}
}

func TestPragmas(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	var mode string
	var version, timeout int
	if err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&timeout); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || version != len(migrations()) || timeout != int(busyTimeout.Milliseconds()) {
		t.Fatalf("journal_mode=%s user_version=%d busy_timeout=%d", mode, version, timeout)
	}
}

func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "confab.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA user_version = 999`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := OpenSQLite(path); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("OpenSQLite error = %v, want ErrSchemaTooNew", err)
	}
}

func TestEvents(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	in := []Event{
		{Room: "r", Identity: "alice", Kind: KindJoin, At: t0},
		{Room: "r", Identity: "bob", Kind: KindJoin, At: t0.Add(time.Second)},
		{Room: "r", Identity: "bob", Kind: KindMicMute, At: t0.Add(2 * time.Second)},
		{Room: "r", Identity: "alice", Kind: KindScreenStart, At: t0.Add(2 * time.Second), Detail: "display 1"},
		{Room: "r", Identity: "bob", Kind: KindLeave, At: t0.Add(3 * time.Second), Detail: "closed"},
	}
	// Append out of time order: the log is returned by time, and events
	// with equal times keep the order they were appended in.
	order := []int{0, 4, 1, 2, 3}
	for _, i := range order {
		if err := s.AppendEvent(ctx, in[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AppendEvent(ctx, Event{Room: "other", Kind: KindJoin, Identity: "carol", At: t0}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Events(ctx, "r", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("got %d events, want %d: %+v", len(got), len(in), got)
	}
	for i := range in {
		if got[i] != in[i] {
			t.Fatalf("event %d = %+v, want %+v", i, got[i], in[i])
		}
	}
	last, err := s.Events(ctx, "r", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != 2 || last[0] != in[3] || last[1] != in[4] {
		t.Fatalf("most recent two = %+v", last)
	}
}

func TestClockFillsZeroTime(t *testing.T) {
	now := t0.Add(1234567 * time.Microsecond)
	s, _ := openTemp(t, WithClock(func() time.Time { return now }))
	ctx := context.Background()
	m, _, err := s.AppendChat(ctx, ChatMessage{Room: "r", From: "a", ID: "1", Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Truncate(time.Millisecond); !m.At.Equal(want) {
		t.Fatalf("At = %v, want %v", m.At, want)
	}
	if err := s.AppendEvent(ctx, Event{Room: "r", Kind: KindChat}); err != nil {
		t.Fatal(err)
	}
	ev, err := s.Events(ctx, "r", 1)
	if err != nil || len(ev) != 1 || !ev[0].At.Equal(now.Truncate(time.Millisecond)) {
		t.Fatalf("events = %+v err=%v", ev, err)
	}
}

func TestInvalidArguments(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	calls := map[string]func() error{
		"chat empty room": func() error {
			_, _, err := s.AppendChat(ctx, ChatMessage{From: "a", ID: "1"})
			return err
		},
		"chat empty sender": func() error {
			_, _, err := s.AppendChat(ctx, ChatMessage{Room: "r", ID: "1"})
			return err
		},
		"chat empty id": func() error {
			_, _, err := s.AppendChat(ctx, ChatMessage{Room: "r", From: "a"})
			return err
		},
		"history empty room": func() error {
			_, _, err := s.ChatHistory(ctx, "", 0, 10)
			return err
		},
		"after empty room": func() error {
			_, _, err := s.ChatAfter(ctx, "", 0, 10)
			return err
		},
		"event empty room": func() error { return s.AppendEvent(ctx, Event{Kind: KindJoin}) },
		"event empty kind": func() error { return s.AppendEvent(ctx, Event{Room: "r"}) },
		"events empty room": func() error {
			_, err := s.Events(ctx, "", 10)
			return err
		},
		"open empty path": func() error {
			_, err := OpenSQLite("")
			return err
		},
		"open path with ?": func() error {
			_, err := OpenSQLite(filepath.Join(t.TempDir(), "a?b"))
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("error = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestCanceledContext(t *testing.T) {
	s, _ := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.AppendChat(ctx, msg("r", "a", "1", 1)); err == nil {
		t.Fatal("AppendChat with canceled context succeeded")
	}
	if got, _, err := s.ChatAfter(context.Background(), "r", 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("after canceled append: %v %v", got, err)
	}
}

func TestMemory(t *testing.T) {
	s, err := OpenSQLite(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fill(t, s, "r", 2)
	if got, _, err := s.ChatAfter(context.Background(), "r", 0, 10); err != nil || len(got) != 2 {
		t.Fatalf("%v %v", got, err)
	}
}

func BenchmarkAppendChat(b *testing.B) {
	s, _ := openTemp(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		if _, _, err := s.AppendChat(ctx, msg("bench", "alice", fmt.Sprint(i), i)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAppendBatch(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	fill(t, s, "a", 2) // a: 1, 2 from alice m1, m2
	b := Batch{
		Chats: []ChatMessage{
			msg("a", "bob", "x", 10),
			msg("b", "bob", "x", 11),    // same id, another room: new
			msg("a", "alice", "m2", 12), // stored before this batch
			msg("a", "bob", "x", 13),    // duplicate within the batch
			msg("a", "carol", "x", 14),  // same id, another sender: new
			msg("b", "bob", "y", 15),
		},
		Events:   []Event{{Room: "a", Identity: "bob", Kind: KindJoin, At: t0}},
		LogChats: true,
	}
	res, err := s.AppendBatch(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		room string
		seq  int64
		dup  bool
	}{{"a", 3, false}, {"b", 1, false}, {"a", 2, true}, {"a", 3, true}, {"a", 4, false}, {"b", 2, false}}
	if len(res) != len(want) {
		t.Fatalf("%d results; want %d", len(res), len(want))
	}
	for i, w := range want {
		if res[i].Msg.Room != w.room || res[i].Msg.Seq != w.seq || res[i].Dup != w.dup {
			t.Errorf("result %d: %+v dup=%v; want room %s seq %d dup %v", i, res[i].Msg, res[i].Dup, w.room, w.seq, w.dup)
		}
	}
	if res[3].Msg.Text != "message 10" {
		t.Errorf("in-batch duplicate returned %q; want the first text", res[3].Msg.Text)
	}
	got, _, err := s.ChatAfter(ctx, "a", 0, 100)
	if err != nil || !equalSeqs(seqs(got), seqRange(1, 4)) {
		t.Fatalf("room a: %v %v", seqs(got), err)
	}
	evs, err := s.Events(ctx, "a", 100)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range evs {
		kinds[e.Kind]++
	}
	if kinds[KindJoin] != 1 || kinds[KindChat] != 2 {
		t.Fatalf("events of a: %v; want 1 join and 2 chat (new messages only)", kinds)
	}
}

// TestAppendBatchAllOrNothing: an invalid item stores nothing of the batch.
func TestAppendBatchAllOrNothing(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	_, err := s.AppendBatch(ctx, Batch{Chats: []ChatMessage{msg("a", "bob", "x", 1), {Room: "a", From: "bob"}}})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("err %v; want ErrInvalid", err)
	}
	if got, _, _ := s.ChatAfter(ctx, "a", 0, 10); len(got) != 0 {
		t.Fatalf("stored %d messages of a refused batch", len(got))
	}
}

// TestReadsDoNotQueueBehindWrites holds the write connection in an open
// transaction; history and event reads must still answer at once.
func TestReadsDoNotQueueBehindWrites(t *testing.T) {
	s, _ := openTemp(t)
	fill(t, s, "r", 3)
	tx, err := s.db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO chat (room, seq, msg_id, sender, name, body, at_ms) VALUES ('r', 4, 'w', 'w', 'w', 'uncommitted', 0)`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	got, _, err := s.ChatHistory(ctx, "r", 0, 10)
	if err != nil || !equalSeqs(seqs(got), seqRange(1, 3)) {
		t.Fatalf("history while a write is open: %v %v", seqs(got), err)
	}
	if _, err := s.Events(ctx, "r", 10); err != nil {
		t.Fatalf("events while a write is open: %v", err)
	}
}

func BenchmarkAppendBatch100(b *testing.B) {
	s, _ := openTemp(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		batch := Batch{LogChats: true}
		for range 100 {
			i++
			batch.Chats = append(batch.Chats, msg(fmt.Sprint("room", i%60), "alice", fmt.Sprint(i), i))
		}
		if _, err := s.AppendBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAppendBatchLarge spans every prepared statement size (341 = 256 +
// 64 + 16 + 4 + 1) over three rooms, with resends: seqs stay gap-free.
func TestAppendBatchLarge(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	var b Batch
	for i := 0; i < 341; i++ {
		b.Chats = append(b.Chats, msg(fmt.Sprint("r", i%3), "alice", fmt.Sprint("m", i%300), i))
	}
	res, err := s.AppendBatch(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	dups := 0
	for _, r := range res {
		if r.Dup {
			dups++
		}
	}
	if dups != 41 {
		t.Fatalf("%d duplicates; want 41", dups)
	}
	total := 0
	for _, room := range []string{"r0", "r1", "r2"} {
		got, _, err := s.ChatAfter(ctx, room, 0, MaxChatPage)
		if err != nil || !equalSeqs(seqs(got), seqRange(1, int64(len(got)))) {
			t.Fatalf("%s: %v %v", room, seqs(got), err)
		}
		total += len(got)
	}
	if total != 300 {
		t.Fatalf("stored %d; want 300", total)
	}
}

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/confab/confab/signaling/meeting"
	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/store"
)

// staleAlive is how long after its last "alive" mark an open meeting is
// taken as left open by a stopped server rather than running.
const staleAlive = 5 * time.Second

// meetingsCmd runs "confab-server meetings": the meetings of the data
// directory with their analytics, newest first, as a table or JSON. It
// reads the database directly, so it works with the server running or not.
func meetingsCmd(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("meetings", flag.ContinueOnError)
	data := fs.String("data", env("data", defaultDataDir()), "data directory of the server")
	room := fs.String("room", "", "only this room's meetings")
	since := fs.String("since", "", "only meetings that started since: a time (2006-01-02, RFC 3339) or a duration ago (24h)")
	limit := fs.Int("limit", 50, "at most this many meetings, newest first")
	asJSON := fs.Bool("json", false, "print JSON ({\"meetings\": [...]}, as GET /api/meetings) instead of a table")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: confab-server meetings [--room R] [--since T] [--limit N] [--json] [--data DIR]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	now := time.Now()
	f := store.MeetingFilter{Room: *room, Limit: *limit}
	if *since != "" {
		t, err := parseSince(*since, now)
		if err != nil {
			return err
		}
		f.Since = t
	}
	if *limit < 1 || *limit > store.MaxMeetings {
		return fmt.Errorf("--limit: 1 to %d", store.MaxMeetings)
	}
	dd, err := server.OpenDataDir(*data)
	if err != nil {
		return err
	}
	defer dd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := dd.Store.Meetings(ctx, f)
	if err != nil {
		return err
	}
	list := []meeting.Analytics{}
	for _, m := range rows {
		upTo := now
		if m.End.IsZero() && now.Sub(m.Alive) > staleAlive {
			upTo = m.Alive // the server stopped without closing it
		}
		a, err := meeting.Load(ctx, dd.Store, m, upTo)
		if err != nil {
			return err
		}
		if m.End.IsZero() && upTo.Equal(m.Alive) {
			a.EndedBy = "left open: the server stopped; it is closed when the server starts again"
		}
		list = append(list, a)
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"meetings": list})
	}
	if len(list) == 0 {
		_, err := fmt.Fprintln(out, "no meetings")
		return err
	}
	for i, a := range list {
		if i > 0 {
			fmt.Fprintln(out)
		}
		printMeeting(out, a)
	}
	return nil
}

// parseSince reads --since: a date, an RFC 3339 time or a duration ago.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: not a date (2006-01-02), an RFC 3339 time or a duration (24h)", s)
}

// printMeeting writes a as a heading and a table of its participants.
func printMeeting(w io.Writer, a meeting.Analytics) {
	start := time.UnixMilli(a.StartedAt).Local()
	status := "running"
	end := "now"
	if a.EndedAt != 0 {
		end = time.UnixMilli(a.EndedAt).Local().Format("15:04:05")
		status = "ended (" + strings.ReplaceAll(a.EndedBy, "_", " ") + ")"
	} else if a.EndedBy != "" {
		status = a.EndedBy
	}
	fmt.Fprintf(w, "Meeting %d  room %q  %s – %s  %s  %s\n", a.ID, a.Room, start.Format("2006-01-02 15:04:05"), end, secs(a.DurationMS), status)
	ratings := "no ratings"
	if len(a.Ratings) > 0 {
		var rs []string
		for _, r := range a.Ratings {
			s := fmt.Sprintf("%d/5 by %s", r.Rating, r.Identity)
			if r.Comment != "" {
				s += fmt.Sprintf(" %q", r.Comment)
			}
			rs = append(rs, s)
		}
		ratings = "ratings: " + strings.Join(rs, ", ")
	}
	fmt.Fprintf(w, "peak %d participants, %d chat messages, %s\n", a.PeakParticipants, a.ChatMessages, ratings)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "NAME\tIDENTITY\tJOINS\tPRESENT\tTALK\tTALK %\tMUTED\tCAMERA OFF\tSCREEN\t")
	var talk int64
	for _, p := range a.Participants {
		talk += p.TalkMS
	}
	for _, p := range a.Participants {
		share := "-"
		if talk > 0 {
			share = fmt.Sprintf("%.0f%%", 100*float64(p.TalkMS)/float64(talk))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Name, p.Identity, p.Joins,
			secs(p.PresentMS), secs(p.TalkMS), share, secs(p.MutedMS), secs(p.CameraOffMS), secs(p.ScreenMS))
	}
	tw.Flush()
}

// secs formats milliseconds as seconds with one decimal, or m:ss.s past a
// minute.
func secs(ms int64) string {
	if ms < 60_000 {
		return fmt.Sprintf("%.1fs", float64(ms)/1000)
	}
	d := time.Duration(ms) * time.Millisecond
	h, m := int(d.Hours()), int(d.Minutes())%60
	s := float64(ms%60_000) / 1000
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%04.1f", h, m, s)
	}
	return fmt.Sprintf("%d:%04.1f", m, s)
}

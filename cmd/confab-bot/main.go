// Command confab-bot is a headless Confab participant with a synthetic
// camera (test pattern) and microphone (tone), for tests, demos and load.
// It joins through the same client session and media pipeline as the app,
// and prints as its last line one JSON object describing what it received
// (with --progress, the same object also every interval before that, with
// "final": false).
//
//	confab-bot --server ws://127.0.0.1:7880 --room R --name N [--token T] [--duration 10s] [--chat N] [--progress 1s] [--raise-hand] [--react 🎉]
//	           [--aec=false] [--ns=false] [--agc=false]
//	confab-bot --server URL --name N --answer accept|decline|ignore [--answer-after 2s] [--duration 30s]
//	confab-bot --server URL --name N --call "Ana" [--call-kind audio]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/pion/mediadevices/pkg/driver/audiotest"
	_ "github.com/pion/mediadevices/pkg/driver/videotest"

	"github.com/confab/confab/internal/profile"
	"github.com/confab/confab/internal/version"
	"github.com/confab/confab/media/capture"
	"github.com/confab/confab/signaling/calls"
	"github.com/confab/confab/signaling/client"
	"github.com/confab/confab/signaling/client/clientmedia"
	"github.com/confab/confab/signaling/wire"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Report is the JSON line the bot prints last.
type Report struct {
	Identity     string                  `json:"identity"`
	JoinMS       int64                   `json:"join_ms"`
	FirstFrameMS int64                   `json:"first_frame_ms"`
	Remote       map[string]RemoteReport `json:"remote"`
	ChatReceived int                     `json:"chat_received"`
	ChatSent     int                     `json:"chat_sent"`
	// Sources counts decoded video frames per participant name and source
	// ("camera", "screen").
	Sources map[string]map[string]uint64 `json:"sources"`
	// Chat lists every chat message seen (replayed, received, own), in
	// arrival order.
	Chat []ChatSeen `json:"chat"`
	// Left names the participants seen leaving.
	Left []string `json:"left"`
	// Call is the call between people the bot made or answered
	// (--call, --answer).
	Call  *callReport `json:"call,omitempty"`
	Final bool        `json:"final"`
	Error string      `json:"error,omitempty"`
}

// ChatSeen is one chat message as the bot saw it.
type ChatSeen struct {
	Seq  int64  `json:"seq"`
	ID   string `json:"id"`
	From string `json:"from"`
}

// RemoteReport is what the bot received from one other participant.
type RemoteReport struct {
	Frames       uint64 `json:"frames"`
	AudioPackets uint64 `json:"audio_packets"`
	AudioDecoded uint64 `json:"audio_decoded"`
	FirstFrameMS int64  `json:"first_frame_ms"`
	// FirstFrameUnixMS is when the first frame was decoded (Unix ms), to
	// set beside another program's clock on the same machine.
	FirstFrameUnixMS int64 `json:"first_frame_unix_ms,omitempty"`
	// FPS is the rate of decoded video frames since their first frame,
	// RecentFPS the rate since the previous report (the --progress
	// interval; FPS in the first).
	FPS       float64 `json:"fps"`
	RecentFPS float64 `json:"recent_fps"`
	// Layer is the simulcast layer of their camera received now ("q",
	// "h", "f"; "" none or not simulcast), Width and Height its size, as
	// the server's layer messages say (PROTOCOL.md §5.2 layer).
	Layer  string `json:"layer,omitempty"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("confab-bot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "ws://127.0.0.1:7880", "server URL")
	room := fs.String("room", "lobby", "room to join")
	name := fs.String("name", "Bot", "display name")
	tok := fs.String("token", "", "join token (default: ask the server's /api/token)")
	duration := fs.Duration("duration", 10*time.Second, "how long to stay")
	chat := fs.Int("chat", 0, "chat messages to send, spread over the stay")
	width := fs.Int("width", 640, "video width")
	height := fs.Int("height", 480, "video height")
	fps := fs.Float64("fps", 30, "video frame rate")
	noVideo := fs.Bool("no-video", false, "publish no camera")
	receiveOnly := fs.Bool("receive-only", false, "publish nothing")
	noDecode := fs.Bool("no-decode", false, "receive media without decoding it (load tests of the server)")
	videoSize := fs.String("video-size", "", "ask for every remote camera at this size, WxH (as a tile of that size does; default: the server's choice)")
	loopback := fs.Bool("loopback", true, "keep media on 127.0.0.1")
	verbose := fs.Bool("v", false, "log to stderr")
	showVersion := fs.Bool("version", false, "print the version")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	progress := fs.Duration("progress", 0, "also print the report every interval while in the call (0: only at the end)")
	aec := fs.Bool("aec", true, "echo cancellation on the microphone")
	ns := fs.Bool("ns", true, "noise suppression on the microphone")
	agc := fs.Bool("agc", true, "automatic gain control on the microphone")
	raiseHand := fs.Bool("raise-hand", false, "raise the hand after joining")
	react := fs.String("react", "", "send this reaction (one of the protocol's allow-list) every --react-every")
	reactEvery := fs.Duration("react-every", 3*time.Second, "how often to send --react")
	presenceAfter := fs.Duration("presence-after", 0, "wait this long after joining before --raise-hand and --react")
	script := addScriptFlags(fs)
	calling := addCallFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := script.parse(); err != nil {
		fmt.Fprintln(stderr, "confab-bot:", err)
		return 2
	}
	if err := calling.parse(); err != nil {
		fmt.Fprintln(stderr, "confab-bot:", err)
		return 2
	}
	askW, askH, err := parseSize(*videoSize)
	if err != nil {
		fmt.Fprintln(stderr, "confab-bot:", err)
		return 2
	}
	if err := checkReaction(*react); err != nil {
		fmt.Fprintln(stderr, "confab-bot:", err)
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "confab-bot", version.String())
		return 0
	}
	stopProfile, err := profile.StartCPU(*cpuProfile)
	if err != nil {
		fmt.Fprintln(stderr, "confab-bot:", err)
		return 2
	}
	defer stopProfile()
	log := slog.New(slog.DiscardHandler)
	if *verbose {
		log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	report := Report{Remote: map[string]RemoteReport{}, Final: true}
	fail := func(err error) int {
		report.Error = err.Error()
		printReport(stdout, report)
		return 1
	}

	m, err := clientmedia.New(clientmedia.Options{Fake: true, NoSpeaker: true, Logger: log,
		NoEchoCancel: !*aec, NoNoiseSuppression: !*ns, NoGainControl: !*agc,
		Capture: []capture.Option{capture.WithVideoSize(*width, *height), capture.WithFrameRate(float32(*fps))}})
	if err != nil {
		return fail(err)
	}
	defer m.Close()

	bc, err := calling.start(ctx, *server, *name, *tok, *duration, stderr)
	if err != nil {
		return fail(err)
	}
	defer bc.close()
	if bc != nil && bc.join == nil { // declined or ignored calls for the stay
		bc.fill(&report)
		printReport(stdout, report)
		return 0
	}
	script.waitJoin(ctx)
	joinCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	start := time.Now()
	cfg := client.Config{
		Server: *server, Token: *tok, Room: *room, Name: *name, Mic: !*receiveOnly, Camera: !*noVideo && !*receiveOnly,
		Media: m, Decoders: m, Audio: m, LoopbackOnly: *loopback, Logger: log,
	}
	if bc != nil { // the call's room, with no camera for an audio call
		cfg.Token, cfg.Room, cfg.Camera = bc.join.Token, bc.join.Room, cfg.Camera && bc.kind == calls.KindVideo
	}
	cfg.Media = script.media(cfg.Media)
	if *noDecode {
		cfg.Decoders, cfg.Audio = nil, nil
	}
	s, err := client.Join(joinCtx, cfg)
	cancel()
	if err != nil {
		return fail(fmt.Errorf("join: %w", err))
	}
	report.JoinMS = time.Since(start).Milliseconds()
	s.OnSendEstimate(m.SetSendBudget) // the encoders follow the congestion controller
	report.Identity = s.Self().ID

	stopScript := script.start(ctx, s, duration, stderr)
	w := newWatcher(s)
	w.askW, w.askH = askW, askH
	go w.run()
	sendChat(ctx, s, *chat, *duration)
	presenceCtx, stopPresence := context.WithCancel(ctx)
	waitPresence := startPresence(presenceCtx, s, *presenceAfter, *raiseHand, *react, *reactEvery)
	var tick <-chan time.Time
	if *progress > 0 {
		t := time.NewTicker(*progress)
		defer t.Stop()
		tick = t.C
	}
	end := time.After(*duration)
wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case <-end:
			break wait
		case <-s.Done():
			break wait
		case <-bc.endedC():
			break wait
		case <-tick:
			interim := report
			interim.Final = false
			w.fill(&interim, s, start, time.Now())
			printReport(stdout, interim)
		}
	}
	stopPresence()
	waitPresence()
	stopScript()
	left := time.Now() // frame rates end here, not after the goodbye
	_ = s.Leave()
	<-w.done
	w.fill(&report, s, start, left)
	bc.fill(&report)

	// Decoding nothing from someone who published is a failure.
	var problems []string
	for id, p := range w.publishers() {
		if *noDecode {
			break
		}
		rr := report.Remote[w.name(id)]
		if p.video && rr.Frames == 0 {
			problems = append(problems, fmt.Sprintf("no video decoded from %s", w.name(id)))
		}
		if p.audio && rr.AudioDecoded == 0 {
			problems = append(problems, fmt.Sprintf("no audio decoded from %s", w.name(id)))
		}
	}
	if err := w.endErr(); err != nil {
		problems = append(problems, "session ended: "+err.Error())
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		report.Error = fmt.Sprint(problems)
		printReport(stdout, report)
		return 1
	}
	printReport(stdout, report)
	return 0
}

// fill sets the report's counts from the session and the watcher, with
// frame rates as of now.
func (w *watcher) fill(report *Report, s *client.Session, start, now time.Time) {
	report.Remote = map[string]RemoteReport{}
	var firstFrame time.Time
	for _, st := range s.Stats() {
		if st.ID == report.Identity {
			continue
		}
		rr := RemoteReport{Frames: st.Frames, AudioPackets: st.AudioPackets, AudioDecoded: st.AudioDecoded}
		rr.FPS, rr.RecentFPS = w.fps.rates(st.ID, st.Frames, st.FirstFrame, now)
		w.mu.Lock()
		if l, ok := w.layers[st.ID]; ok {
			rr.Layer, rr.Width, rr.Height = l.Layer, l.Width, l.Height
		}
		w.mu.Unlock()
		if !st.FirstFrame.IsZero() {
			rr.FirstFrameMS = st.FirstFrame.Sub(start).Milliseconds()
			rr.FirstFrameUnixMS = st.FirstFrame.UnixMilli()
			if firstFrame.IsZero() || st.FirstFrame.Before(firstFrame) {
				firstFrame = st.FirstFrame
			}
		}
		report.Remote[w.name(st.ID)] = rr
	}
	if !firstFrame.IsZero() {
		report.FirstFrameMS = firstFrame.Sub(start).Milliseconds()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	report.ChatReceived, report.ChatSent = w.received, w.sent
	report.Chat = append([]ChatSeen{}, w.chat...)
	report.Left = append([]string{}, w.left...)
	report.Sources = map[string]map[string]uint64{}
	add := func(k videoKey, n uint64) {
		name := w.names[k.pid]
		if name == "" {
			name = k.pid
		}
		if report.Sources[name] == nil {
			report.Sources[name] = map[string]uint64{}
		}
		report.Sources[name][k.source] += n
	}
	for k, n := range w.frameTotals {
		add(k, n)
	}
	for k, v := range w.videos {
		n := v.Seq()
		add(k, n)
	}
}

func printReport(w io.Writer, r Report) {
	b, _ := json.Marshal(r)
	fmt.Fprintln(w, string(b))
}

// sendChat spreads n messages over the first half of the stay.
func sendChat(ctx context.Context, s *client.Session, n int, stay time.Duration) {
	if n <= 0 {
		return
	}
	gap := stay / 2 / time.Duration(n)
	go func() {
		for i := 1; i <= n; i++ {
			if _, err := s.SendChat(fmt.Sprintf("hello %d of %d from %s", i, n, s.Self().Name)); err != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-s.Done():
				return
			case <-time.After(gap):
			}
		}
	}()
}

type published struct{ audio, video bool }

type videoKey struct{ pid, source string }

// watcher follows the session's events for the report.
type watcher struct {
	s    *client.Session
	done chan struct{}

	mu       sync.Mutex
	names    map[string]string
	pubs     map[string]published
	received int
	sent     int
	chat     []ChatSeen
	left     []string
	// videos are the remote videos being decoded; frameTotals keeps the
	// frames of those that ended.
	videos      map[videoKey]client.VideoSource
	frameTotals map[videoKey]uint64
	err         error
	// layers is the camera layer received from each participant.
	layers map[string]client.VideoLayerChanged
	// askW and askH are the size remote cameras are asked for (0: not
	// asked); set before run.
	askW, askH int

	fps fpsMeter // the report filler's
}

func newWatcher(s *client.Session) *watcher {
	return &watcher{s: s, done: make(chan struct{}), names: map[string]string{}, pubs: map[string]published{},
		videos: map[videoKey]client.VideoSource{}, frameTotals: map[videoKey]uint64{},
		layers: map[string]client.VideoLayerChanged{}}
}

func (w *watcher) noteChat(m client.ChatMessage) {
	w.chat = append(w.chat, ChatSeen{Seq: m.Seq, ID: m.ID, From: m.From})
}

func (w *watcher) note(p client.Participant) {
	w.names[p.ID] = p.Name
	if p.ID == w.s.Self().ID {
		return
	}
	pub := w.pubs[p.ID]
	for _, t := range p.Tracks {
		switch t.Kind {
		case "audio":
			pub.audio = true
		case "video":
			pub.video = true
		}
	}
	w.pubs[p.ID] = pub
}

func (w *watcher) run() {
	defer close(w.done)
	for ev := range w.s.Events() {
		w.mu.Lock()
		switch e := ev.(type) {
		case client.Welcome:
			w.note(e.You)
			for _, p := range e.Participants {
				w.note(p)
			}
			for _, m := range e.Chat {
				w.noteChat(m)
				if m.From != e.You.ID {
					w.received++ // replayed: sent before we arrived
				}
			}
		case client.ParticipantJoined:
			w.note(e.Participant)
		case client.ParticipantUpdated:
			w.note(e.Participant)
		case client.ParticipantLeft:
			name := w.names[e.ID]
			if name == "" {
				name = e.ID
			}
			w.left = append(w.left, name)
		case client.VideoAdded:
			if !e.Local {
				k := videoKey{e.ParticipantID, e.Source}
				if old := w.videos[k]; old != nil {
					n := old.Seq()
					w.frameTotals[k] += n
				}
				w.videos[k] = e.Video
				if e.Source == wire.SourceCamera && w.askW > 0 {
					// Queued for the websocket; it does not block.
					_ = w.s.RequestVideo(e.ParticipantID, wire.SourceCamera, client.VideoRequest{Width: w.askW, Height: w.askH})
				}
			}
		case client.VideoLayerChanged:
			if e.Source == wire.SourceCamera {
				w.layers[e.ParticipantID] = e
			}
		case client.VideoRemoved:
			k := videoKey{e.ParticipantID, e.Source}
			if v := w.videos[k]; v != nil {
				n := v.Seq()
				w.frameTotals[k] += n
				delete(w.videos, k)
			}
		case client.ChatReceived:
			w.noteChat(e.Message)
			if e.Own {
				w.sent++
			} else {
				w.received++
			}
		case client.StateChanged:
			if e.State == client.StateLeft && e.Err != nil {
				w.err = e.Err
			}
		}
		w.mu.Unlock()
	}
}

func (w *watcher) name(id string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := w.names[id]; n != "" {
		return n
	}
	return id
}

func (w *watcher) publishers() map[string]published {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]published, len(w.pubs))
	for k, v := range w.pubs {
		out[k] = v
	}
	return out
}

func (w *watcher) endErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// parseSize reads WxH ("" is 0x0).
func parseSize(s string) (w, h int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	ws, hs, ok := strings.Cut(s, "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil || w <= 0 || h <= 0 || w > 16384 || h > 16384 {
		return 0, 0, fmt.Errorf("--video-size %q: want WxH, each 1..16384", s)
	}
	return w, h, nil
}

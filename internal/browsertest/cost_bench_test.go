package browsertest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/confab/confab/internal/testbin"
	"github.com/confab/confab/signaling/server/servertest"
)

// Windows of the cost benchmark: how long a client settles in the call,
// then how long it is measured.
const (
	costWarmup = 20 * time.Second
	costWindow = 30 * time.Second
)

// clientCost is what one client cost over the measured window.
type clientCost struct {
	cpu    float64 // % of one core, all its processes (the app: with its Xvfb)
	pss    float64 // MiB, proportional set size of all its processes
	ownFPS float64 // its camera's frames a second as the bots decoded them
	// The app's split: its own threads other than Mesa's (Go code and the
	// C libraries it calls: VP8, Opus, libyuv), llvmpipe's rendering
	// threads, and the X server.
	goCPU, glCPU, xCPU float64
}

// BenchmarkNativeVsBrowser runs, in one room with three confab-bots
// (640x480 at 15 fps), first the Confab app (--fake-devices, its camera
// 640x480 at 30 fps, under its own Xvfb with software GL) and then
// headless Chromium on the guest page (its fake camera), each for
// costWindow after costWarmup, for two rounds; then the app in a 9-party
// room (five more bots at 320x240, not decoding). It reports CPU (% of
// one core), memory (PSS) and the own camera's frame rate as the bots
// decoded it, and the split of the app's CPU between its own threads,
// llvmpipe and the X server. Last it measures two floors under the app's
// cost: a confab-bot in the room doing the app's media work with no
// window (media-floor), and internal/drawfloor, a Fyne window that only
// shows four tile-sized videos at 15 fps (draw-floor); floor-ratio is
// their sum over Chromium's CPU. make bench runs it with -benchtime 1x.
func BenchmarkNativeVsBrowser(b *testing.B) {
	if _, err := exec.LookPath("Xvfb"); err != nil {
		b.Skip("Xvfb is not installed (scripts/deps.sh)")
	}
	srv := servertest.Start(b)
	requireGuestPage(b, srv.URL)
	appBin, err := testbin.Build(b.TempDir(), "./cmd/confab", "CONFAB_APP_BIN")
	if err != nil {
		b.Fatal(err)
	}
	floorBin, err := testbin.Build(b.TempDir(), "./internal/drawfloor", "CONFAB_DRAWFLOOR_BIN")
	if err != nil {
		b.Fatal(err)
	}
	bot := botBin(b)
	var bots []*Bot
	for _, n := range []string{"Grace", "Linus", "Margaret"} {
		bots = append(bots, StartBot(b, bot, srv.URL, "cost", n, "--duration", "60m", "--fps", "15"))
	}
	for _, bt := range bots {
		bt.Wait(b, 60*time.Second, "joined", func(BotReport) bool { return true })
	}
	br := Start(b, Options{})

	var app, chrome []clientCost
	for round := 1; round <= 2; round++ {
		app = append(app, measureApp(b, appBin, srv.URL, "cost", fmt.Sprintf("Ada %d", round), bots))
		chrome = append(chrome, measureChromium(b, br, srv.URL, "cost", fmt.Sprintf("Chromium %d", round), bots))
		b.Logf("round %d: app %s | Chromium %s", round, app[round-1], chrome[round-1])
	}
	for i := 0; i < 5; i++ {
		bots = append(bots, StartBot(b, bot, srv.URL, "cost", fmt.Sprintf("Extra %d", i+1),
			"--duration", "60m", "--fps", "15", "--width", "320", "--height", "240", "--no-decode"))
	}
	nine := measureApp(b, appBin, srv.URL, "cost", "Ada 9", bots[:3])
	b.Logf("9-party room: app %s", nine)
	for _, bt := range bots[3:] {
		bt.Stop(b)
	}

	// The floors: what the app's media work costs with no window, and what
	// drawing four videos costs a Fyne window with nothing else in it.
	media := measureMediaFloor(b, bot, srv.URL, "cost", bots[:3])
	draw := measureDrawFloor(b, floorBin)
	b.Logf("floors: media (a bot) %s | drawing (drawfloor) %s", media, draw)

	a, c := meanCost(app), meanCost(chrome)
	b.ReportMetric(a.cpu, "app-cpu-%")
	b.ReportMetric(c.cpu, "chromium-cpu-%")
	b.ReportMetric(a.cpu/c.cpu, "cpu-ratio")
	b.ReportMetric(a.pss, "app-pss-MiB")
	b.ReportMetric(c.pss, "chromium-pss-MiB")
	b.ReportMetric(a.pss/c.pss, "pss-ratio")
	b.ReportMetric(a.ownFPS, "app-own-fps")
	b.ReportMetric(c.ownFPS, "chromium-own-fps")
	b.ReportMetric(a.goCPU, "app-go-cpu-%")
	b.ReportMetric(a.glCPU, "app-llvmpipe-cpu-%")
	b.ReportMetric(a.xCPU, "app-xvfb-cpu-%")
	b.ReportMetric(nine.cpu, "app9-cpu-%")
	b.ReportMetric(nine.pss, "app9-pss-MiB")
	b.ReportMetric(media.cpu, "media-floor-cpu-%")
	b.ReportMetric(draw.cpu, "draw-floor-cpu-%")
	b.ReportMetric((media.cpu+draw.cpu)/c.cpu, "floor-ratio")
}

func (c clientCost) String() string {
	s := fmt.Sprintf("CPU %.0f%%, PSS %.0f MiB, own camera %.1f fps", c.cpu, c.pss, c.ownFPS)
	if c.goCPU+c.glCPU+c.xCPU > 0 {
		s += fmt.Sprintf(" (app threads %.0f%%, llvmpipe %.0f%%, Xvfb %.0f%%)", c.goCPU, c.glCPU, c.xCPU)
	}
	return s
}

func meanCost(cs []clientCost) clientCost {
	var m clientCost
	for _, c := range cs {
		m.cpu += c.cpu / float64(len(cs))
		m.pss += c.pss / float64(len(cs))
		m.ownFPS += c.ownFPS / float64(len(cs))
		m.goCPU += c.goCPU / float64(len(cs))
		m.glCPU += c.glCPU / float64(len(cs))
		m.xCPU += c.xCPU / float64(len(cs))
	}
	return m
}

// measureApp runs the app as name under a fresh Xvfb, joined to room, and
// measures it; it stops both before returning.
func measureApp(b *testing.B, appBin, server, room, name string, bots []*Bot) clientCost {
	b.Helper()
	display, xvfb := startXvfb(b)
	defer func() { _ = xvfb.Process.Kill(); _ = xvfb.Wait() }()
	app := exec.Command(appBin, "--fake-devices", "--join", "--name", name, "--room", room, "--server", server,
		"--data", b.TempDir())
	app.Env = append(os.Environ(), "DISPLAY="+display, "vblank_mode=0")
	if err := app.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = app.Process.Kill(); _ = app.Wait() }()
	for _, bt := range bots {
		bt.Wait(b, 60*time.Second, name+"'s video decoded", func(r BotReport) bool { return r.Remote[name].Frames > 0 })
	}
	time.Sleep(costWarmup)
	return measure(b, []int{app.Process.Pid}, []int{xvfb.Process.Pid}, bots, name)
}

// startXvfb starts an Xvfb of the app's screen size on a free display
// and waits for its socket.
func startXvfb(b *testing.B) (string, *exec.Cmd) {
	b.Helper()
	display, err := freeDisplay()
	if err != nil {
		b.Fatal(err)
	}
	xvfb := exec.Command("Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset")
	if err := xvfb.Start(); err != nil {
		b.Fatal(err)
	}
	sock := "/tmp/.X11-unix/X" + strings.TrimPrefix(display, ":")
	waitUntil(b, 20*time.Second, "Xvfb's socket", func() bool { _, err := os.Stat(sock); return err == nil })
	return display, xvfb
}

// measureMediaFloor measures a confab-bot doing the app's media work in
// the room, with no window: its camera at 30 fps in three simulcast
// layers, the others' cameras asked for at the size of a 4-party tile
// and decoded, the microphone through audio processing.
func measureMediaFloor(b *testing.B, bin, server, room string, bots []*Bot) clientCost {
	b.Helper()
	const name = "Media floor"
	bot := StartBot(b, bin, server, room, name, "--duration", "60m", "--fps", "30", "--video-size", "440x330")
	defer bot.Stop(b)
	for _, bt := range bots {
		bt.Wait(b, 60*time.Second, name+"'s video decoded", func(r BotReport) bool { return r.Remote[name].Frames > 0 })
	}
	time.Sleep(costWarmup)
	return measure(b, []int{bot.cmd.Process.Pid}, nil, bots, name)
}

// measureDrawFloor measures internal/drawfloor under a fresh Xvfb: a Fyne
// window of the app's size showing four videos the size of the app's
// 4-party tiles at the bots' 15 fps, and nothing else.
func measureDrawFloor(b *testing.B, bin string) clientCost {
	b.Helper()
	display, xvfb := startXvfb(b)
	defer func() { _ = xvfb.Process.Kill(); _ = xvfb.Wait() }()
	cmd := exec.Command(bin, "--tiles", "4", "--width", "439", "--height", "329", "--fps", "15")
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "vblank_mode=0")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	time.Sleep(costWarmup)
	return measure(b, []int{cmd.Process.Pid}, []int{xvfb.Process.Pid}, nil, "")
}

// measureChromium joins the guest page as name in a new tab of br and
// measures all of Chromium's processes; it leaves before returning.
func measureChromium(b *testing.B, br *Browser, server, room, name string, bots []*Bot) clientCost {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	g, err := br.OpenGuest(ctx, server+"/r/"+room)
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close(context.Background())
	if err := g.Join(ctx, name, room); err != nil {
		b.Fatal(err)
	}
	for _, bt := range bots {
		bt.Wait(b, 60*time.Second, name+"'s video decoded", func(r BotReport) bool { return r.Remote[name].Frames > 0 })
	}
	time.Sleep(costWarmup)
	c := measure(b, descendants(br.Pid()), nil, bots, name)
	_ = g.Click(ctx, "#leave")
	return c
}

// measure samples the CPU time of procs (and their threads) and of the X
// server over costWindow, their PSS at the end, and the frames of name the
// bots decoded meanwhile.
func measure(b *testing.B, procs, xserver []int, bots []*Bot, name string) clientCost {
	b.Helper()
	frames := func() float64 {
		if len(bots) == 0 {
			return 0
		}
		var n float64
		for _, bt := range bots {
			n += float64(bt.Report().Remote[name].Frames)
		}
		return n / float64(len(bots))
	}
	own0, gl0, x0 := ticks(procs), glTicks(procs), ticks(xserver)
	f0, t0 := frames(), time.Now()
	time.Sleep(costWindow)
	own1, gl1, x1 := ticks(procs), glTicks(procs), ticks(xserver)
	f1, dt := frames(), time.Since(t0).Seconds()
	hz := 100.0 // USER_HZ: what /proc reports ticks in on Linux
	pct := func(d float64) float64 { return 100 * d / hz / dt }
	c := clientCost{
		goCPU:  pct(own1 - own0 - (gl1 - gl0)),
		glCPU:  pct(gl1 - gl0),
		xCPU:   pct(x1 - x0),
		ownFPS: (f1 - f0) / dt,
		pss:    pssMiB(append(append([]int{}, procs...), xserver...)),
	}
	c.cpu = c.goCPU + c.glCPU + c.xCPU
	if len(xserver) == 0 {
		c.goCPU, c.glCPU, c.xCPU = 0, 0, 0
	}
	return c
}

// ticks sums the user and system CPU ticks of processes: a process's stat
// counts all its threads, those that ended included.
func ticks(pids []int) float64 {
	var n float64
	for _, pid := range pids {
		n += statTicks(fmt.Sprintf("/proc/%d/stat", pid))
	}
	return n
}

// glTicks sums the CPU ticks of the threads of pids that Mesa's llvmpipe
// renders with (named llvmpipe-N).
func glTicks(pids []int) float64 {
	var n float64
	for _, pid := range pids {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
		for _, t := range tasks {
			comm, _ := os.ReadFile(filepath.Join(t, "comm"))
			if strings.HasPrefix(string(comm), "llvmpipe") {
				n += statTicks(filepath.Join(t, "stat"))
			}
		}
	}
	return n
}

// statTicks reads utime+stime from a /proc stat file, 0 if it is gone.
func statTicks(path string) float64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	s := string(b)
	// The command name may hold spaces: fields start after its ")".
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	k, _ := strconv.ParseFloat(f[12], 64)
	return u + k
}

// pssMiB sums the Pss of processes from smaps_rollup.
func pssMiB(pids []int) float64 {
	var kb float64
	for _, pid := range pids {
		f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
				n, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
				kb += n
				break
			}
		}
		f.Close()
	}
	return kb / 1024
}

// descendants returns pid and every process below it.
func descendants(pid int) []int {
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 2 {
			continue
		}
		me, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, "/proc/"), "/stat"))
		parent, _ := strconv.Atoi(f[1])
		children[parent] = append(children[parent], me)
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// freeDisplay finds an X display number no server uses.
func freeDisplay() (string, error) {
	for n := 70; n < 99; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); os.IsNotExist(err) {
			return fmt.Sprintf(":%d", n), nil
		}
	}
	return "", fmt.Errorf("no free X display between :70 and :98")
}

// waitUntil polls cond every 50 ms until it holds or d passes.
func waitUntil(b *testing.B, d time.Duration, what string, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("after %v: no %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Command confab is the Confab desktop app: an entry screen where you type
// a room name, and a video call with tiles, controls and a chat panel.
// With no --server it hosts the server itself, in-process.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	// Device drivers: real camera, microphone and screen, plus the test
	// pattern and tone behind --fake-devices and "use test pattern".
	_ "github.com/pion/mediadevices/pkg/driver/audiotest"
	_ "github.com/pion/mediadevices/pkg/driver/camera"
	_ "github.com/pion/mediadevices/pkg/driver/microphone"
	_ "github.com/pion/mediadevices/pkg/driver/screen"
	_ "github.com/pion/mediadevices/pkg/driver/videotest"

	"github.com/confab/confab/internal/logging"
	"github.com/confab/confab/internal/profile"
	"github.com/confab/confab/internal/version"
	"github.com/confab/confab/ui"
)

const appID = "io.confab.app"

func main() {
	if err := run(); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "confab:", err)
		os.Exit(1)
	}
}

func run() error {
	fs := flag.NewFlagSet("confab", flag.ContinueOnError)
	server := fs.String("server", "", "join this server (http://host:port) instead of hosting one")
	listen := fs.String("listen", "127.0.0.1:7880", "address of the built-in server; 0.0.0.0:7880 lets others on your network join")
	room := fs.String("room", "", "room name to fill in")
	name := fs.String("name", "", "display name to fill in")
	join := fs.Bool("join", false, "join at once")
	fake := fs.Bool("fake-devices", false, "use a test pattern camera and a test tone microphone")
	dataDir := fs.String("data", "", "where the built-in server keeps chat history (default: your config dir)")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	showVersion := fs.Bool("version", false, "print the version")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file (for make bench)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	if *showVersion {
		fmt.Println("confab", version.String())
		return nil
	}
	if os.Getenv("GOGC") == "" {
		// A call keeps about 38 MB live (fonts, frame buffers, jitter
		// buffers) and allocates under 2 MB a second: collecting at 1.25x
		// the live heap keeps less resident than Go's default 2x (in a
		// 4-party call, PSS 222 MB at 2x, 208-212 MB at 1.5x, 202-204 MB
		// at 1.25x, three runs each). A collection then comes every 5 s
		// or so and takes about 10 ms of CPU: 0.2% of a core.
		debug.SetGCPercent(25)
	}
	stopProfile, err := profile.StartCPU(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	log, err := logging.New(os.Stderr, *logLevel)
	if err != nil {
		return err
	}

	b := newBackend(log, *fake)
	if *server == "" {
		dir := *dataDir
		if dir == "" {
			cfg, err := os.UserConfigDir()
			if err != nil {
				return fmt.Errorf("no config dir for the built-in server's data (use --data): %w", err)
			}
			dir = filepath.Join(cfg, "confab", "server")
		}
		emb, err := startEmbedded(*listen, dir, log)
		if err != nil {
			return err
		}
		defer b.stopServer()
		b.setServer(emb)
	}

	a := app.NewWithID(appID)
	w := ui.New(a, b, ui.Options{Name: *name, Room: *room, Server: strings.TrimSpace(*server), AutoJoin: *join})
	// Ctrl+C or a TERM from the session manager quits the app: Fyne's
	// driver ends its loop on these signals by itself, so the window
	// cannot leave the call as its close button does. The UI is stopped
	// at once (nothing more is handed to a loop that is ending), and the
	// call is left and the devices released below, by the backend.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-sig; ok {
			w.Stop()
			fyne.Do(a.Quit) // as Fyne does; a no-op once it has
		}
	}()
	w.ShowAndRun()
	signal.Stop(sig)
	close(sig)
	b.shutdown()
	return nil
}

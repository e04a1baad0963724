package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/confab/confab/internal/testbin"
)

// TestAppQuitsCleanlyOnASignal: Ctrl+C (SIGINT) or a session manager's
// SIGTERM to the app in a call with a bot ends it at once with exit
// status 0, the call left (the backend logs what it received from each
// participant when it leaves) and no panic. Fyne's driver ends its loop on these
// signals by itself; the app used to hand the window's close to that
// ending loop and panicked in GLFW ("The GLFW library is not
// initialized") once the loop was gone.
func TestAppQuitsCleanlyOnASignal(t *testing.T) {
	if e2e.skip != "" {
		t.Skip(e2e.skip)
	}
	bin, err := testbin.Build(t.TempDir(), "./cmd/confab", "CONFAB_APP_BIN")
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			home := t.TempDir() // its own Fyne preferences
			if err := os.MkdirAll(filepath.Join(home, ".cache"), 0o700); err != nil {
				t.Fatal(err)
			}
			room := "signal-" + strings.ReplaceAll(sig.String(), " ", "-")
			bot := exec.Command(e2e.bot, "--server", e2e.emb.URL, "--room", room, "--name", "Bot",
				"--duration", "120s", "--fps", "10")
			if err := bot.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = bot.Process.Kill(); _ = bot.Wait() }()
			cmd := exec.Command(bin, "--fake-devices", "--join", "--name", "Sig", "--room", room,
				"--server", e2e.emb.URL, "--data", filepath.Join(home, "data"), "--log-level", "debug")
			cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
			var stderr testbin.Output
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			done := false
			defer func() {
				if !done {
					_ = cmd.Process.Kill()
					<-exited
				}
			}()

			// In the call once the bot's video is received: its decoder
			// is running and its frames are being handed to the window.
			deadline := time.Now().Add(60 * time.Second)
			for !strings.Contains(stderr.String(), "video size") {
				select {
				case err := <-exited:
					done = true
					t.Fatalf("the app ended before it was in the call: %v\n%s", err, stderr.String())
				default:
				}
				if time.Now().After(deadline) {
					t.Fatalf("the app was not in the call after 60 s:\n%s", stderr.String())
				}
				time.Sleep(100 * time.Millisecond)
			}

			sent := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				done = true
				if err != nil {
					t.Errorf("after %v the app exited with %v", sig, err)
				}
				t.Logf("%v: exited %v after the signal", sig, time.Since(sent).Round(time.Millisecond))
			case <-time.After(30 * time.Second):
				t.Fatalf("the app was still running 30 s after %v:\n%s", sig, stderr.String())
			}
			out := stderr.String()
			for _, bad := range []string{"panic:", "Error in Fyne call thread", "GLFW library is not initialized"} {
				if strings.Contains(out, bad) {
					t.Errorf("the app's output has %q:\n%s", bad, out)
				}
			}
			if !strings.Contains(out, "msg=\"video track closed\"") || !strings.Contains(out, "msg=received from=Bot") {
				t.Errorf("the call was not left (no camera closed, no received stats):\n%s", out)
			}
		})
	}
}

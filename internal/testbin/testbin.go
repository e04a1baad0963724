// Package testbin builds the project's commands for tests that run them as
// real processes, without the race detector (an instrumented media
// pipeline is too slow to measure).
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Build compiles the command at pkg (e.g. "./cmd/confab-bot", relative to
// the module root) into dir and returns its path. The environment variable
// env (e.g. CONFAB_BOT_BIN), when set, names a ready binary to use instead.
func Build(dir, pkg, env string) (string, error) {
	if p := os.Getenv(env); p != "" {
		return p, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

func moduleRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("testbin: no caller")
	}
	return strings.TrimSuffix(filepath.Dir(file), filepath.FromSlash("/internal/testbin")), nil
}

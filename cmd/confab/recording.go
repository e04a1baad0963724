package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/confab/confab/signaling/recording"
	"github.com/confab/confab/signaling/token"
	"github.com/confab/confab/signaling/wire"
)

// The app's user hosts the built-in server on their own computer, so they
// may record their calls on it: the app joins its own server with a
// token that has the admin grant, made here with the server's secret
// (never sent anywhere but to that server). Everyone else gets tokens
// from the server: /api/token and invite links hand out no admin grant.
// The recordings go under the server's data dir, DATA/recordings, as
// with confab-server, and the call screen says which folder after a
// recording stops.

// hostTokenTTL is the life of the app's own admin token, as the server's
// /api/token gives (the session keeps its token for rejoins).
const hostTokenTTL = 12 * time.Hour

// errNotHosting means the built-in server is another app's: this one has
// no secret to make tokens with.
var errNotHosting = errors.New("the built-in server is hosted by another Confab")

// hostToken makes the app's own token for room on the built-in server:
// a new identity, name, and the admin grant besides the ordinary ones.
// room and name are checked as /api/token checks them.
func (e *embedded) hostToken(room, name string) (string, error) {
	if e.Shared || len(e.secret) == 0 {
		return "", errNotHosting
	}
	for _, f := range []struct{ what, v string }{{"room", room}, {"name", name}} {
		if err := wire.ValidateName(f.what, f.v); err != nil {
			return "", err
		}
		if strings.TrimSpace(f.v) != f.v {
			return "", fmt.Errorf("%s: begins or ends with whitespace", f.what)
		}
	}
	g := token.DefaultGrants()
	g.Admin = true
	return token.Issue(e.secret, token.Claims{Identity: "u-" + randomID(), Name: name, Room: room, Grants: g}, hostTokenTTL, time.Now())
}

// maxManifestsRead bounds how many recordings RecordingFolder looks at,
// newest first.
const maxManifestsRead = 50

// RecordingFolder returns the folder of room's newest recording on the
// built-in server (ui.RecordingFolder): the newest directory under its
// recordings folder whose manifest names room, else the recordings
// folder itself; "" when the call is on another server.
func (c *call) RecordingFolder(room string) string {
	if c.recordDir == "" {
		return ""
	}
	return latestRecording(c.recordDir, room)
}

// latestRecording finds room's newest recording under root (by directory
// modification time, then by the manifest's start), or returns root.
func latestRecording(root, room string) string {
	entries, err := os.ReadDir(root)
	if err != nil {
		return root
	}
	type dir struct {
		path string
		mod  time.Time
	}
	var dirs []dir
	for _, en := range entries {
		if !en.IsDir() {
			continue
		}
		if info, err := en.Info(); err == nil {
			dirs = append(dirs, dir{filepath.Join(root, en.Name()), info.ModTime()})
		}
	}
	slices.SortFunc(dirs, func(a, b dir) int { return b.mod.Compare(a.mod) })
	best, bestAt := root, int64(-1)
	for i, d := range dirs {
		if i == maxManifestsRead {
			break
		}
		m, err := recording.ReadManifest(d.path)
		if err != nil || m.Room != room {
			continue
		}
		if m.StartedAt > bestAt {
			best, bestAt = d.path, m.StartedAt
		}
	}
	return best
}

// randomID is 16 random hex digits, as the server makes identities.
func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/support"
)

// TestAgentSignInRemembered signs an agent in to the built-in server
// through the backend: a wrong key is refused, the right one is
// remembered in a file only the user can read (0600 in a 0700
// directory) and signs in again without being typed; forgetting deletes
// the file.
func TestAgentSignInRemembered(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	emb, err := startEmbedded("127.0.0.1:0", filepath.Join(dir, "server"), log)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Stop()
	// The admin's CLI writes to the same data directory.
	dd, err := server.OpenDataDir(filepath.Join(dir, "server"))
	if err != nil {
		t.Fatal(err)
	}
	id, key, hash, _ := support.NewAgentKey()
	if err := dd.Store.AddAgent(context.Background(), store.Agent{ID: id, Name: "Sam", KeyHash: hash}); err != nil {
		t.Fatal(err)
	}
	dd.Close()

	b := newBackend(log, true)
	b.embedded = emb
	b.agentFile = filepath.Join(dir, "config", "confab", agentFileName)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	_, otherKey, _, _ := support.NewAgentKey()
	_, err = b.SignInAgent(ctx, "", otherKey, true)
	var se *support.Error
	if !errors.As(err, &se) || se.Code != support.CodeAgentKeyInvalid {
		t.Fatalf("wrong key: %v", err)
	}
	if _, ok := b.SavedAgentSignIn(); ok {
		t.Fatal("a refused key was remembered")
	}

	s, err := b.SignInAgent(ctx, "", key, true)
	if err != nil {
		t.Fatal(err)
	}
	if s.Agent().Name != "Sam" || s.Server() != emb.URL {
		t.Errorf("signed in as %+v at %s", s.Agent(), s.Server())
	}
	s.SignOut()
	fi, err := os.Stat(b.agentFile)
	if err != nil {
		t.Fatal(err)
	}
	di, _ := os.Stat(filepath.Dir(b.agentFile))
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Errorf("file mode %o, directory %o; want 600 and 700", fi.Mode().Perm(), di.Mode().Perm())
	}
	if server, ok := b.SavedAgentSignIn(); !ok || server != "" {
		t.Fatalf("remembered %q %v", server, ok)
	}
	s2, err := b.SignInAgent(ctx, "", "", true) // the remembered key
	if err != nil {
		t.Fatal(err)
	}
	s2.SignOut()
	if err := b.ForgetAgentSignIn(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(b.agentFile); !os.IsNotExist(err) {
		t.Errorf("the file is still there: %v", err)
	}
	if _, err := b.SignInAgent(ctx, "", "", true); err == nil {
		t.Error("signed in with nothing remembered")
	}
}

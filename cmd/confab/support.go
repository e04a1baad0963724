package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/confab/confab/assets/sounds"
	"github.com/confab/confab/media/playout"
	"github.com/confab/confab/signaling/support"
	"github.com/confab/confab/ui"
)

// agentFileName is the remembered agent sign-in, in the user's config dir.
const agentFileName = "agent.json"

// agentSignIn is what is remembered of an agent's sign-in. Server "" is
// the built-in server.
type agentSignIn struct {
	Server string `json:"server"`
	Key    string `json:"key"`
}

// agentPath is where the sign-in is remembered: <config>/confab/agent.json
// (or backend.agentFile, which tests set).
func (b *backend) agentPath() (string, error) {
	if b.agentFile != "" {
		return b.agentFile, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "confab", agentFileName), nil
}

// savedAgent reads the remembered sign-in.
func (b *backend) savedAgent() (agentSignIn, bool) {
	path, err := b.agentPath()
	if err != nil {
		return agentSignIn{}, false
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return agentSignIn{}, false
	}
	var s agentSignIn
	if json.Unmarshal(raw, &s) != nil || s.Key == "" {
		return agentSignIn{}, false
	}
	return s, true
}

// SavedAgentSignIn returns the server of the remembered sign-in.
func (b *backend) SavedAgentSignIn() (string, bool) {
	s, ok := b.savedAgent()
	return s.Server, ok
}

// ForgetAgentSignIn deletes the remembered sign-in.
func (b *backend) ForgetAgentSignIn() error {
	path, err := b.agentPath()
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// rememberAgent writes the sign-in, readable by the user alone (0600, in
// a 0700 directory), replacing the file in one rename.
func (b *backend) rememberAgent(s agentSignIn) error {
	path, err := b.agentPath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	raw, _ := json.Marshal(s)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".agent-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(raw)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o600)); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// SignInAgent signs an agent in to the support desk of server ("": the
// built-in one) with key ("": the remembered one).
func (b *backend) SignInAgent(ctx context.Context, server, key string, remember bool) (ui.AgentSession, error) {
	if key == "" {
		saved, ok := b.savedAgent()
		if !ok {
			return nil, errors.New("no remembered sign-in")
		}
		server, key = saved.Server, saved.Key
	}
	url := server
	if url == "" {
		b.ensureServer()
		e := b.server()
		if e == nil {
			return nil, fmt.Errorf("%w: no server given", support.ErrUnreachable)
		}
		url = e.URL
	}
	a, err := support.DialAgent(ctx, url, key)
	if err != nil {
		return nil, err
	}
	if remember {
		if err := b.rememberAgent(agentSignIn{Server: server, Key: key}); err != nil {
			b.log.Warn("agent sign-in not remembered", "err", err)
		}
	} else if err := b.ForgetAgentSignIn(); err != nil {
		b.log.Warn("agent sign-in not forgotten", "err", err)
	}
	return &agentSession{a: a, server: url, b: b}, nil
}

// agentSession is a signed-in agent (ui.AgentSession) over the support
// desk's Go client.
type agentSession struct {
	a      *support.Agent
	server string
	b      *backend
}

func (s *agentSession) Agent() support.AgentInfo     { return s.a.Info }
func (s *agentSession) Server() string               { return s.server }
func (s *agentSession) Events() <-chan support.Event { return s.a.Events() }
func (s *agentSession) Open(conv string, before int64) error {
	return s.a.Open(conv, before)
}
func (s *agentSession) MarkRead(conv string, seq int64) error { return s.a.MarkRead(conv, seq) }
func (s *agentSession) StartVideo(conv string) error          { return s.a.StartVideo(conv) }
func (s *agentSession) EndVideo() error                       { return s.a.EndVideo() }
func (s *agentSession) CloseConversation(conv string) error   { return s.a.CloseConversation(conv) }
func (s *agentSession) SignOut()                              { _ = s.a.Close() }

// Send sends a reply with a fresh message id.
func (s *agentSession) Send(conv, text string) error {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return s.a.Send(conv, "r-"+hex.EncodeToString(b[:]), text)
}

// PlaySound plays one of the app's sounds on the default speaker, which it
// opens for the sound alone (the Support view has no call).
func (s *agentSession) PlaySound(name string) { s.b.playSound(name) }

// soundMu keeps to one sound at a time outside calls.
var soundMu sync.Mutex

// playSound plays sound name on a speaker opened for it.
func (b *backend) playSound(name string) {
	pcm := sounds.PCM(name)
	if len(pcm) == 0 {
		return
	}
	soundMu.Lock()
	defer soundMu.Unlock()
	p, err := playout.New(playout.WithLogger(b.log))
	if err != nil {
		return
	}
	p.Mixer.Add("sound", playout.Once(pcm))
	time.Sleep(time.Duration(len(pcm))*time.Second/playout.SampleRate + 200*time.Millisecond)
	_ = p.Close()
}

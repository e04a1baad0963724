package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/support"
)

// TestAgentCLI adds an agent (the key is printed once, only its hash
// stored), lists and removes it.
func TestAgentCLI(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := agentCmd([]string{"add", "--data", dir, "--name", "Sam Support"}, &out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^(a-[0-9a-f]{8})\.([A-Za-z0-9_-]{43})\n# agent a-[0-9a-f]{8} \(Sam Support\)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("output %q", out.String())
	}
	id, secret := m[1], m[2]
	dd, err := server.OpenDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, err := dd.Store.Agent(context.Background(), id)
	if err != nil || a.Name != "Sam Support" || !bytes.Equal(a.KeyHash, support.HashSecret(secret)) || bytes.Contains(a.KeyHash, []byte(secret)) {
		t.Fatalf("stored %+v, %v", a, err)
	}
	dd.Close()

	out.Reset()
	if err := agentCmd([]string{"list", "--data", dir}, &out); err != nil || !strings.Contains(out.String(), id+"\tSam Support") || strings.Contains(out.String(), secret) {
		t.Fatalf("list: %q %v", out.String(), err)
	}
	out.Reset()
	if err := agentCmd([]string{"remove", "--data", dir, id}, &out); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	agentCmd([]string{"list", "--data", dir}, &out)
	if !strings.Contains(out.String(), "removed") {
		t.Errorf("list after remove: %q", out.String())
	}
	for _, args := range [][]string{{}, {"add", "--data", dir}, {"add", "--data", dir, "--name", " x"}, {"remove", "--data", dir, "a-00000000"}, {"fire", "--data", dir}} {
		if err := agentCmd(args, &out); err == nil {
			t.Errorf("agent %q succeeded", args)
		}
	}
}

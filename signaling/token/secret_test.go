package token

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

func noEnv(string) string { return "" }

func TestLoadOrCreateSecret(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")

	first, err := LoadOrCreateSecret(dir, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := hex.DecodeString(string(first)); err != nil || len(raw) != 32 {
		t.Fatalf("secret %q is not 32 hex-encoded bytes (err %v)", first, err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(filepath.Join(dir, SecretFile))
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Fatalf("secret file mode = %o, want 600", perm)
		}
		di, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if perm := di.Mode().Perm(); perm&0o077 != 0 {
			t.Fatalf("data dir mode = %o, want no group/other bits", perm)
		}
	}

	second, err := LoadOrCreateSecret(dir, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if string(first) != string(second) {
		t.Fatalf("secret changed between loads: %q then %q", first, second)
	}

	env := func(k string) string {
		if k == SecretEnv {
			return "from-the-environment"
		}
		return ""
	}
	got, err := LoadOrCreateSecret(dir, env)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "from-the-environment" {
		t.Fatalf("env secret = %q", got)
	}
}

func TestLoadOrCreateSecretEnvCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "unused")
	if _, err := LoadOrCreateSecret(dir, func(string) string { return "x" }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("data dir was touched although the env supplied the secret: %v", err)
	}
}

func TestLoadOrCreateSecretLoosePermissions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, SecretFile)
	if err := os.WriteFile(path, []byte("  existing-secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadOrCreateSecret(dir, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "existing-secret" {
		t.Fatalf("secret = %q", got)
	}
}

func TestLoadOrCreateSecretConcurrent(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := LoadOrCreateSecret(dir, noEnv)
			got[i], errs[i] = string(s), err
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if got[i] != got[0] {
			t.Fatalf("loader %d got %q, loader 0 got %q", i, got[i], got[0])
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("data dir holds %d entries, want only the secret", len(entries))
	}
}

package token

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SecretEnv is the environment variable that, when set, supplies the signing
// secret instead of the secret file.
const SecretEnv = "CONFAB_API_SECRET"

// SecretFile is the name of the secret file inside the data directory.
const SecretFile = "secret"

// secretBytes is how many random bytes a new secret file holds, hex-encoded.
const secretBytes = 32

// LoadOrCreateSecret returns the signing secret: the value of
// CONFAB_API_SECRET as reported by getenv if it is not empty, else the
// contents of <dataDir>/secret. When that file does not exist it is created
// holding 32 random bytes, hex-encoded (so the secret is the 64 hex
// characters, the same text an operator would put in CONFAB_API_SECRET),
// with mode 0600; dataDir is created with mode 0700 if missing. An existing
// file is loaded whatever its permissions. Surrounding white space is trimmed
// from either source. A nil getenv means os.Getenv.
//
// Two processes creating the file at once agree on one secret: the file is
// written under a temporary name and linked into place only if absent.
func LoadOrCreateSecret(dataDir string, getenv func(string) string) ([]byte, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if v := bytes.TrimSpace([]byte(getenv(SecretEnv))); len(v) > 0 {
		return v, nil
	}
	if dataDir == "" {
		return nil, fmt.Errorf("token: secret: empty data directory and %s unset: %w", SecretEnv, ErrNoSecret)
	}
	path := filepath.Join(dataDir, SecretFile)
	s, err := readSecret(path)
	if err == nil {
		return s, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("token: secret: %w", err)
	}
	if err := createSecret(path); err != nil {
		return nil, err
	}
	return readSecret(path)
}

// readSecret reads and trims the secret file at path.
func readSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("token: secret: %w", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, fmt.Errorf("token: secret: %s is empty: %w", path, ErrNoSecret)
	}
	return b, nil
}

// createSecret writes a fresh random secret to path unless a file is already
// there, in which case it leaves that file alone and returns nil.
func createSecret(path string) error {
	raw := make([]byte, secretBytes)
	if _, err := rand.Read(raw); err != nil {
		return fmt.Errorf("token: secret: %w", err)
	}
	data := []byte(hex.EncodeToString(raw) + "\n")

	// os.CreateTemp creates the file with mode 0600.
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+SecretFile+"-*")
	if err != nil {
		return fmt.Errorf("token: secret: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("token: secret: %w", err)
	}
	err = os.Link(tmpName, path)
	switch {
	case err == nil, errors.Is(err, fs.ErrExist):
		return nil
	}
	// Hard links are not available on every file system: fall back to an
	// exclusive create, which still never overwrites a secret.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("token: secret: %w", err)
	}
	_, werr = f.Write(data)
	serr = f.Sync()
	cerr = f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("token: secret: %w", err)
	}
	return nil
}

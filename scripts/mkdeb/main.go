// Command mkdeb builds a Debian package from an nfpm YAML config.
//
//	go run ./scripts/mkdeb -config packaging/confab-server.yaml -out dist/
//
// It is the deb half of the nfpm CLI (github.com/goreleaser/nfpm), which
// itself does not resolve from the module proxy (its rpm packager's
// dependency is unavailable). Only nfpm's core and deb packages are linked.
// ${VAR} references in the config are expanded from the environment, and an
// unset variable is an error rather than an empty string.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
)

func main() {
	config := flag.String("config", "", "nfpm YAML config (required)")
	out := flag.String("out", "dist", "output directory, or a file name ending in .deb")
	flag.Parse()
	if *config == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: mkdeb -config FILE.yaml [-out DIR|FILE.deb]")
		os.Exit(2)
	}
	path, err := build(*config, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkdeb:", err)
		os.Exit(1)
	}
	fmt.Println(path)
}

func build(configPath, out string) (string, error) {
	missing := map[string]bool{}
	lookup := func(k string) string {
		v, ok := os.LookupEnv(k)
		// nfpm itself looks up optional NFPM_* settings (signing passphrases).
		if !ok && !strings.HasPrefix(k, "NFPM_") {
			missing[k] = true
		}
		return v
	}
	cfg, err := nfpm.ParseFileWithEnvMapping(configPath, lookup)
	if err != nil {
		return "", fmt.Errorf("%s: %w", configPath, err)
	}
	if len(missing) > 0 {
		var names []string
		for k := range missing {
			names = append(names, k)
		}
		sort.Strings(names)
		return "", fmt.Errorf("%s: environment variables not set: %s", configPath, strings.Join(names, ", "))
	}
	info, err := cfg.Get("deb")
	if err != nil {
		return "", err
	}
	info = nfpm.WithDefaults(info)
	if err := nfpm.PrepareForPackager(info, "deb"); err != nil {
		return "", err
	}
	target := out
	if !strings.HasSuffix(out, ".deb") {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return "", err
		}
		target = filepath.Join(out, deb.Default.ConventionalFileName(info))
	}
	f, err := os.Create(target)
	if err != nil {
		return "", err
	}
	info.Target = target
	if err := deb.Default.Package(info, f); err != nil {
		f.Close()
		os.Remove(target)
		return "", err
	}
	return target, f.Close()
}

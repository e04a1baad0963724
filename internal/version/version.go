// Package version holds the build's version, set from git by the Makefile
// with -ldflags "-X github.com/confab/confab/internal/version.Version=…".
package version

import "runtime/debug"

// Version is the release this binary was built from.
var Version = "dev"

// String returns Version, or the module version recorded by the Go
// toolchain when the linker flag was not set.
func String() string {
	if Version != "dev" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return Version
}

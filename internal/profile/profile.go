// Package profile starts the CPU profiles that the commands' --cpuprofile
// flags ask for (make bench reads them).
package profile

import (
	"os"
	"runtime/pprof"
)

// StartCPU writes a CPU profile to path until the returned func is called.
// An empty path profiles nothing.
func StartCPU(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

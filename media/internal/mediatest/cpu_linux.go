package mediatest

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// rusageThread is RUSAGE_THREAD: the calling thread's usage.
const rusageThread = 1

// threadCPU returns the CPU time the calling OS thread has used.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// CPUTimer measures the CPU time a benchmark loop uses on its own thread,
// which a busy machine distorts far less than wall time. Start pins the
// goroutine to its thread; Report adds a "cpu-ns/op" metric and unpins.
type CPUTimer struct {
	start time.Duration
}

// StartCPU pins the goroutine and starts measuring.
func StartCPU() *CPUTimer {
	runtime.LockOSThread()
	return &CPUTimer{start: threadCPU()}
}

// Report records CPU ns per op on b and unpins the goroutine.
func (c *CPUTimer) Report(b *testing.B) {
	used := threadCPU() - c.start
	runtime.UnlockOSThread()
	if b.N > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

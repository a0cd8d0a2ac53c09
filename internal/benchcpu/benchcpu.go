//go:build unix

// Package benchcpu lets benchmarks report their own CPU time per
// operation: on a shared, loaded machine wall-clock ns/op counts the time
// other processes held the core, while the thread's CPU time does not.
package benchcpu

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// ThreadCPU returns the CPU time the calling OS thread has used
// (getrusage RUSAGE_THREAD on Linux; the process's elsewhere).
func ThreadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Report locks the benchmark to its thread and, when stop is called,
// reports CPU nanoseconds per operation as the "cpu-ns/op" metric.
func Report(b *testing.B) (stop func()) {
	runtime.LockOSThread()
	start := ThreadCPU()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64((ThreadCPU()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
		runtime.UnlockOSThread()
	}
}

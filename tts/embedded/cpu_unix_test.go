//go:build unix

package embedded

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/tts"
)

// childCPU is the CPU time used by reaped child processes so far.
func childCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSynthCPU reports the CPU time the synthesizer programs spend
// on the 12-word sentence (first clause and whole), which unlike wall time
// does not grow when other work shares the machine: on an idle core the
// first audio comes about this long (plus process start) after the
// request. flite runs as a program here even when it is linked in;
// BenchmarkFliteInProcess measures the library.
func BenchmarkSynthCPU(b *testing.B) {
	need(b, "espeak-ng")
	need(b, "flite")
	first := sentences(twelveWords)[0]
	for _, v := range []string{"flite/kal", "flite/kal16", "flite/slt", "flite/awb", "flite/rms", "espeak-ng/en-gb", "espeak-ng/en-us"} {
		b.Run(strings.ReplaceAll(v, "/", "_"), func(b *testing.B) {
			b.ReportAllocs()
			var whole, clause time.Duration
			for b.Loop() {
				for i, text := range []string{twelveWords, first} {
					before := childCPU(b)
					e := New()
					e.Flite.Subprocess = true
					if _, err := tts.Render(context.Background(), e, tts.Request{Text: text, Voice: v, Rate: audio.Rate8k}); err != nil {
						b.Fatal(err)
					}
					if i == 0 {
						whole += childCPU(b) - before
					} else {
						clause += childCPU(b) - before
					}
				}
			}
			b.ReportMetric(float64(whole.Microseconds())/1000/float64(b.N), "cpu-ms-sentence")
			b.ReportMetric(float64(clause.Microseconds())/1000/float64(b.N), "cpu-ms-first-clause")
		})
	}
}

package dtmf

import (
	"math/rand/v2"
	"testing"
)

// benchFrames returns n 20 ms frames of noisy speech-like audio at rate.
func benchFrames(rate, n int) [][]int16 {
	rng := rand.New(rand.NewPCG(1, 2))
	fr := make([][]int16, n)
	for i := range fr {
		f := make([]int16, rate/50)
		for j := range f {
			f[j] = int16(rng.NormFloat64() * 3000)
		}
		fr[i] = f
	}
	return fr
}

// BenchmarkDetector measures the in-band detector's cost per 20 ms frame
// of one channel.
func BenchmarkDetector(b *testing.B) {
	for _, rate := range []int{8000, 16000} {
		b.Run(map[int]string{8000: "8kHz", 16000: "16kHz"}[rate], func(b *testing.B) {
			d, err := NewDetector(rate, DefaultParams())
			if err != nil {
				b.Fatal(err)
			}
			frames := benchFrames(rate, 64)
			var out []Detection
			b.ReportAllocs()
			t := startCPU(b)
			for i := 0; i < b.N; i++ {
				out = d.Process(frames[i%len(frames)], out[:0])
			}
			t.stop()
		})
	}
}

package dtmf

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
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

// BenchmarkReceiverWritePCM is the per-call cost of in-band detection on
// the RTP goroutine: one 20 ms frame through the Receiver.
func BenchmarkReceiverWritePCM(b *testing.B) {
	r := NewReceiver(8000, func(Digit) {})
	frames := benchFrames(8000, 64)
	b.ReportAllocs()
	t := startCPU(b)
	for i := 0; i < b.N; i++ {
		r.WritePCM(frames[i%len(frames)])
	}
	t.stop()
}

// BenchmarkRFC4733ToDialog measures from handing the receiver an RFC 4733
// end packet (the only packet of its press to arrive) to the digit being
// received from the dialog's channel on another goroutine.
func BenchmarkRFC4733ToDialog(b *testing.B) {
	ch := make(chan Digit, 16)
	r := NewReceiver(8000, func(d Digit) {
		select {
		case ch <- d:
		default:
		}
	})
	payload := EncodeEvent(nil, Event{Code: 5, End: true, Volume: 10, Duration: 800})
	done := make(chan struct{})
	got := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				got <- struct{}{}
			case <-done:
				return
			}
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := r.WriteRFC4733(uint32(i)*1600, false, payload); err != nil {
			b.Fatal(err)
		}
		<-got
	}
	b.StopTimer()
	close(done)
}

// BenchmarkToneToDigit reports the in-band delay from tone start to the
// emitted digit (audio time, 20 ms frames) as a metric.
func BenchmarkToneToDigit(b *testing.B) {
	for _, rate := range []int{8000, 16000} {
		b.Run(map[int]string{8000: "8kHz", 16000: "16kHz"}[rate], func(b *testing.B) {
			var worst, sum time.Duration
			n := 0
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				start := 100*time.Millisecond + time.Duration(i%40)*time.Millisecond/2
				g := newSig(rate, uint64(i)).silence(start).key(keys[i%16], 80*time.Millisecond, -10).silence(40 * time.Millisecond)
				ds, err := DetectClipDigits(audio.Clip{Rate: rate, Samples: g.pcm()})
				if err != nil || len(ds) != 1 {
					b.Fatalf("%v %v", ds, err)
				}
				d := ds[0].At.Sub(time.Unix(0, 0)) - start
				worst, sum, n = max(worst, d), sum+d, n+1
			}
			b.ReportMetric(float64(sum.Milliseconds())/float64(n), "mean-ms")
			b.ReportMetric(float64(worst.Milliseconds()), "worst-ms")
		})
	}
}

// BenchmarkDetectorSpeech is the detector's cost per 20 ms frame on real
// speech and music (the first minute of each talk-off set at 8 kHz, played
// 12 dB louder, clipped), where the weak-tone path's candidates and
// confirmations actually run.
func BenchmarkDetectorSpeech(b *testing.B) {
	for _, set := range talkOffSets[:2] {
		b.Run(map[string]string{"asterisk prompts": "prompts", "music on hold": "moh"}[set.name], func(b *testing.B) {
			var pcm []int16
			for _, g := range set.globs {
				m, _ := filepath.Glob(g)
				for _, f := range m {
					if len(pcm) >= 60*8000 {
						break
					}
					c, err := readWAV(f)
					if err != nil || c.Rate != 8000 {
						continue
					}
					pcm = append(pcm, louder(c.Samples, 4)...)
				}
			}
			if len(pcm) < 160 {
				b.Skipf("%s: not installed (%s)", set.name, set.pkg)
			}
			frames := len(pcm) / 160
			d, err := NewDetector(8000, DefaultParams())
			if err != nil {
				b.Fatal(err)
			}
			var out []Detection
			b.ReportAllocs()
			t := startCPU(b)
			for i := 0; i < b.N; i++ {
				k := i % frames
				out = d.Process(pcm[k*160:(k+1)*160], out[:0])
			}
			t.stop()
		})
	}
}

package audio

import (
	"fmt"
	"math"
	"math/cmplx"
	"testing"

	"github.com/openivr/ivr/internal/benchcpu"
)

// tone returns n samples of a sine at f Hz, amplitude amp, at rate.
func tone(f float64, amp float64, rate, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * math.Sin(2*math.Pi*f*float64(i)/float64(rate))))
	}
	return s
}

// toneSNR fits a sine at f Hz to x (least squares, with its phase) and
// returns the fitted amplitude and the ratio of its power to the residual's,
// in dB.
func toneSNR(x []int16, f float64, rate int) (amp, snrDB float64) {
	var c complex128
	for i, v := range x {
		c += complex(float64(v), 0) * cmplx.Exp(complex(0, -2*math.Pi*f*float64(i)/float64(rate)))
	}
	c *= complex(2/float64(len(x)), 0)
	var sig, res float64
	for i, v := range x {
		ph := 2 * math.Pi * f * float64(i) / float64(rate)
		fit := real(c)*math.Cos(ph) - imag(c)*math.Sin(ph)
		sig += fit * fit
		res += (float64(v) - fit) * (float64(v) - fit)
	}
	return cmplx.Abs(c), 10 * math.Log10(sig/math.Max(res, 1e-9))
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(max(len(x), 1)))
}

var ratePairs = [][2]int{{8000, 16000}, {16000, 8000}, {8000, 48000}, {48000, 8000}, {16000, 48000}, {48000, 16000}}

func TestResampleLengths(t *testing.T) {
	for _, p := range ratePairs {
		for _, n := range []int{0, 1, 7, 160, 8001, 48000} {
			in := make([]int16, n)
			got := len(Resample(in, p[0], p[1]))
			want := n * p[1] / p[0]
			if got != want {
				t.Errorf("%d->%d, %d samples: got %d, want %d", p[0], p[1], n, got, want)
			}
		}
	}
	same := []int16{1, 2, 3}
	out := Resample(same, 8000, 8000)
	out[0] = 9
	if same[0] != 1 {
		t.Fatal("Resample at equal rates aliases its input")
	}
}

// TestResampleTonesInBand checks that tones across the telephone band come
// through at unit gain with high SNR and in phase (the delay is removed).
func TestResampleTonesInBand(t *testing.T) {
	for _, p := range ratePairs {
		low := min(p[0], p[1])
		for _, f := range []float64{200, 1000, 3000, 3400} {
			if f > 0.45*float64(low) {
				continue
			}
			in := tone(f, 10000, p[0], p[0]) // one second
			out := Resample(in, p[0], p[1])
			// Skip the edges, where the filter sees the clip's ends.
			mid := out[len(out)/10 : len(out)*9/10]
			amp, snr := toneSNR(mid, f, p[1])
			// The phase: compare with the ideal tone at the output rate.
			ideal := tone(f, 10000, p[1], len(out))
			var diff float64
			for i := len(out) / 10; i < len(out)*9/10; i++ {
				d := float64(out[i]) - float64(ideal[i])
				diff += d * d
			}
			alignDB := 10 * math.Log10(rms(mid)*rms(mid)*float64(len(mid))/math.Max(diff, 1e-9))
			t.Logf("%d->%d %5.0f Hz: gain %.4f SNR %.1f dB aligned %.1f dB", p[0], p[1], f, amp/10000, snr, alignDB)
			if math.Abs(amp/10000-1) > 0.012 { // 0.1 dB
				t.Errorf("%d->%d %v Hz: gain %.4f", p[0], p[1], f, amp/10000)
			}
			if snr < 60 {
				t.Errorf("%d->%d %v Hz: SNR %.1f dB < 60", p[0], p[1], f, snr)
			}
			if alignDB < 50 {
				t.Errorf("%d->%d %v Hz: differs from the ideal tone by %.1f dB: misaligned", p[0], p[1], f, alignDB)
			}
		}
	}
}

// TestResampleStopBand checks that tones the lower rate cannot carry are
// removed rather than aliased into the band.
func TestResampleStopBand(t *testing.T) {
	for _, p := range [][2]int{{16000, 8000}, {48000, 8000}, {48000, 16000}} {
		nyq := float64(p[1]) / 2
		for _, f := range []float64{1.14 * nyq, 1.3 * nyq, 1.8 * nyq} {
			in := tone(f, 20000, p[0], p[0])
			out := Resample(in, p[0], p[1])
			mid := out[len(out)/10 : len(out)*9/10]
			att := 20 * math.Log10(math.Max(rms(mid), 1e-3)/(20000/math.Sqrt2))
			t.Logf("%d->%d %5.0f Hz: %.1f dB", p[0], p[1], f, att)
			if att > -70 {
				t.Errorf("%d->%d: %v Hz attenuated only %.1f dB", p[0], p[1], f, att)
			}
		}
	}
	// Upsampling must not create images above the input's Nyquist frequency.
	in := tone(1000, 20000, 8000, 8000)
	out := Resample(in, 8000, 48000)
	for _, img := range []float64{7000, 9000, 15000, 17000} {
		amp, _ := toneSNR(out[4800:43200], img, 48000)
		if db := 20 * math.Log10(math.Max(amp, 1e-3)/20000); db > -70 {
			t.Errorf("8000->48000: image at %v Hz only %.1f dB down", img, db)
		}
	}
}

// TestResamplerStreamingMatchesWhole feeds 20 ms frames and checks the
// stream equals the whole-clip result sample for sample.
func TestResamplerStreamingMatchesWhole(t *testing.T) {
	for _, p := range ratePairs {
		in := tone(440, 8000, p[0], p[0]/2)
		for i := range in {
			in[i] += int16((i*7919)%2001 - 1000)
		}
		whole := Resample(in, p[0], p[1])
		r := NewResampler(p[0], p[1])
		var got []int16
		frame := p[0] / 50
		for i := 0; i < len(in); i += frame {
			got = r.Process(got, in[i:min(i+frame, len(in))])
		}
		got = r.Flush(got)
		if len(got) < len(whole) {
			t.Fatalf("%d->%d: stream gave %d samples, whole clip %d", p[0], p[1], len(got), len(whole))
		}
		for i := range whole {
			if got[i] != whole[i] {
				t.Fatalf("%d->%d: sample %d stream %d whole %d", p[0], p[1], i, got[i], whole[i])
			}
		}
		// Reset makes the resampler new again.
		r.Reset()
		again := r.Flush(r.Process(nil, in))
		for i := range whole {
			if again[i] != whole[i] {
				t.Fatalf("%d->%d after Reset: sample %d differs", p[0], p[1], i)
			}
		}
	}
}

func TestResamplerSteadyOutputPerFrame(t *testing.T) {
	for _, p := range ratePairs {
		r := NewResampler(p[0], p[1])
		in := make([]int16, p[0]/50)
		total := 0
		for i := 0; i < 50; i++ {
			n := len(r.Process(nil, in))
			if i > 2 && n != p[1]/50 {
				t.Fatalf("%d->%d frame %d: %d samples, want %d", p[0], p[1], i, n, p[1]/50)
			}
			total += n
		}
		if want := p[1] - r.Delay(); total != want {
			t.Fatalf("%d->%d: %d samples in 1 s, want %d (1 s minus delay %d)", p[0], p[1], total, want, r.Delay())
		}
	}
}

func TestResamplerAllocatesNothing(t *testing.T) {
	for _, p := range ratePairs {
		r := NewResampler(p[0], p[1])
		in := tone(300, 5000, p[0], p[0]/50)
		out := make([]int16, 0, p[1]/50+8)
		if a := testing.AllocsPerRun(50, func() { out = r.Process(out[:0], in) }); a != 0 {
			t.Errorf("%d->%d: %v allocations per 20 ms frame", p[0], p[1], a)
		}
	}
}

func TestResamplerClipsInsteadOfWrapping(t *testing.T) {
	// A full-scale square wave overshoots after filtering; it must saturate.
	in := make([]int16, 1600)
	for i := range in {
		in[i] = 32767
		if (i/20)%2 == 1 {
			in[i] = -32768
		}
	}
	out := Resample(in, 8000, 48000)
	for i := 1; i < len(out); i++ {
		if d := int(out[i]) - int(out[i-1]); d > 40000 || d < -40000 {
			t.Fatalf("jump of %d at %d: wrapped around", d, i)
		}
	}
}

func BenchmarkResampler(b *testing.B) {
	for _, p := range ratePairs {
		b.Run(fmt.Sprintf("%dto%d", p[0], p[1]), func(b *testing.B) {
			r := NewResampler(p[0], p[1])
			in := tone(300, 5000, p[0], p[0]/50)
			out := make([]int16, 0, p[1]/50+8)
			b.ReportAllocs()
			stop := benchcpu.Report(b)
			for i := 0; i < b.N; i++ {
				out = r.Process(out[:0], in)
			}
			stop()
		})
	}
}

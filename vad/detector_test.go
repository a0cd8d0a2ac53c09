package vad

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/openivr/ivr/audio"

	"github.com/openivr/ivr/internal/benchcpu"
)

const soundsDir = "/usr/share/asterisk/sounds/en"

// loadSound reads one Asterisk prompt or fails with an install hint.
func loadSound(t testing.TB, name string) audio.Clip {
	t.Helper()
	c, err := audio.ReadWAVFile(soundsDir + "/" + name + ".wav")
	if err != nil {
		t.Fatalf("%v (apt-get install asterisk-core-sounds-en-wav)", err)
	}
	return c
}

func TestNewRates(t *testing.T) {
	for _, r := range []int{8000, 16000, 48000} {
		d, err := New(r, Config{})
		if err != nil {
			t.Fatalf("New(%d): %v", r, err)
		}
		if d.FrameSize() != r/50 || d.Rate() != r {
			t.Fatalf("rate %d: frame size %d", r, d.FrameSize())
		}
	}
	for _, r := range []int{0, -8000, 11025, 44100} {
		if _, err := New(r, Config{}); !errors.Is(err, ErrRate) {
			t.Fatalf("New(%d) error %v, want ErrRate", r, err)
		}
	}
	if _, err := New(8000, Config{Smoothing: 1}); err == nil {
		t.Fatal("smoothing 1 accepted")
	}
}

// probs runs a clip through a fresh detector in 20 ms frames.
func probs(t testing.TB, c audio.Clip) []float32 {
	d, err := New(c.Rate, Config{})
	if err != nil {
		t.Fatal(err)
	}
	n := d.FrameSize()
	var out []float32
	for i := 0; i+n <= len(c.Samples); i += n {
		out = append(out, d.Process(c.Samples[i:i+n]))
	}
	return out
}

func TestSilenceAndNoiseAreNotSpeech(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	quiet := make([]int16, 8000*3)
	for i := range quiet {
		quiet[i] = int16(rng.NormFloat64() * 30) // about -60 dBFS
	}
	for _, c := range []audio.Clip{{Rate: 8000, Samples: make([]int16, 8000*3)}, {Rate: 8000, Samples: quiet}} {
		for i, p := range probs(t, c) {
			if p > 0.5 {
				t.Fatalf("frame %d: probability %.2f on silence", i, p)
			}
		}
	}
}

func TestSpeechScoresAboveSilence(t *testing.T) {
	c := loadSound(t, "agent-pass")
	pad := make([]int16, 8000) // one second of silence each side
	s := append(append(append([]int16{}, pad...), c.Samples...), pad...)
	for _, rate := range []int{8000, 16000, 48000} {
		clip := audio.Clip{Rate: rate, Samples: audio.Resample(s, 8000, rate)}
		p := probs(t, clip)
		var inSpeech, inSilence float64
		var nSpeech, nSilence int
		for i, v := range p {
			if i < 40 {
				inSilence += float64(v)
				nSilence++
			}
			if i >= 55 && i < len(p)-60 {
				inSpeech += float64(v)
				nSpeech++
			}
		}
		ms, mq := inSpeech/float64(nSpeech), inSilence/float64(nSilence)
		t.Logf("%d Hz: mean probability speech %.2f silence %.2f", rate, ms, mq)
		if ms < 0.5 || mq > 0.2 {
			t.Fatalf("%d Hz: speech %.2f silence %.2f", rate, ms, mq)
		}
	}
}

func TestProcessOddChunksMatchesFrames(t *testing.T) {
	c := loadSound(t, "agent-pass")
	want := probs(t, c)
	d, _ := New(8000, Config{})
	var got []float32
	s := c.Samples
	fed := 0
	// Feed 10 ms frames: the probability changes every other call and must
	// equal the 20 ms result.
	for i := 0; i+80 <= len(s) && i/160 < len(want); i += 80 {
		p := d.Process(s[i : i+80])
		fed += 80
		if fed%160 == 0 {
			got = append(got, p)
		}
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("hop %d: 10 ms frames give %v, 20 ms frames %v", i, got[i], want[i])
		}
	}
}

func TestProcessNeverPanicsOnOddInput(t *testing.T) {
	d, _ := New(16000, Config{})
	for _, in := range [][]int16{nil, {}, {32767}, make([]int16, 7), make([]int16, 10000)} {
		p := d.Process(in)
		if math.IsNaN(float64(p)) || p < 0 || p > 1 {
			t.Fatalf("probability %v", p)
		}
	}
	full := make([]int16, 320)
	for i := range full {
		full[i] = -32768
		if i%2 == 0 {
			full[i] = 32767
		}
	}
	for i := 0; i < 100; i++ {
		if p := d.Process(full); math.IsNaN(float64(p)) || p < 0 || p > 1 {
			t.Fatalf("full-scale input: probability %v", p)
		}
	}
}

func TestProcessAllocatesNothing(t *testing.T) {
	for _, rate := range []int{8000, 16000, 48000} {
		d, _ := New(rate, Config{})
		frame := make([]int16, d.FrameSize())
		for i := range frame {
			frame[i] = int16(1000 * math.Sin(float64(i)))
		}
		d.Process(frame)
		if a := testing.AllocsPerRun(100, func() { d.Process(frame) }); a != 0 {
			t.Fatalf("%d Hz: %v allocations per frame", rate, a)
		}
	}
}

func BenchmarkProcess(b *testing.B) {
	c := loadSound(b, "agent-pass")
	for _, rate := range []int{8000, 16000, 48000} {
		b.Run(fmt.Sprintf("%dHz", rate), func(b *testing.B) {
			s := audio.Resample(c.Samples, 8000, rate)
			d, _ := New(rate, Config{})
			n := d.FrameSize()
			frames := len(s) / n
			b.ReportAllocs()
			b.ResetTimer()
			stop := benchcpu.Report(b)
			for i := 0; i < b.N; i++ {
				k := i % frames
				d.Process(s[k*n : (k+1)*n])
			}
			stop()
		})
	}
}

// FuzzProcess feeds arbitrary audio in arbitrary chunks: the probability
// must stay a number in [0, 1] and nothing may panic.
func FuzzProcess(f *testing.F) {
	f.Add([]byte{}, uint8(160), uint16(8000))
	f.Add([]byte{0xff, 0x7f, 0x00, 0x80, 0x01, 0x00}, uint8(3), uint16(16000))
	f.Add(make([]byte, 2000), uint8(255), uint16(48000))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8, rate uint16) {
		r := []int{8000, 16000, 48000}[int(rate)%3]
		d, err := New(r, Config{Smoothing: 0.3})
		if err != nil {
			t.Fatal(err)
		}
		s := make([]int16, len(data)/2)
		for i := range s {
			s[i] = int16(uint16(data[2*i]) | uint16(data[2*i+1])<<8)
		}
		// Repeat the input so the context features fill up.
		for rep := 0; rep < 4; rep++ {
			for i := 0; i < len(s); i += int(chunk) + 1 {
				p := d.Process(s[i:min(i+int(chunk)+1, len(s))])
				if math.IsNaN(float64(p)) || p < 0 || p > 1 {
					t.Fatalf("probability %v", p)
				}
			}
		}
	})
}

// TestSmoothing checks that Config.Smoothing is a first-order filter of the
// raw probabilities.
func TestSmoothing(t *testing.T) {
	c := loadSound(t, "agent-pass")
	raw := probs(t, c)
	d, err := New(8000, Config{Smoothing: 0.6})
	if err != nil {
		t.Fatal(err)
	}
	prev := float32(0)
	for i := 0; i < len(raw); i++ {
		got := d.Process(c.Samples[i*160 : (i+1)*160])
		want := raw[i]
		if i > 0 {
			want = 0.6*prev + 0.4*raw[i]
		}
		if math.Abs(float64(got-want)) > 1e-6 {
			t.Fatalf("hop %d: smoothed %v, want %v", i, got, want)
		}
		prev = got
	}
}

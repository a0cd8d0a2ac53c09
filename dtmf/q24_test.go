package dtmf

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/codec"
)

// The conformance suite generates the signal of each ITU-T Q.24 receiver
// requirement (as spandsp's dtmf_rx_tests synthesizes the Mitel CM7291
// tape) and checks accept or reject through the same Receiver a call uses.

var testRates = []int{8000, 16000}

// sig builds test audio: dual tones with independent frequency offsets and
// levels, silences, and optional white noise.
type sig struct {
	rate int
	rng  *rand.Rand
	s    []float64
}

func newSig(rate int, seed uint64) *sig {
	return &sig{rate: rate, rng: rand.New(rand.NewPCG(seed, 7))}
}

func (g *sig) n(d time.Duration) int { return int(int64(d) * int64(g.rate) / int64(time.Second)) }

// silence appends d of silence.
func (g *sig) silence(d time.Duration) *sig {
	g.s = append(g.s, make([]float64, g.n(d))...)
	return g
}

// dual appends key for d with the row tone scaled by (1+rowOff) and at
// rowDB dBFS, the column likewise, each with a random phase.
func (g *sig) dual(key byte, d time.Duration, rowOff, colOff, rowDB, colDB float64) *sig {
	fr, fc, ok := Frequencies(key)
	if !ok {
		panic("bad key in test")
	}
	ar := 32767 * math.Pow(10, rowDB/20)
	ac := 32767 * math.Pow(10, colDB/20)
	wr := 2 * math.Pi * fr * (1 + rowOff) / float64(g.rate)
	wc := 2 * math.Pi * fc * (1 + colOff) / float64(g.rate)
	pr, pc := g.rng.Float64()*2*math.Pi, g.rng.Float64()*2*math.Pi
	for i := range g.n(d) {
		g.s = append(g.s, ar*math.Sin(wr*float64(i)+pr)+ac*math.Sin(wc*float64(i)+pc))
	}
	return g
}

// key appends key at level dB per tone, nominal frequencies.
func (g *sig) key(k byte, d time.Duration, db float64) *sig { return g.dual(k, d, 0, 0, db, db) }

// noise adds white Gaussian noise of the given RMS (linear units) to all
// of the signal.
func (g *sig) noise(rms float64) *sig {
	for i := range g.s {
		g.s[i] += g.rng.NormFloat64() * rms
	}
	return g
}

func (g *sig) pcm() []int16 {
	out := make([]int16, len(g.s))
	for i, v := range g.s {
		out[i] = int16(math.Max(-32768, math.Min(32767, math.Round(v))))
	}
	return out
}

// detect runs the live-call path (Receiver, 20 ms frames) over the signal.
func detect(t testing.TB, rate int, pcm []int16) string {
	t.Helper()
	s, err := DetectClip(audio.Clip{Rate: rate, Samples: pcm})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestQ24DecodesEveryKey(t *testing.T) {
	for _, rate := range testRates {
		g := newSig(rate, 1).silence(100 * time.Millisecond)
		for i := 0; i < len(keys); i++ {
			g.key(keys[i], 50*time.Millisecond, -10).silence(50 * time.Millisecond)
		}
		if got := detect(t, rate, g.pcm()); got != keys {
			t.Errorf("%d Hz: got %q, want %q", rate, got, keys)
		}
	}
}

func TestQ24FrequencyTolerance(t *testing.T) {
	for _, rate := range testRates {
		for i := 0; i < len(keys); i++ {
			k := keys[i]
			for _, c := range []struct {
				row, col float64
				accept   bool
			}{
				{+0.015, +0.015, true}, {-0.015, -0.015, true}, {+0.015, -0.015, true}, {-0.015, +0.015, true},
				{+0.035, 0, false}, {-0.035, 0, false}, {0, +0.035, false}, {0, -0.035, false},
				{+0.035, +0.035, false}, {-0.035, -0.035, false},
			} {
				g := newSig(rate, uint64(i)).silence(60*time.Millisecond).
					dual(k, 80*time.Millisecond, c.row, c.col, -10, -10).silence(80 * time.Millisecond)
				got := detect(t, rate, g.pcm())
				want := ""
				if c.accept {
					want = string(k)
				}
				if got != want {
					t.Errorf("%d Hz key %c row %+.1f%% col %+.1f%%: got %q, want %q", rate, k, 100*c.row, 100*c.col, got, want)
				}
			}
		}
	}
}

func TestQ24Duration(t *testing.T) {
	for _, rate := range testRates {
		for i := 0; i < len(keys); i++ {
			k := keys[i]
			// Slide the tone across the 20 ms frame and the detector's blocks.
			for shift := 0; shift < 20; shift += 3 {
				pre := 40*time.Millisecond + time.Duration(shift)*time.Millisecond/4
				long := newSig(rate, uint64(shift)).silence(pre).key(k, 40*time.Millisecond, -8).silence(80 * time.Millisecond)
				if got := detect(t, rate, long.pcm()); got != string(k) {
					t.Errorf("%d Hz %c: 40 ms tone (offset %s): got %q, want %q", rate, k, pre, got, string(k))
				}
				short := newSig(rate, uint64(shift)).silence(pre).key(k, 23*time.Millisecond, -8).silence(80 * time.Millisecond)
				if got := detect(t, rate, short.pcm()); got != "" {
					t.Errorf("%d Hz %c: 23 ms tone (offset %s) accepted as %q", rate, k, pre, got)
				}
			}
		}
	}
}

func TestQ24Twist(t *testing.T) {
	for _, rate := range testRates {
		for i := 0; i < len(keys); i++ {
			k := keys[i]
			for seed := uint64(0); seed < 4; seed++ {
				// Normal twist: the column (high) tone 8 dB above the row.
				n := newSig(rate, seed).silence(40*time.Millisecond).dual(k, 60*time.Millisecond, 0, 0, -16, -8).silence(60 * time.Millisecond)
				if got := detect(t, rate, n.pcm()); got != string(k) {
					t.Errorf("%d Hz %c: 8 dB normal twist: got %q", rate, k, got)
				}
				// Reverse twist: the row tone 4 dB above the column.
				r := newSig(rate, seed).silence(40*time.Millisecond).dual(k, 60*time.Millisecond, 0, 0, -8, -12).silence(60 * time.Millisecond)
				if got := detect(t, rate, r.pcm()); got != string(k) {
					t.Errorf("%d Hz %c: 4 dB reverse twist: got %q", rate, k, got)
				}
			}
		}
	}
}

func TestQ24DynamicRange(t *testing.T) {
	// From just below clipping (two tones at -6.5 dBFS) down 35 dB and more.
	for _, rate := range testRates {
		for db := -6.5; db >= -43; db -= 2.5 {
			g := newSig(rate, 3).silence(40 * time.Millisecond)
			for i := 0; i < len(keys); i++ {
				g.key(keys[i], 50*time.Millisecond, db).silence(50 * time.Millisecond)
			}
			if got := detect(t, rate, g.pcm()); got != keys {
				t.Errorf("%d Hz at %.1f dBFS per tone: got %q", rate, db, got)
			}
		}
		// Far below the threshold nothing is reported.
		g := newSig(rate, 3).silence(40*time.Millisecond).key('5', 100*time.Millisecond, -60).silence(40 * time.Millisecond)
		if got := detect(t, rate, g.pcm()); got != "" {
			t.Errorf("%d Hz: -60 dBFS tone accepted as %q", rate, got)
		}
	}
}

func TestQ24NoiseSNR15(t *testing.T) {
	// Mitel test 7: one key many times on white noise. S/N is the power
	// of the dual tone over the power of the noise in the full band.
	const presses = 200
	for _, rate := range testRates {
		db := -16.0
		a := 32767 * math.Pow(10, db/20)
		tonePow := a * a // two tones of a^2/2 each
		rms := math.Sqrt(tonePow / math.Pow(10, 15.0/10))
		var want strings.Builder
		g := newSig(rate, 11).silence(50 * time.Millisecond)
		for i := 0; i < presses; i++ {
			k := keys[i%len(keys)]
			want.WriteByte(k)
			g.key(k, 50*time.Millisecond, db).silence(50 * time.Millisecond)
		}
		g.noise(rms)
		if got := detect(t, rate, g.pcm()); got != want.String() {
			t.Errorf("%d Hz at 15 dB S/N: %d of %d digits right\n got %q\nwant %q", rate, common(got, want.String()), presses, got, want.String())
		}
	}
}

// common counts equal positions, for a readable failure.
func common(a, b string) int {
	n := 0
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] == b[i] {
			n++
		}
	}
	return n
}

func TestQ24RepeatedDigitGaps(t *testing.T) {
	for _, rate := range testRates {
		for _, on := range []time.Duration{40 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond} {
			g := newSig(rate, 5).silence(30 * time.Millisecond)
			for i := 0; i < 6; i++ {
				g.key('5', on, -10).silence(40 * time.Millisecond)
			}
			if got := detect(t, rate, g.pcm()); got != "555555" {
				t.Errorf("%d Hz: six %s tones with 40 ms gaps: got %q", rate, on, got)
			}
		}
	}
}

func TestShortInterruptionIsOneDigit(t *testing.T) {
	// A drop-out of up to 10 ms inside a tone (a lost packet concealed as
	// silence) must not split the key press.
	for _, rate := range testRates {
		for _, drop := range []time.Duration{5 * time.Millisecond, 10 * time.Millisecond} {
			g := newSig(rate, 9).silence(30*time.Millisecond).key('9', 60*time.Millisecond, -10).
				silence(drop).key('9', 60*time.Millisecond, -10).silence(60 * time.Millisecond)
			if got := detect(t, rate, g.pcm()); got != "9" {
				t.Errorf("%d Hz: %s drop-out: got %q, want one 9", rate, drop, got)
			}
		}
	}
}

func TestThroughG711(t *testing.T) {
	for _, c := range []codec.Codec{codec.PCMU{}, codec.PCMA{}} {
		for _, db := range []float64{-8, -25, -40} {
			g := newSig(8000, 4).silence(40 * time.Millisecond)
			for i := 0; i < len(keys); i++ {
				g.key(keys[i], 50*time.Millisecond, db).silence(50 * time.Millisecond)
			}
			pcm := c.Decode(nil, c.Encode(nil, g.pcm()))
			if got := detect(t, 8000, pcm); got != keys {
				t.Errorf("%s at %.0f dBFS: got %q", c.Name(), db, got)
			}
		}
	}
}

func TestOtherRatesResampled(t *testing.T) {
	for _, rate := range []int{11025, 22050, 44100, 48000} {
		g := newSig(rate, 8).silence(50 * time.Millisecond)
		for _, k := range []byte("147*0#") {
			g.key(k, 60*time.Millisecond, -12).silence(60 * time.Millisecond)
		}
		if got := detect(t, rate, g.pcm()); got != "147*0#" {
			t.Errorf("%d Hz: got %q", rate, got)
		}
	}
}

func TestDetectionLatency(t *testing.T) {
	// From tone start to the emitted digit, with 20 ms framing included.
	for _, rate := range testRates {
		var worst time.Duration
		for shift := 0; shift < 40; shift++ {
			start := 100*time.Millisecond + time.Duration(shift)*time.Millisecond/2
			g := newSig(rate, uint64(shift)).silence(start).key('8', 80*time.Millisecond, -10).silence(40 * time.Millisecond)
			ds, err := DetectClipDigits(audio.Clip{Rate: rate, Samples: g.pcm()})
			if err != nil || len(ds) != 1 {
				t.Fatalf("%d Hz: %v %v", rate, ds, err)
			}
			worst = max(worst, ds[0].At.Sub(time.Unix(0, 0))-start)
		}
		t.Logf("%d Hz: worst delay from tone start to digit %s", rate, worst)
		if worst > 60*time.Millisecond {
			t.Errorf("%d Hz: delay %s > 60 ms", rate, worst)
		}
	}
}

func ExampleTone() {
	pcm := Tone('5', 8000, 60*time.Millisecond, -10)
	s, _ := DetectClip(audio.Clip{Rate: 8000, Samples: append(pcm, make([]int16, 400)...)})
	fmt.Println(len(pcm), s)
	// Output: 480 5
}

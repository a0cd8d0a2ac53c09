package hold

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
)

// tone is a sine of f Hz at amplitude amp, dur long at rate.
func tone(rate int, f, amp float64, dur time.Duration) []int16 {
	n := audio.SamplesPer(rate, dur)
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * math.Sin(2*math.Pi*f*float64(i)/float64(rate))))
	}
	return s
}

// noise is seeded white noise at amplitude amp: a clip whose samples are
// found again exactly in the output.
func noise(seed uint64, amp int, n int) []int16 {
	r := rand.New(rand.NewPCG(seed, 1))
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(r.IntN(2*amp+1) - amp)
	}
	return s
}

// writeWAV writes samples as dir/name and returns the path.
func writeWAV(t testing.TB, dir, name string, rate int, s []int16) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := audio.WriteWAVFile(p, audio.Clip{Rate: rate, Samples: s}); err != nil {
		t.Fatal(err)
	}
	return p
}

// read pulls n samples from p in frames of the given size, failing on a
// short or empty read: the player always has something to play.
func read(t testing.TB, p *Player, n, frame int) []int16 {
	t.Helper()
	out := make([]int16, 0, n)
	buf := make([]int16, frame)
	for len(out) < n {
		k := min(frame, n-len(out))
		got, err := p.ReadPCM(buf[:k])
		if err != nil {
			t.Fatalf("ReadPCM after %d samples: %v", len(out), err)
		}
		if got != k {
			t.Fatalf("ReadPCM after %d samples: %d of %d", len(out), got, k)
		}
		out = append(out, buf[:k]...)
	}
	return out
}

// index returns where needle starts in hay at or after from, or -1.
func index(hay, needle []int16, from int) int {
	for i := from; i+len(needle) <= len(hay); i++ {
		if hay[i] != needle[0] {
			continue
		}
		match := true
		for k := range needle {
			if hay[i+k] != needle[k] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

// rms is the root mean square of s.
func rms(s []int16) float64 {
	if len(s) == 0 {
		return 0
	}
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}

// longestSilence is the longest run of 20 ms frames quieter than -61 dBFS
// RMS (quietRMS), in time.
func longestSilence(s []int16, rate int) time.Duration {
	f := rate / 50
	run, best := 0, 0
	for i := 0; i+f <= len(s); i += f {
		if rms(s[i:i+f]) < quietRMS {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return time.Duration(best) * 20 * time.Millisecond
}

// maxStep is the largest difference between neighbouring samples.
func maxStep(s []int16) int {
	m := 0
	for i := 1; i < len(s); i++ {
		m = max(m, abs(int(s[i])-int(s[i-1])))
	}
	return m
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// closed reports whether ch is closed, without waiting.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// goertzel is the power of frequency f in s, normalised by length.
func goertzel(s []int16, rate int, f float64) float64 {
	w := 2 * math.Pi * f / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range s {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	return p / float64(len(s)) / float64(len(s))
}

// patient makes NewPlayer wait for its first file however slow the
// machine, so tests that compare samples do not start on the pattern.
var patient = WithFirstWait(time.Minute)

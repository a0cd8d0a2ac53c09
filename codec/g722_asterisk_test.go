package codec

import (
	"math"
	"os"
	"testing"

	"github.com/openivr/ivr/audio"
)

// TestG722DecodesAsteriskPrompts decodes G.722 prompts as Asterisk ships
// them (asterisk-core-sounds-en-g722: made by another encoder from the same
// studio recordings as the 8 kHz WAV package) and checks, by signal, that
// the result is the same speech: after resampling to 8 kHz, its level
// contour (dB per 20 ms) follows the WAV version's. The waveforms
// themselves differ (the packages were band-limited with different
// filters), so the check is on the contour.
func TestG722DecodesAsteriskPrompts(t *testing.T) {
	const dir = "/usr/share/asterisk/sounds/en/"
	for _, name := range []string{"agent-pass", "vm-goodbye", "demo-thanks"} {
		code, err := os.ReadFile(dir + name + ".g722")
		if err != nil {
			t.Fatalf("%v (apt-get install asterisk-core-sounds-en-g722)", err)
		}
		ref, err := audio.ReadWAVFile(dir + name + ".wav")
		if err != nil {
			t.Fatalf("%v (apt-get install asterisk-core-sounds-en-wav)", err)
		}
		wide := NewG722().Decode(nil, code)
		if len(wide) != 2*len(code) {
			t.Fatalf("%s: %d samples from %d octets", name, len(wide), len(code))
		}
		narrow := audio.Resample(wide, 16000, 8000)
		a, b := contour(ref.Samples), contour(narrow)
		best, bestLag := -1.0, 0
		for lag := -3; lag <= 3; lag++ {
			if c := correlation(a, b, lag); c > best {
				best, bestLag = c, lag
			}
		}
		t.Logf("%s: %d octets; level contour correlation with the 8 kHz recording %.3f (lag %d frames)", name, len(code), best, bestLag)
		if best < 0.95 {
			t.Errorf("%s: decoded prompt's level contour correlates only %.3f with the WAV", name, best)
		}
	}
}

// contour is the level in dB of each 20 ms frame at 8 kHz, floored at
// -80 dBFS.
func contour(s []int16) []float64 {
	out := make([]float64, len(s)/160)
	for f := range out {
		var p float64
		for _, v := range s[f*160 : (f+1)*160] {
			p += float64(v) * float64(v)
		}
		out[f] = math.Max(10*math.Log10(p/160/(32768*32768)+1e-12), -80)
	}
	return out
}

// correlation is the Pearson correlation of a and b shifted by lag frames.
func correlation(a, b []float64, lag int) float64 {
	var n, sa, sb, saa, sbb, sab float64
	for i := range a {
		j := i + lag
		if j < 0 || j >= len(b) {
			continue
		}
		n++
		sa += a[i]
		sb += b[j]
		saa += a[i] * a[i]
		sbb += b[j] * b[j]
		sab += a[i] * b[j]
	}
	cov := sab/n - sa/n*sb/n
	return cov / math.Sqrt((saa/n-sa/n*sa/n)*(sbb/n-sb/n*sb/n))
}

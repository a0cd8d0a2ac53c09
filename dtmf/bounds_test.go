package dtmf

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

// Diagnostics of the -7 dB talk-radio overlay (BENCHMARKS.md, DTMF): which
// checks reject the keys the detector misses there, and what relaxing
// them would give. They print, they do not judge; run them with
// DTMF_BOUNDS=1 (the recording must be present).

const radioMin7 = "../../shared/data/dtmf/tonedetect/50by50at8000HzRadioOverlay/0123456789psABCD--min7db.wav"

// The keys of the radio overlays on their grid: 50 ms tones every 100 ms
// from sample 4842 (located by matched filtering).
const (
	radioKeys  = "0123456789#*ABCD"
	radioStart = 4842
	radioHop   = 800
	radioOn    = 400
)

func boundsOn(t *testing.T) {
	if os.Getenv("DTMF_BOUNDS") == "" {
		t.Skip("DTMF_BOUNDS not set")
	}
}

// boundVariants relax the checks that stand between the missed keys and
// a digit, each alone or together: upper bounds of what a new acceptance
// path that skipped them could gain, not candidate settings.
var boundVariants = []struct {
	name string
	mod  func(*Params)
}{
	{"default", func(p *Params) {}},
	{"no share checks (weak 0, steady band and whole 0)", func(p *Params) { p.SteadyBandShare, p.SteadyShare, p.WeakShare = 0, 0, 1e-9 }},
	{"steady relative peak 0 dB", func(p *Params) { p.SteadyRelPeakDB = 0 }},
	{"steady relative peak 0, SNR 0", func(p *Params) { p.SteadyRelPeakDB, p.SteadySNRDB = 0, 0 }},
	{"+ level change 6 dB", func(p *Params) { p.SteadyRelPeakDB, p.SteadySNRDB, p.SteadyLevelDB = 0, 0, 6 }},
	{"+ coherence 0.9", func(p *Params) {
		p.SteadyRelPeakDB, p.SteadySNRDB, p.SteadyLevelDB, p.SteadyCoherence = 0, 0, 6, 0.9
	}},
	{"+ frequency 1.5 %", func(p *Params) {
		p.SteadyRelPeakDB, p.SteadySNRDB, p.SteadyLevelDB, p.SteadyCoherence, p.SteadyFreqTolerance = 0, 0, 6, 0.9, 0.015
	}},
	{"+ weak relative peak 0, no shares", func(p *Params) {
		p.SteadyRelPeakDB, p.SteadySNRDB, p.SteadyLevelDB, p.SteadyCoherence, p.SteadyFreqTolerance = 0, 0, 6, 0.9, 0.015
		p.WeakRelativePeakDB, p.SteadyBandShare, p.SteadyShare, p.WeakShare = 0, 0, 0, 1e-9
	}},
}

// TestRadioBounds prints the digits of the -7 dB overlay under each
// relaxation.
func TestRadioBounds(t *testing.T) {
	boundsOn(t)
	c, err := readWAV(radioMin7)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range boundVariants {
		p := DefaultParams()
		v.mod(&p)
		t.Logf("%-50s %s", v.name, detectorDigits(t, c.Rate, p, c.Samples))
	}
}

// TestRadioWindows prints, for each key of the -7 dB overlay named in
// DTMF_BOUNDS (or all for "all"), the confirmation's measurements on
// windows at every 16th sample inside the tone: with blocks=4 the 32 ms
// window of four 8 ms quarters the detector uses; with DTMF_BLOCKS=5 or 6
// a longer window of 8 ms blocks (40 or 48 ms, as long as a 50 ms tone
// allows) with the same checks, and "pass" whether the steady-sinusoid
// or spectral way would accept it.
func TestRadioWindows(t *testing.T) {
	boundsOn(t)
	c, err := readWAV(radioMin7)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDetector(c.Rate, DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	nb := 4
	fmt.Sscan(os.Getenv("DTMF_BLOCKS"), &nb)
	q := len(d.xbuf) / 4
	n := nb * q
	hann := make([]float64, n)
	for i := range hann {
		hann[i] = 0.5 - 0.5*math.Cos(2*math.Pi*(float64(i)+0.5)/float64(n))
	}
	x := make([]float64, n)
	db := func(v float64) float64 { return 10 * math.Log10(v) }
	only := os.Getenv("DTMF_BOUNDS")
	var passed, tried [len(radioKeys)]int
	for s := 0; s < len(radioKeys); s++ {
		k := radioKeys[s]
		if only != "all" && !strings.ContainsRune(only, rune(k)) {
			continue
		}
		dig := strings.IndexByte(layout, k)
		for off := 0; off+n <= radioOn; off += 16 {
			at := radioStart + radioHop*s + off
			var f confirmFeatures
			var ft [2]float64
			for tt, i := range [2]int{dig / 4, 4 + dig%4} {
				for j := range x {
					x[j] = float64(c.Samples[at+j])
				}
				f.steady[tt], f.coh[tt], ft[tt] = blockStats(d, x, d.nominal[i], nb)
				f.off[tt] = ft[tt]/d.nominal[i] - 1
			}
			var e float64
			for j := range x {
				x[j] *= hann[j]
				e += x[j] * x[j]
			}
			band := 0.0
			for fr := 500.0; fr < 2000; fr += float64(d.rate) / float64(n) {
				band += d.dft(x, fr)
			}
			d.levels(x, float64(n)*e, band, dig, ft, &f)
			ok := d.passes(&f)
			tried[s]++
			if ok {
				passed[s]++
			}
			t.Logf("%c +%3d pass=%-5v level change %4.1f/%4.1f dB coherence %.3f/%.3f off %+.2f/%+.2f %% band %.2f whole %.3f SNR %4.1f/%4.1f rel %4.1f/%4.1f dB",
				k, off, ok, db(f.steady[0]), db(f.steady[1]), f.coh[0], f.coh[1], 100*f.off[0], 100*f.off[1], f.share, f.full, db(f.snr[0]), db(f.snr[1]), db(f.rel[0]), db(f.rel[1]))
		}
	}
	var sum strings.Builder
	for s := range radioKeys {
		if tried[s] > 0 {
			fmt.Fprintf(&sum, " %c %d/%d", radioKeys[s], passed[s], tried[s])
		}
	}
	t.Logf("%d blocks of %d samples, windows passing per key:%s", nb, q, sum.String())
}

// blockStats is quarterStats for the nb blocks of x (len(x)/nb samples
// each): the largest over the smallest block power, the coherence and the
// frequency measured from the phase advance.
func blockStats(d *Detector, x []float64, f0 float64, nb int) (steady, coh, ft float64) {
	q := len(x) / nb
	var zr, zi, se, sr, si float64
	lo, hi := math.Inf(1), 0.0
	qr, qi := make([]float64, nb), make([]float64, nb)
	for j := 0; j < nb; j++ {
		qr[j], qi[j] = d.dftc(x[j*q:(j+1)*q], f0)
		m := qr[j]*qr[j] + qi[j]*qi[j]
		lo, hi, se = math.Min(lo, m), math.Max(hi, m), se+m
		if j > 0 {
			zr += qr[j]*qr[j-1] + qi[j]*qi[j-1]
			zi += qi[j]*qr[j-1] - qr[j]*qi[j-1]
		}
	}
	adv := math.Atan2(zi, zr)
	rate := float64(d.rate)
	ft = f0 + math.Remainder(adv-2*math.Pi*f0*float64(q)/rate, 2*math.Pi)*rate/(2*math.Pi*float64(q))
	for j := 0; j < nb; j++ {
		cr, ci := math.Cos(adv*float64(j)), -math.Sin(adv*float64(j))
		sr += qr[j]*cr - qi[j]*ci
		si += qr[j]*ci + qi[j]*cr
	}
	return hi / (lo + 1e-9), (sr*sr + si*si) / (float64(nb)*se + 1e-9), ft
}

// TestOverlayShareBound prints what removing every share check gives on
// the synthetic overlays at 0 to -6 dB (8 kHz, the Detector alone): the
// most that an acceptance path for tones failing only the share checks
// could add there.
func TestOverlayShareBound(t *testing.T) {
	boundsOn(t)
	for _, set := range talkOffSets[:2] {
		bg := loadBackground(t, set.name, set.pkg, set.globs)
		for _, snr := range []float64{0, -3, -6} {
			for _, v := range boundVariants[:2] {
				p := DefaultParams()
				v.mod(&p)
				rng := rand.New(rand.NewPCG(uint64(snr+100), 3))
				var s overlayScore
				for range 40 {
					o := makeOverlayClip(rng, bg, snr, -14-rng.Float64()*8)
					d, err := NewDetector(8000, p)
					if err != nil {
						t.Fatal(err)
					}
					var ds []Digit
					for _, det := range d.Process(o.pcm, nil) {
						ds = append(ds, Digit{Key: det.Key, At: time.Unix(0, 0).Add(time.Duration(det.At) * time.Second / 8000)})
					}
					s.add(o, ds)
				}
				t.Logf("%s, pair %+.0f dB, %s: %d of %d right, %d wrong, %d extra", set.name, snr, v.name, s.right, s.tones, s.wrong, s.extra)
			}
		}
	}
}

package dtmf

import (
	"fmt"
	"math"
)

// DTMF frequencies (ITU-T Q.23 §2): four rows (low group) and four columns
// (high group); a key is one row tone plus one column tone.
var (
	rowFreqs = [4]float64{697, 770, 852, 941}
	colFreqs = [4]float64{1209, 1336, 1477, 1633}
)

// layout maps row*4+column to the key.
const layout = "123A456B789C*0#D"

// Params are the acceptance thresholds of the in-band detector. The
// defaults (DefaultParams) meet the ITU-T Q.24 receiver requirements as
// the Mitel CM7291 tests apply them (±1.5 % accepted, ±3.5 % rejected;
// 40 ms accepted, 23 ms rejected; 40 ms pauses; 8 dB normal and 4 dB
// reverse twist; 35 dB dynamic range; 15 dB S/N; see q24_test.go), and
// are tuned for talk-off on real speech and music. The names follow the
// checks of the spandsp and Asterisk receivers where they match.
type Params struct {
	// MinLevelDBFS is the weakest tone accepted, per tone, in dB relative
	// to a full-scale sine (-45 dBFS is about -42 dBm0 on a G.711 line).
	MinLevelDBFS float64
	// NormalTwistDB is how much louder the column (high) tone may be than
	// the row tone; ReverseTwistDB is the converse. Levels are compared
	// after correcting for the measured frequency offset.
	NormalTwistDB, ReverseTwistDB float64
	// RelativePeakDB is how far the strongest row (column) must stand above
	// every other row (column).
	RelativePeakDB float64
	// MinToneShare is the fraction of the window's energy the two tones
	// must carry (1 = a pure dual tone).
	MinToneShare float64
	// FreqTolerance is the largest relative frequency error accepted for
	// each tone, measured from the phase advance between windows.
	FreqTolerance float64
	// MaxLevelSpreadDB bounds the energy change across the three
	// sub-blocks of a window, so windows that straddle a tone's start or
	// end do not count as hits; this is what makes the duration limits
	// sharp.
	MaxLevelSpreadDB float64
	// HitsToBegin is how many consecutive windows (hop 4.25 ms) must agree
	// before a digit is declared; MissesToEnd is how many windows without
	// the digit end it.
	HitsToBegin, MissesToEnd int

	// The weak-tone path (weak.go) finds tones that the checks above miss
	// because loud speech or music under them takes much of the window's
	// energy. It judges windows twice as long (25.5 ms) and declares a
	// digit after WeakHits consecutive weak hits, once a confirmation over
	// the last ~32 ms finds the two tones standing clear of the spectrum
	// around them. WeakShare is the smallest share of the long window's
	// energy the two tones must carry (0 turns the weak path off);
	// WeakRelativePeakDB is the relative peak it requires.
	WeakShare          float64
	WeakRelativePeakDB float64
	WeakHits           int
	// ConfirmSNRDB is how far each tone must stand above the mean level of
	// the spectrum beside it (its own main lobe excluded).
	ConfirmSNRDB float64
	// ConfirmHarmonicDB is how far the power at twice each tone's frequency
	// must stay below the tone (speech and music have harmonics, a DTMF
	// generator does not).
	ConfirmHarmonicDB float64
	// ConfirmBandShare is the smallest share of the 500-2000 Hz band the
	// two tones must carry in the confirmation window, ConfirmShare the
	// smallest share of its whole energy.
	ConfirmBandShare, ConfirmShare float64
	// WeakFreqTolerance is the largest relative frequency error of either
	// tone the weak path accepts: tighter than FreqTolerance, as a speech
	// or music partial near a DTMF frequency is seldom that close.
	WeakFreqTolerance float64
	// ConfirmSteadyDB bounds each tone's level change across the four
	// quarters of the confirmation window (so a tone must last ~32 ms).
	ConfirmSteadyDB float64

	// The second way to confirm a weak candidate is for tones buried
	// deeper, under speech or music as loud as they are: the checks on
	// shares, floor and harmonics are relaxed, and in exchange each tone
	// must be a steady sinusoid across the window's four quarters: its
	// level within SteadyLevelDB, its coherence (how much of the quarters'
	// energy one sinusoid of fixed amplitude and frequency explains) at
	// least SteadyCoherence, its frequency (measured over the whole
	// window) within SteadyFreqTolerance; each tone SteadySNRDB above the
	// spectrum beside it, the pair SteadyBandShare of the 500-2000 Hz band
	// and SteadyShare of the whole, and each tone SteadyRelPeakDB above
	// the other frequencies of its group (a steady note of the music on
	// another row must not turn a key into its neighbour; 8 dB, the
	// relative peak of the spandsp and Asterisk receivers and of judge).
	// SteadyCoherence 0 turns this way off.
	SteadyCoherence, SteadyLevelDB, SteadyFreqTolerance        float64
	SteadySNRDB, SteadyBandShare, SteadyShare, SteadyRelPeakDB float64
	// SteadyClean lets a tone that fails the steady-sinusoid measures be
	// measured again with the strongest background component between
	// 3.5 % (the Q.24 reject limit: not the tone) and 125 Hz (one 8 ms
	// quarter's resolution) from it fitted out (weak.go). No threshold
	// changes: the measures are the same, without the beat.
	SteadyClean bool

	// HarmonicTolerance rejects a pair whose column, as measured, is
	// within this fraction of twice its row: one note or voice and its
	// second harmonic (exactly 2:1), not a key. Q.23 chose the
	// frequencies so that no key comes near 2:1 (the closest, 2, 6 and C,
	// are at 1.917-1.918), and even with both tones at Q.24's +-1.5 %
	// limits in opposite directions a key stays 1.26 % from it; the
	// default, 0.6 %, leaves half of that to the frequency measurement,
	// which for this check spans three hops of the run of hits (regular
	// path, harmonicRun) or the 32 ms confirmation (weak path), not a
	// single hop. 0 turns it off.
	HarmonicTolerance float64
}

// DefaultParams returns the thresholds the Receiver uses.
func DefaultParams() Params {
	return Params{
		MinLevelDBFS:     -45,
		NormalTwistDB:    10,
		ReverseTwistDB:   6,
		RelativePeakDB:   8,
		MinToneShare:     0.65,
		FreqTolerance:    0.025,
		MaxLevelSpreadDB: 3,
		HitsToBegin:      6,
		MissesToEnd:      8,

		WeakShare:          0.1,
		WeakRelativePeakDB: 4,
		WeakHits:           3,
		WeakFreqTolerance:  0.008,
		ConfirmSNRDB:       12,
		ConfirmHarmonicDB:  12,
		ConfirmBandShare:   0.7,
		ConfirmShare:       0.3,
		ConfirmSteadyDB:    6,

		SteadyCoherence:     0.95,
		SteadyLevelDB:       3,
		SteadyFreqTolerance: 0.004,
		SteadySNRDB:         7,
		SteadyBandShare:     0.3,
		SteadyShare:         0.1,
		SteadyRelPeakDB:     8,
		SteadyClean:         true,

		HarmonicTolerance: 0.006,
	}
}

// Detection is one digit declared by a Detector.
type Detection struct {
	// Key is the key found.
	Key byte
	// Start is the estimated first sample of the tone, counted from the
	// first sample the detector was given.
	Start int64
	// At is the sample just after the window that completed the
	// declaration: At-Start is the detector's own latency.
	At int64
}

// Detector finds DTMF key presses in a stream of mono 16-bit PCM. It runs
// eight Goertzel filters over sub-blocks of 4.25 ms and judges windows of
// three sub-blocks (12.75 ms, the 102-sample block of the spandsp and
// Asterisk receivers at 8 kHz) every sub-block. Each tone's frequency is
// measured from the phase advance of its filter between windows, which is
// what lets the detector accept ±1.5 % yet reject ±3.5 % at every DTMF
// frequency. A Detector is not safe for concurrent use and allocates
// nothing after NewDetector.
type Detector struct {
	rate   int   // the rate the filters run at (16 kHz input is halved)
	inRate int   // the input's rate
	scale  int64 // input samples per filtered sample
	hb     halfBand
	block  int     // samples per sub-block
	win    float64 // samples per window (3 blocks)
	p      Params

	// Per frequency (rows 0-3, columns 4-7), fixed at construction.
	coef       [8]float64 // 2cos(w)
	c1re, c1im [8]float64 // e^{-jw(B-1)}: turns the Goertzel state into the sub-block DFT
	c2re, c2im [8]float64 // e^{-jwB}: also the nominal rotation per hop
	c4re, c4im [8]float64 // e^{-j2wB}
	nominal    [8]float64 // Hz

	// Goertzel state of the current sub-block.
	s1, s2 [8]float64
	energy float64
	n      int // samples in the current sub-block

	// The last six sub-blocks' DFTs and energies, ring indexed by nsub%6.
	are, aim [6][8]float64
	aen      [6]float64
	nsub     int64

	// The previous window's DFT, for the phase advance.
	wre, wim [8]float64

	// Decision state.
	cand     int        // digit of the current run of hits, -1 none
	run      int        // length of that run
	hitOff   [2]float64 // the last regular hit's measured offsets (Hz), row and column
	runStart int64      // first sample of the run's first window
	active   int        // digit declared and not yet ended, -1 none
	misses   int        // consecutive windows without the active digit
	samples  int64      // samples consumed

	// Thresholds in linear form.
	minPow, normTwist, revTwist, relPeak, maxSpread float64

	weakState
}

// NewDetector returns a detector for PCM at rate Hz (8000 to 96000).
func NewDetector(rate int, p Params) (*Detector, error) {
	if rate < 8000 || rate > 96000 {
		return nil, fmt.Errorf("dtmf: in-band detection needs a rate of 8-96 kHz, not %d", rate)
	}
	if p.HitsToBegin < 1 || p.MissesToEnd < 1 || p.FreqTolerance <= 0 || p.MinToneShare <= 0 || p.MinToneShare > 1 {
		return nil, fmt.Errorf("dtmf: invalid detector parameters %+v", p)
	}
	d := &Detector{rate: rate, inRate: rate, scale: 1, p: p}
	if rate == 16000 {
		d.rate, d.scale, d.hb.on = 8000, 2, true
		rate = 8000
	}
	d.block = int(math.Round(34 * float64(rate) / 8000))
	d.win = float64(3 * d.block)
	for i := 0; i < 8; i++ {
		f := rowFreqs[i%4]
		if i >= 4 {
			f = colFreqs[i-4]
		}
		d.nominal[i] = f
		w := 2 * math.Pi * f / float64(rate)
		b := float64(d.block)
		d.coef[i] = 2 * math.Cos(w)
		d.c1re[i], d.c1im[i] = math.Cos(w*(b-1)), -math.Sin(w*(b-1))
		d.c2re[i], d.c2im[i] = math.Cos(w*b), -math.Sin(w*b)
		d.c4re[i], d.c4im[i] = math.Cos(2*w*b), -math.Sin(2*w*b)
		d.c3re[i], d.c3im[i] = math.Cos(3*w*b), -math.Sin(3*w*b)
	}
	// A sine of amplitude a has mean square a^2/2; the window DFT of it
	// has |W|^2 = (a*N/2)^2, i.e. mean square = 2|W|^2/N^2.
	a := 32767 * math.Pow(10, p.MinLevelDBFS/20)
	d.minPow = a * a / 2
	d.normTwist = math.Pow(10, p.NormalTwistDB/10)
	d.revTwist = math.Pow(10, p.ReverseTwistDB/10)
	d.relPeak = math.Pow(10, p.RelativePeakDB/10)
	d.maxSpread = math.Pow(10, p.MaxLevelSpreadDB/10)
	d.initWeak()
	d.Reset()
	return d, nil
}

// Rate is the sample rate the detector was built for, Hz.
func (d *Detector) Rate() int { return d.inRate }

// Reset forgets all audio, as at the start of a call.
func (d *Detector) Reset() {
	d.s1, d.s2 = [8]float64{}, [8]float64{}
	d.energy, d.n, d.nsub, d.samples = 0, 0, 0, 0
	d.cand, d.run, d.active, d.misses = -1, 0, -1, 0
	d.hb = halfBand{on: d.hb.on}
	d.resetWeak()
}

// Active returns the key whose tone is present now, if any.
func (d *Detector) Active() (byte, bool) {
	if d.active < 0 {
		return 0, false
	}
	return layout[d.active], true
}

// Process consumes samples and appends any digits declared to out, which
// it returns. With a reused out it allocates nothing.
func (d *Detector) Process(samples []int16, out []Detection) []Detection {
	if d.hb.on {
		return d.processHalf(samples, out)
	}
	for len(samples) > 0 {
		n := d.block - d.n
		if n > len(samples) {
			n = len(samples)
		}
		d.goertzel(samples[:n])
		if d.hist != nil {
			d.record(samples[:n])
		}
		samples = samples[n:]
		d.n += n
		d.samples += int64(n)
		if d.n == d.block {
			out = d.endBlock(out)
		}
	}
	return out
}

// goertzel runs the eight filters over x (second-order recursion
// s[n] = x[n] + 2cos(w)s[n-1] - s[n-2]) and sums the energy, all eight
// in one pass so that their eight independent chains overlap.
func (d *Detector) goertzel(x []int16) {
	e := d.energy
	s, t := d.s1, d.s2
	k := &d.coef
	for _, v := range x {
		f := float64(v)
		e += f * f
		s[0], t[0] = k[0]*s[0]+(f-t[0]), s[0]
		s[1], t[1] = k[1]*s[1]+(f-t[1]), s[1]
		s[2], t[2] = k[2]*s[2]+(f-t[2]), s[2]
		s[3], t[3] = k[3]*s[3]+(f-t[3]), s[3]
		s[4], t[4] = k[4]*s[4]+(f-t[4]), s[4]
		s[5], t[5] = k[5]*s[5]+(f-t[5]), s[5]
		s[6], t[6] = k[6]*s[6]+(f-t[6]), s[6]
		s[7], t[7] = k[7]*s[7]+(f-t[7]), s[7]
	}
	d.s1, d.s2 = s, t
	d.energy = e
}

// endBlock stores the finished sub-block's DFTs and, once three are
// available, judges the window they form.
func (d *Detector) endBlock(out []Detection) []Detection {
	k := int(d.nsub % 6)
	for i := 0; i < 8; i++ {
		// After B samples y = s1 - e^{-jw}s2 = e^{jw(B-1)}A, so
		// A = e^{-jw(B-1)}s1 - e^{-jwB}s2, referenced to the block start.
		s1, s2 := d.s1[i], d.s2[i]
		d.are[k][i] = d.c1re[i]*s1 - d.c2re[i]*s2
		d.aim[k][i] = d.c1im[i]*s1 - d.c2im[i]*s2
	}
	d.aen[k] = d.energy
	d.s1, d.s2 = [8]float64{}, [8]float64{}
	d.energy, d.n = 0, 0
	d.nsub++
	if d.nsub < 3 {
		return out
	}
	hit := d.judge(k)
	weak := -1
	if d.hist != nil {
		weak = d.judgeLong(k)
	}
	return d.decide(hit, weak, out)
}

// judge evaluates the window ending with sub-block k and returns the digit
// (row*4+column) it holds, or -1.
func (d *Detector) judge(k int) int {
	k0, k1, k2 := (k+4)%6, (k+5)%6, k // oldest to newest
	var pw [8]float64                 // mean-square power of each tone in the window
	var wre, wim [8]float64
	for i := 0; i < 8; i++ {
		// W = A0 + e^{-jwB}A1 + e^{-j2wB}A2: the DFT over the whole window.
		re := d.are[k0][i] + d.c2re[i]*d.are[k1][i] - d.c2im[i]*d.aim[k1][i] + d.c4re[i]*d.are[k2][i] - d.c4im[i]*d.aim[k2][i]
		im := d.aim[k0][i] + d.c2re[i]*d.aim[k1][i] + d.c2im[i]*d.are[k1][i] + d.c4re[i]*d.aim[k2][i] + d.c4im[i]*d.are[k2][i]
		wre[i], wim[i] = re, im
		pw[i] = re*re + im*im
	}
	prevRe, prevIm := d.wre, d.wim
	d.wre, d.wim = wre, wim
	d.w3re[d.nsub%4], d.w3im[d.nsub%4] = wre, wim
	if d.nsub < 4 {
		return -1 // no previous window to measure the phase advance against
	}
	total := (d.aen[k0] + d.aen[k1] + d.aen[k2]) / d.win
	r, c, pr, pc, fr, fc, ok := d.pair(&pw, &wre, &wim, &prevRe, &prevIm, d.win, d.relPeak, d.p.MinToneShare*total)
	if !ok {
		return -1
	}
	if pr+pc < d.p.MinToneShare*total {
		return -1
	}
	d.hitOff = [2]float64{fr, fc}
	// The window must be steady: the energies of its three sub-blocks may
	// differ only a little. Measured on the whole energy rather than on
	// the two tones, because 4.25 ms filters leak too much between tones.
	lo := math.Min(d.aen[k0], math.Min(d.aen[k1], d.aen[k2]))
	hi := math.Max(d.aen[k0], math.Max(d.aen[k1], d.aen[k2]))
	if hi > lo*d.maxSpread {
		return -1
	}
	return r*4 + (c - 4)
}

// pair finds the strongest row r and column c (4-7) of a window of n
// samples whose DFTs are re, im (powers pw; prevRe, prevIm: the window one
// hop earlier) and applies the checks judge and judgeLong share: level,
// twist, relative peak rel within each group, and frequency error from the
// phase advance. It returns the two tones' mean-square powers, corrected
// for the filter's loss at their measured offsets fr, fc (Hz). minPair is
// the smallest sum of the two powers the caller will accept.
func (d *Detector) pair(pw, re, im, prevRe, prevIm *[8]float64, n, rel, minPair float64) (r, c int, pr, pc, fr, fc float64, ok bool) {
	norm := 2 / (n * n)
	r, c = 0, 4
	for i := 1; i < 4; i++ {
		if pw[i] > pw[r] {
			r = i
		}
		if pw[4+i] > pw[c] {
			c = 4 + i
		}
	}
	pr, pc = pw[r]*norm, pw[c]*norm
	if pr < d.minPow || pc < d.minPow {
		return
	}
	// Loose twist first (the offset correction below only raises levels by
	// at most a few dB), then the relative peaks within each group.
	if pc > pr*d.normTwist*2 || pr > pc*d.revTwist*2 {
		return
	}
	for i := 0; i < 4; i++ {
		if (i != r && pw[i]*rel > pw[r]) || (4+i != c && pw[4+i]*rel > pw[c]) {
			return
		}
	}
	// The offset correction below raises a level at most 4 times (the
	// floor of responseN): a pair that cannot reach minPair even so is
	// rejected before the costlier frequency measurement.
	if 4*(pr+pc) < minPair {
		return
	}
	// Frequency: the phase advance of W between windows one block apart is
	// w*B for a tone at w; the excess over the nominal w0*B is the offset.
	fr, okr := d.offset(r, re[r], im[r], prevRe[r], prevIm[r])
	fc, okc := d.offset(c, re[c], im[c], prevRe[c], prevIm[c])
	if !okr || !okc {
		return
	}
	// Correct the levels for the filter's loss at the measured offset.
	pr /= d.responseN(fr, n)
	pc /= d.responseN(fc, n)
	if pc > pr*d.normTwist || pr > pc*d.revTwist {
		return
	}
	return r, c, pr, pc, fr, fc, true
}

// harmonic reports whether a column at fc Hz is within HarmonicTolerance
// of twice a row at fr Hz: a harmonic series, not a key.
func (d *Detector) harmonic(fr, fc float64) bool {
	return math.Abs(fc-2*fr) < d.p.HarmonicTolerance*fc
}

// harmonicRun reports whether the current run of regular hits is a
// harmonic series. The frequencies are measured from the phase advance
// between this window and the one three hops before (adjacent, not
// overlapping, both inside the run when it is 4 or more long): three
// times the baseline of a single hop, and clear of the run's first
// windows, whose phase advance is taken against windows the tone does
// not fill and is biased for a tone off its nominal frequency by a few
// Hz, more than this limit allows. The single hop's offsets resolve the
// longer baseline's 2 pi ambiguity.
func (d *Detector) harmonicRun() bool {
	if d.p.HarmonicTolerance <= 0 {
		return false
	}
	cur, old := d.nsub%4, (d.nsub+1)%4
	var f [2]float64
	for t, i := range [2]int{d.cand / 4, 4 + d.cand%4} {
		nr, ni, or, oi := d.w3re[cur][i], d.w3im[cur][i], d.w3re[old][i], d.w3im[old][i]
		xr, xi := nr*or+ni*oi, ni*or-nr*oi
		zr, zi := xr*d.c3re[i]-xi*d.c3im[i], xr*d.c3im[i]+xi*d.c3re[i]
		span := 2 * math.Pi * float64(3*d.block) / float64(d.rate) // radians per Hz over three hops
		ph := d.hitOff[t] * span
		ph += math.Remainder(math.Atan2(zi, zr)-ph, 2*math.Pi)
		f[t] = d.nominal[i] + ph/span
	}
	return d.harmonic(f[0], f[1])
}

// offset returns the frequency error of tone i in Hz, measured from the
// phase advance between the previous window (pre, pim) and this one, and
// whether it is within tolerance.
func (d *Detector) offset(i int, re, im, pre, pim float64) (float64, bool) {
	// z = W * conj(Wprev) * e^{-jw0B}
	xr := re*pre + im*pim
	xi := im*pre - re*pim
	zr := xr*d.c2re[i] - xi*d.c2im[i]
	zi := xr*d.c2im[i] + xi*d.c2re[i]
	df := math.Atan2(zi, zr) * float64(d.rate) / (2 * math.Pi * float64(d.block))
	return df, math.Abs(df) <= d.p.FreqTolerance*d.nominal[i]
}

// responseN is the power gain of the DFT of n samples for a tone df Hz
// off its bin: (sin(pi df n/fs) / (n sin(pi df/fs)))^2.
func (d *Detector) responseN(df, n float64) float64 {
	x := math.Pi * df / float64(d.rate)
	if math.Abs(x) < 1e-9 {
		return 1
	}
	g := math.Sin(x*n) / (n * math.Sin(x))
	g *= g
	if g < 0.25 {
		g = 0.25
	}
	return g
}

// decide runs the hit/miss state machine for one window; weak is the
// weak path's hit (weak.go) or -1.
func (d *Detector) decide(hit, weak int, out []Detection) []Detection {
	winStart := d.samples - int64(d.win)
	switch {
	case hit < 0:
		d.cand, d.run = -1, 0
	case hit == d.cand:
		d.run++
	default:
		d.cand, d.run, d.runStart = hit, 1, winStart
	}
	d.weakRun(weak)
	if d.active >= 0 && d.wcand == d.active {
		// A weak run of the digit already declared (by either path)
		// belongs to the same press: it must not declare it again when
		// the regular path loses the tone under noise before the end.
		d.confirms = maxConfirms
	}
	if d.active >= 0 {
		if hit == d.active || (d.activeWeak && weak == d.active) {
			d.misses = 0
		} else if d.misses++; d.misses >= d.p.MissesToEnd {
			d.active = -1
		}
	}
	if d.cand >= 0 && d.run >= d.p.HitsToBegin && d.cand != d.active && !d.harmonicRun() {
		d.active, d.misses, d.activeWeak = d.cand, 0, false
		out = append(out, Detection{Key: layout[d.cand], Start: d.runStart * d.scale, At: d.samples * d.scale})
	} else if d.wcand >= 0 && d.wcand != d.active && d.wrun >= d.p.WeakHits && (d.cand != d.wcand || d.run == 0) && d.confirm() {
		// (While the regular path is following the same digit, it
		// decides: it ends digits sharply, the weak path may not.)
		d.active, d.misses, d.activeWeak = d.wcand, 0, true
		d.confirms = maxConfirms // one digit per weak run
		out = append(out, Detection{Key: layout[d.wcand], Start: d.wrunStart * d.scale, At: d.samples * d.scale})
	}
	return out
}

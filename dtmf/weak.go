package dtmf

import "math"

// The weak-tone path. Talk radio, a television or a loud room under a key
// press takes much of the band's energy, so judge's share check fails
// (and its short windows blur the tones into the noise), although the
// two tones still stand far above the spectrum around them. The weak path
// judges windows of six sub-blocks (25.5 ms, twice judge's resolution),
// built for free from the last two three-block windows, with a lower share
// and no spread check; after WeakHits consecutive hits of one digit,
// confirm analyses the last ~32 ms and declares the digit if either of
// two sets of checks passes (Params). The spectral one: both tones stand
// well above the spectrum beside them, carry most of the DTMF band and a
// good part of the whole, have no second harmonic, are within 0.8 % of
// their frequencies and hold their level across the window's four
// quarters. The steady-sinusoid one, for tones under speech or music as
// loud as they are: each tone is one sinusoid of fixed amplitude and
// frequency across the quarters (coherence), within 0.4 % of its
// frequency measured over the whole window, and above the other
// frequencies of its group, with much lower shares asked. Speech partials
// near a DTMF frequency glide, and music seldom holds two notes within
// 0.4 % of a DTMF pair; the analysis runs only for candidates, so it
// costs nothing on most frames.

// weakState is the weak path's part of a Detector.
type weakState struct {
	hist []int16   // ring of the last len(hist) samples (a power of two); nil: weak path off
	hann []float64 // confirmation window
	xbuf []float64 // windowed samples

	c3re, c3im [8]float64    // e^{-j3wB}
	w3re, w3im [4][8]float64 // judge's window DFTs of the last hops, ring by nsub%4
	lre, lim   [8]float64    // the previous long window's DFT

	wcand      int   // digit of the current run of weak hits, -1 none
	wrun       int   // length of that run
	wrunStart  int64 // first sample of the run's first long window
	confirms   int   // confirmations tried for the run
	activeWeak bool  // the active digit was declared by the weak path

	hitOff [2]float64      // measured offsets (Hz) of the last weak hit's tones
	feat   confirmFeatures // the last confirmation's measurements (kept here so tracing does not make them escape)

	weakRel, confSNR, confHarm, confSteady float64
	steadyLevel, steadySNR, steadyRel      float64
	maxSteady, maxOff                      float64 // the loosest level change and frequency error either way accepts
}

// confirmFeatures are the measurements of one confirmation.
type confirmFeatures struct {
	snr    [2]float64 // tone power over the mean power beside it (row, column)
	snrMed [2]float64 // tone power over the median power beside it
	h2     [2]float64 // power at twice the tone's frequency over the tone
	share  float64    // the two tones' share of the 500-2000 Hz band
	steady [2]float64 // max/min tone power over the window's four quarters
	coh    [2]float64 // coherence of the quarters: 1 for a steady sinusoid
	full   float64    // the two tones' share of the whole window's energy
	off    [2]float64 // relative frequency errors
	rel    [2]float64 // tone power over the strongest other frequency of its group
}

// confirmTrace, when set (tests), receives every confirmation.
var confirmTrace func(d *Detector, digit int, f *confirmFeatures, ok bool)

func (d *Detector) initWeak() {
	p := d.p
	d.wcand = -1
	if p.WeakShare <= 0 || p.WeakHits < 1 {
		return
	}
	for i := 0; i < 8; i++ {
		w := 2 * math.Pi * d.nominal[i] / float64(d.rate)
		d.c3re[i], d.c3im[i] = math.Cos(3*w*float64(d.block)), -math.Sin(3*w*float64(d.block))
	}
	d.weakRel = math.Pow(10, p.WeakRelativePeakDB/10)
	d.confSNR = math.Pow(10, p.ConfirmSNRDB/10)
	d.confHarm = math.Pow(10, -p.ConfirmHarmonicDB/10)
	d.confSteady = math.Pow(10, p.ConfirmSteadyDB/10)
	d.steadyLevel = math.Pow(10, p.SteadyLevelDB/10)
	d.steadySNR = math.Pow(10, p.SteadySNRDB/10)
	d.steadyRel = math.Pow(10, p.SteadyRelPeakDB/10)
	d.maxSteady, d.maxOff = d.confSteady, p.WeakFreqTolerance
	if p.SteadyCoherence > 0 {
		d.maxSteady = math.Max(d.maxSteady, d.steadyLevel)
		d.maxOff = math.Max(d.maxOff, p.SteadyFreqTolerance)
	}
	n := int(math.Round(confirmSeconds * float64(d.rate)))
	h := 1
	for h < n {
		h *= 2
	}
	d.hist = make([]int16, h)
	d.hann = make([]float64, n)
	d.xbuf = make([]float64, n)
	for i := range d.hann {
		d.hann[i] = 0.5 - 0.5*math.Cos(2*math.Pi*(float64(i)+0.5)/float64(n))
	}

}

func (d *Detector) resetWeak() {
	d.wcand, d.wrun, d.confirms, d.activeWeak = -1, 0, 0, false
	clear(d.hist)
}

// record keeps x in the history ring; d.samples does not count x yet.
func (d *Detector) record(x []int16) {
	mask := len(d.hist) - 1
	p := int(d.samples) & mask
	for len(x) > 0 {
		n := copy(d.hist[p:], x)
		x = x[n:]
		p = (p + n) & mask
	}
}

// judgeLong evaluates the long window (six sub-blocks) ending with
// sub-block k and returns the digit it holds by the weak checks, or -1.
// judge must have run for this sub-block.
func (d *Detector) judgeLong(k int) int {
	if d.nsub < 6 {
		return -1
	}
	old, cur := (d.nsub+1)%4, d.nsub%4 // judge's windows ending 3 hops ago and now (nsub counts the block already)
	var pw [8]float64
	var lre, lim [8]float64
	for i := 0; i < 8; i++ {
		// W6 = W3(old half) + e^{-j3wB} W3(new half), both referenced to their starts.
		nr, ni := d.w3re[cur][i], d.w3im[cur][i]
		re := d.w3re[old][i] + d.c3re[i]*nr - d.c3im[i]*ni
		im := d.w3im[old][i] + d.c3re[i]*ni + d.c3im[i]*nr
		lre[i], lim[i] = re, im
		pw[i] = re*re + im*im
	}
	prevRe, prevIm := d.lre, d.lim
	d.lre, d.lim = lre, lim
	if d.nsub < 7 {
		return -1
	}
	n := 2 * d.win
	var total float64
	for _, e := range d.aen {
		total += e
	}
	minPair := d.p.WeakShare * total / n
	r, c, pr, pc, fr, fc, ok := d.pair(&pw, &lre, &lim, &prevRe, &prevIm, n, d.weakRel, minPair)
	if !ok || pr+pc < minPair {
		return -1
	}
	d.hitOff = [2]float64{fr, fc}
	return r*4 + (c - 4)
}

// weakRun follows the runs of weak hits.
func (d *Detector) weakRun(hit int) {
	switch {
	case hit < 0:
		d.wcand, d.wrun = -1, 0
		return
	case hit == d.wcand:
		d.wrun++
	default:
		d.wcand, d.wrun, d.confirms = hit, 1, 0
		d.wrunStart = d.samples - int64(2*d.win)
	}

}

// confirmSeconds is the length of the confirmation window.
const confirmSeconds = 0.032

// maxConfirms bounds the confirmations tried for one run, so a long run
// (a held note) costs a few analyses, not one per window.
const maxConfirms = 6

// dft returns |X(f)|^2 of x at f Hz.
func (d *Detector) dft(x []float64, f float64) float64 {
	w := 2 * math.Pi * f / float64(d.rate)
	k := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = k*s1-s2+v, s1
	}
	return s1*s1 + s2*s2 - k*s1*s2
}

// dftc returns X(f) of x at f Hz, referenced to x[0].
func (d *Detector) dftc(x []float64, f float64) (re, im float64) {
	w := 2 * math.Pi * f / float64(d.rate)
	cw, sw := math.Cos(w), math.Sin(w)
	k := 2 * cw
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = k*s1-s2+v, s1
	}
	// y = s1 - e^{-jw}s2 = e^{jw(N-1)}X
	yr, yi := s1-cw*s2, sw*s2
	a := -w * float64(len(x)-1)
	ca, sa := math.Cos(a), math.Sin(a)
	return yr*ca - yi*sa, yr*sa + yi*ca
}

// floor returns the mean and the median power of x at 3 to 8 bins either
// side of f, skipping points near the other tone.
func (d *Detector) floor(x []float64, f, other, step float64) (mean, median float64) {
	var pts [12]float64
	cnt := 0
	for k := 3; k <= 8; k++ {
		for _, s := range [2]float64{-1, 1} {
			fr := f + s*float64(k)*step
			if math.Abs(fr-other) < 3*step || fr < 100 || fr > float64(d.rate)/2-100 {
				continue
			}
			v := d.dft(x, fr)
			mean += v
			// insertion sort
			j := cnt
			for j > 0 && pts[j-1] > v {
				pts[j] = pts[j-1]
				j--
			}
			pts[j] = v
			cnt++
		}
	}
	if cnt == 0 {
		return 0, 0
	}
	mean /= float64(cnt)
	if cnt%2 == 1 {
		median = pts[cnt/2]
	} else {
		median = (pts[cnt/2-1] + pts[cnt/2]) / 2
	}
	return mean, median
}

// confirm analyses the last ~32 ms for the weak candidate and reports
// whether they hold its two tones clearly enough to declare it.
func (d *Detector) confirm() bool {
	n := len(d.xbuf)
	if d.confirms >= maxConfirms || d.samples-d.wrunStart < int64(n) {
		return false
	}
	d.confirms++
	mask := len(d.hist) - 1
	p := int(d.samples-int64(n)) & mask
	for i := range n {
		d.xbuf[i] = float64(d.hist[(p+i)&mask])
	}
	f := &d.feat
	ok := d.measure(d.xbuf, d.wcand, d.hitOff, f) && d.passes(f)
	if confirmTrace != nil {
		confirmTrace(d, d.wcand, f, ok)
	}
	return ok
}

// measure fills f with the measurements of x (the confirmation window's
// samples, overwritten) for digit, whose tones the weak hit found off by
// hitOff Hz. It returns false, with f incomplete, as soon as neither way
// of confirming can pass.
func (d *Detector) measure(x []float64, digit int, hitOff [2]float64, f *confirmFeatures) bool {
	n := len(x)
	r, c := digit/4, 4+digit%4
	*f = confirmFeatures{}
	var ft [2]float64
	rate := float64(d.rate)
	// Each quarter of the window (8 ms, rectangular): a tone shorter than
	// the window leaves one quarter nearly empty (steadiness), and a steady
	// sinusoid advances its phase by the same angle from quarter to
	// quarter, which measures its frequency over the whole window and,
	// as coherence, how well one sinusoid explains the four quarters.
	q := n / 4
	for t, i := range [2]int{r, c} {
		f0 := d.nominal[i] + hitOff[t]
		var qr, qi [4]float64
		lo, hi := math.Inf(1), 0.0
		var zr, zi, se float64
		for j := 0; j < 4; j++ {
			qr[j], qi[j] = d.dftc(x[j*q:(j+1)*q], f0)
			m := qr[j]*qr[j] + qi[j]*qi[j]
			lo, hi = math.Min(lo, m), math.Max(hi, m)
			se += m
			if j > 0 {
				zr += qr[j]*qr[j-1] + qi[j]*qi[j-1]
				zi += qi[j]*qr[j-1] - qr[j]*qi[j-1]
			}
		}
		adv := math.Atan2(zi, zr)
		resid := math.Remainder(adv-2*math.Pi*f0*float64(q)/rate, 2*math.Pi)
		ft[t] = f0 + resid*rate/(2*math.Pi*float64(q))
		var sr, si float64
		for j := 0; j < 4; j++ {
			cr, ci := math.Cos(adv*float64(j)), -math.Sin(adv*float64(j))
			sr += qr[j]*cr - qi[j]*ci
			si += qr[j]*ci + qi[j]*cr
		}
		f.coh[t] = (sr*sr + si*si) / (4*se + 1e-9)
		f.steady[t] = hi / (lo + 1e-9)
		f.off[t] = (ft[t] - d.nominal[i]) / d.nominal[i]
		if f.steady[t] > d.maxSteady || math.Abs(f.off[t]) > d.maxOff {
			return false // neither way of confirming can pass: spare the rest
		}
	}
	var e float64
	for i := range n {
		x[i] *= d.hann[i]
		e += x[i] * x[i]
	}
	step := rate / float64(n)
	nyq := rate / 2
	// A tone's energy is the sum over five points a bin apart around it
	// (the Hann main lobe); the band's is the sum over a grid a bin apart
	// (Parseval holds for a grid at any offset).
	var tone [2]float64
	for t := 0; t < 2; t++ {
		for k := -2; k <= 2; k++ {
			tone[t] += d.dft(x, ft[t]+float64(k)*step)
		}
	}
	band := 0.0
	for fr := 500.0; fr < 2000; fr += step {
		band += d.dft(x, fr)
	}
	f.share = (tone[0] + tone[1]) / (band + 1e-9)
	f.full = (tone[0] + tone[1]) / (float64(n)*e + 1e-9)
	for t := 0; t < 2; t++ {
		other := ft[1-t]
		// The five-point tone energy is 1.5 times a centred bin's power;
		// the floor is per point.
		mean, med := d.floor(x, ft[t], other, step)
		f.snr[t] = tone[t] / (1.5*mean + 1e-9)
		f.snrMed[t] = tone[t] / (1.5*med + 1e-9)
		h2 := 0.0
		if 2*ft[t] < nyq-2*step && math.Abs(2*ft[t]-other) > 3*step {
			for k := -2; k <= 2; k++ {
				h2 += d.dft(x, 2*ft[t]+float64(k)*step)
			}
		}
		f.h2[t] = h2 / (tone[t] + 1e-9)
		g, own := 0, r
		if t == 1 {
			g, own = 4, c
		}
		var rival float64
		for i := g; i < g+4; i++ {
			if i != own {
				rival = math.Max(rival, d.dft(x, d.nominal[i]))
			}
		}
		f.rel[t] = d.dft(x, ft[t]) / (rival + 1e-9)
	}
	return true
}

// passes applies the confirmation thresholds to the measurements: either
// way of confirming (see Params) suffices.
func (d *Detector) passes(f *confirmFeatures) bool {
	p := &d.p
	ok := f.share >= p.ConfirmBandShare && f.full >= p.ConfirmShare
	steady := p.SteadyCoherence > 0 && f.share >= p.SteadyBandShare && f.full >= p.SteadyShare
	for t := 0; t < 2; t++ {
		ok = ok && math.Abs(f.off[t]) <= p.WeakFreqTolerance &&
			f.snr[t] >= d.confSNR && f.h2[t] <= d.confHarm && f.steady[t] <= d.confSteady
		steady = steady && math.Abs(f.off[t]) <= p.SteadyFreqTolerance && f.coh[t] >= p.SteadyCoherence &&
			f.steady[t] <= d.steadyLevel && f.snr[t] >= d.steadySNR && f.rel[t] >= d.steadyRel
	}
	return ok || steady
}

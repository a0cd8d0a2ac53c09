package dtmf

import (
	"math"
	"sync"
)

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
// costs nothing on most frames. A tone that fails the sinusoid measures
// only because a background component 3.5 % to 125 Hz away beats with it
// inside the 8 ms quarters is measured again with that component fitted
// out (neighbour, sinusoid2).

// weakState is the weak path's part of a Detector.
type weakState struct {
	hist   []int16           // ring of the last len(hist) samples (a power of two); nil: weak path off
	hann   []float64         // confirmation window
	xbuf   []float64         // windowed samples
	ur, ui []float64         // its 1 ms block sums shifted down by a tone's frequency (neighbour)
	grid   *[8]neighbourGrid // shared by all detectors of the same rate

	c3re, c3im [8]float64    // e^{-j3wB}
	w3re, w3im [4][8]float64 // judge's window DFTs of the last hops, ring by nsub%4 (also for harmonicRun)
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

	cleaned [2]bool // steady, coh and off were measured with a neighbouring component fitted out
}

// confirmTrace, when set (tests), receives every confirmation.
var confirmTrace func(d *Detector, digit int, f *confirmFeatures, ok bool)

func (d *Detector) initWeak() {
	p := d.p
	d.wcand = -1
	if p.WeakShare <= 0 || p.WeakHits < 1 {
		return
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
	d.initNeighbours(n)
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
	for t, i := range [2]int{r, c} {
		f0 := d.nominal[i] + hitOff[t]
		f.steady[t], f.coh[t], ft[t] = d.sinusoid(x, f0)
		f.off[t] = (ft[t] - d.nominal[i]) / d.nominal[i]
		if d.p.SteadyClean && !d.sinusoidPasses(f, t) {
			// A background component close to the tone (but at least
			// 3.5 % off, so by Q.24 not part of it) may beat with it
			// inside the quarters: measure again with it fitted out.
			st, coh, fc := d.sinusoid2(x, f0, d.neighbour(x, i))
			off := (fc - d.nominal[i]) / d.nominal[i]
			if coh >= d.p.SteadyCoherence && st <= d.steadyLevel && math.Abs(off) <= d.p.SteadyFreqTolerance {
				f.steady[t], f.coh[t], ft[t], f.off[t], f.cleaned[t] = st, coh, fc, off, true
			}
		}
		if f.steady[t] > d.maxSteady || math.Abs(f.off[t]) > d.maxOff {
			return false // neither way of confirming can pass: spare the rest
		}
	}
	if d.harmonic(ft[0], ft[1]) {
		return false // a note and its second harmonic (Params.HarmonicTolerance)
	}
	var e float64
	for i := range n {
		x[i] *= d.hann[i]
		e += x[i] * x[i]
	}
	// The band's energy is the sum over a grid a bin apart (Parseval
	// holds for a grid at any offset).
	step := rate / float64(n)
	band := 0.0
	for fr := 500.0; fr < 2000; fr += step {
		band += d.dft(x, fr)
	}
	d.levels(x, float64(n)*e, band, digit, ft, f)
	return true
}

// levels fills the level measurements of f from the windowed samples x
// (whose energy times len(x) is ne, and band the energy of 500-2000 Hz)
// for digit's tones at ft Hz.
func (d *Detector) levels(x []float64, ne, band float64, digit int, ft [2]float64, f *confirmFeatures) {
	n := len(x)
	r, c := digit/4, 4+digit%4
	rate := float64(d.rate)
	step := rate / float64(n)
	nyq := rate / 2
	// A tone's energy is the sum over five points a bin apart around it
	// (the Hann main lobe).
	var tone [2]float64
	for t := 0; t < 2; t++ {
		for k := -2; k <= 2; k++ {
			tone[t] += d.dft(x, ft[t]+float64(k)*step)
		}
	}
	f.share = (tone[0] + tone[1]) / (band + 1e-9)
	f.full = (tone[0] + tone[1]) / (ne + 1e-9)
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
}

// sinusoid measures how well one steady sinusoid near f0 explains x, from
// the DFTs at f0 of its four quarters (8 ms, rectangular): a tone shorter
// than the window leaves one quarter nearly empty (steady: the largest
// quarter power over the smallest), and a steady sinusoid advances its
// phase by the same angle from quarter to quarter, which measures its
// frequency over the whole window (ft, Hz) and, as coherence, how much of
// the quarters' energy one sinusoid of fixed amplitude explains.
func (d *Detector) sinusoid(x []float64, f0 float64) (steady, coh, ft float64) {
	q := len(x) / 4
	var qr, qi [4]float64
	for j := 0; j < 4; j++ {
		qr[j], qi[j] = d.dftc(x[j*q:(j+1)*q], f0)
	}
	return d.quarterStats(qr, qi, f0, q)
}

// quarterStats turns the quarters' DFTs at f0 (q samples each) into
// steady, coherence and the frequency measured over the window.
func (d *Detector) quarterStats(qr, qi [4]float64, f0 float64, q int) (steady, coh, ft float64) {
	rate := float64(d.rate)
	lo, hi := math.Inf(1), 0.0
	var zr, zi, se float64
	for j := 0; j < 4; j++ {
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
	ft = f0 + resid*rate/(2*math.Pi*float64(q))
	var sr, si float64
	for j := 0; j < 4; j++ {
		cr, ci := math.Cos(adv*float64(j)), -math.Sin(adv*float64(j))
		sr += qr[j]*cr - qi[j]*ci
		si += qr[j]*ci + qi[j]*cr
	}
	return hi / (lo + 1e-9), (sr*sr + si*si) / (4*se + 1e-9), ft
}

// sinusoidPasses reports whether tone t's sinusoid measurements pass the
// steady-sinusoid way's limits.
func (d *Detector) sinusoidPasses(f *confirmFeatures, t int) bool {
	return f.coh[t] >= d.p.SteadyCoherence && f.steady[t] <= d.steadyLevel && math.Abs(f.off[t]) <= d.p.SteadyFreqTolerance
}

// Neighbours. A component of the background (a held note, a speech
// harmonic) 3.5 % or more from a DTMF frequency is not part of the tone
// by Q.24, but within one quarter's resolution (1/8 ms = 125 Hz) it beats
// with the tone inside the quarters and makes a perfectly steady tone
// look unsteady and off frequency (on the talk-radio recording, a voice
// holding ~895 Hz, 5 % from both 852 and 941 Hz). When a tone fails the
// steady-sinusoid measures, neighbour finds the strongest such component
// and sinusoid2 measures the tone again with it fitted out.
const (
	neighbourMinRel = 0.035 // Q.24: 3.5 % off must be rejected, so it is not the tone
	neighbourMaxHz  = 125   // 1 / (the 8 ms quarter)
	neighbourStepHz = 4     // search grid, refined to 1 Hz around the best
)

// neighbour returns the frequency, 3.5 % to 125 Hz from the DTMF
// frequency of tone i (0-7), of the sinusoid that together with one at
// that frequency best explains x (0 if none). The coarse search (4 Hz
// grid) uses the complex fit, with the terms at negative frequencies (a
// few samples' worth against len(x)/2) left out: with X0 and Xi the DFTs
// at f0 and fi and r the normalised overlap of the two sinusoids over the
// window, the energy explained is proportional to (|X0|^2 + |Xi|^2 -
// 2 Re(r X0* Xi)) / (1 - |r|^2); the DFTs come from x shifted down by f0
// and summed over 1 ms blocks. The exact (real) fit then refines the
// best to 1 Hz, as the approximation can be a few hertz off.
func (d *Detector) neighbour(x []float64, i int) float64 {
	if d.grid == nil {
		return 0
	}
	g := &d.grid[i]
	if len(g.df) == 0 {
		return 0
	}
	rate := float64(d.rate)
	f0 := d.nominal[i]
	n := len(x)
	// Shift down by f0 and sum blocks of D samples (1 ms).
	w0 := 2 * math.Pi * f0 / rate
	cs, sn := math.Cos(w0), math.Sin(w0)
	cr, ci := 1.0, 0.0 // e^{-j w0 k} = cr + j ci
	nb := len(d.ur)
	dd := n / nb
	var x0r, x0i float64
	for m := range nb {
		var sr, si float64
		for k := m * dd; k < (m+1)*dd; k++ {
			sr += x[k] * cr
			si += x[k] * ci
			cr, ci = cr*cs+ci*sn, ci*cs-cr*sn
		}
		d.ur[m], d.ui[m] = sr, si
		x0r, x0i = x0r+sr, x0i+si
	}
	best, bestK := math.Inf(-1), -1
	for k := range g.df {
		// X(f0+df) ~ sum_m u[m] e^{-j dw (m D + (D-1)/2)}
		rr, ri := g.init[k][0], g.init[k][1]
		st, sti := g.step[k][0], g.step[k][1]
		var xr, xi float64
		for m := range nb {
			xr += d.ur[m]*rr - d.ui[m]*ri
			xi += d.ur[m]*ri + d.ui[m]*rr
			rr, ri = rr*st-ri*sti, rr*sti+ri*st
		}
		sr, si := g.r[k][0], g.r[k][1]
		pr := x0r*xr + x0i*xi // conj(X0)*Xi
		pi := x0r*xi - x0i*xr
		if e := (xr*xr + xi*xi - 2*(sr*pr-si*pi)) / g.den[k]; e > best {
			best, bestK = e, k
		}
	}
	if bestK < 0 {
		return 0
	}
	c, bestF, bestExact := f0+g.df[bestK], 0.0, math.Inf(-1)
	lo := f0 * neighbourMinRel
	for df := -3.0; df <= 3; df++ {
		fi := c + df
		if math.Abs(fi-f0) < lo || fi <= 50 || fi >= rate/2-50 {
			continue
		}
		xr, xi := d.dftc(x, fi)
		if _, e, ok := fit2(n, w0, 2*math.Pi*fi/rate, [4]float64{x0r, -x0i, xr, -xi}); ok && e > bestExact {
			bestExact, bestF = e, fi
		}
	}
	return bestF
}

// neighbourGrid is the coarse search grid of one DTMF frequency: offsets
// (Hz), and per offset the normalised overlap r with the tone over the
// window, 1-|r|^2, and the rotations that turn the 1 ms block sums into
// the DFT at the offset.
type neighbourGrid struct {
	df            []float64
	r, init, step [][2]float64
	den           []float64
}

// neighbourGrids holds the search grids by rate and window length: they
// are the same for every detector of a rate (about 20 kB), so calls share
// them.
var neighbourGrids struct {
	sync.Mutex
	m map[[2]int]*[8]neighbourGrid
}

// initNeighbours sets up the neighbour search for windows of n samples.
func (d *Detector) initNeighbours(n int) {
	nb := 32 // 1 ms blocks of the 32 ms window
	d.ur, d.ui = make([]float64, nb), make([]float64, nb)
	key := [2]int{d.rate, n}
	neighbourGrids.Lock()
	defer neighbourGrids.Unlock()
	if g := neighbourGrids.m[key]; g != nil {
		d.grid = g
		return
	}
	if neighbourGrids.m == nil {
		neighbourGrids.m = make(map[[2]int]*[8]neighbourGrid)
	}
	d.grid = buildNeighbourGrids(float64(d.rate), n, nb, &d.nominal)
	neighbourGrids.m[key] = d.grid
}

// buildNeighbourGrids builds the search grids of the eight DTMF
// frequencies for windows of n samples at rate Hz summed in nb blocks.
func buildNeighbourGrids(rate float64, n, nb int, nominal *[8]float64) *[8]neighbourGrid {
	grids := new([8]neighbourGrid)
	dd := n / nb
	for i := range grids {
		f0 := nominal[i]
		g := &grids[i]
		for df := f0 * neighbourMinRel; df <= neighbourMaxHz; df += neighbourStepHz {
			for _, o := range [2]float64{-df, df} {
				if fi := f0 + o; fi <= 50 || fi >= rate/2-50 {
					continue
				}
				dw := 2 * math.Pi * o / rate
				im, re := sumExp(n, dw)
				re, im = re/float64(n), im/float64(n)
				den := 1 - (re*re + im*im)
				if den < 1e-6 {
					continue
				}
				a := -dw * float64(dd-1) / 2
				b := -dw * float64(dd)
				g.df = append(g.df, o)
				g.r = append(g.r, [2]float64{re, im})
				g.den = append(g.den, den)
				g.init = append(g.init, [2]float64{math.Cos(a), math.Sin(a)})
				g.step = append(g.step, [2]float64{math.Cos(b), math.Sin(b)})
			}
		}
	}
	return grids
}

// sinusoid2 is sinusoid for a tone at f0 beside a steady neighbour at
// fn: one least-squares fit of the window by a sinusoid at f0 with its
// own amplitude and phase in each quarter plus one at fn with a single
// amplitude and phase over the whole window (ten unknowns), so that the
// neighbour, resolved over 32 ms, stays out of the tone's quarters while
// nothing forces the tone itself to look steady.
func (d *Detector) sinusoid2(x []float64, f0, fn float64) (steady, coh, ft float64) {
	if fn == 0 {
		return d.sinusoid(x, f0)
	}
	rate := float64(d.rate)
	n := len(x)
	q := n / 4
	w0, w1 := 2*math.Pi*f0/rate, 2*math.Pi*fn/rate
	// Unknowns: a_j, b_j (tone in quarter j: a cos(w0 m) + b sin(w0 m),
	// m counted from the quarter's start), then c, e (neighbour: c
	// cos(w1 n) + e sin(w1 n) over the window).
	var g [10][11]float64
	tcc, tcs, tss := gram(q, w0, w0)
	xcc, xcs, xsc, xss := gram4(q, w0, w1)
	ncc, ncs, nss := gram(n, w1, w1)
	for j := 0; j < 4; j++ {
		a, b := 2*j, 2*j+1
		g[a][a], g[a][b], g[b][a], g[b][b] = tcc, tcs, tcs, tss
		ph := w1 * float64(j*q)
		cp, sp := math.Cos(ph), math.Sin(ph)
		// cos(w1(jq+m)) = cos(w1 m)cp - sin(w1 m)sp; sin(w1(jq+m)) = sin(w1 m)cp + cos(w1 m)sp
		g[a][8] = cp*xcc - sp*xcs
		g[b][8] = cp*xsc - sp*xss
		g[a][9] = cp*xcs + sp*xcc
		g[b][9] = cp*xss + sp*xsc
		g[8][a], g[8][b], g[9][a], g[9][b] = g[a][8], g[b][8], g[a][9], g[b][9]
		re, im := d.dftc(x[j*q:(j+1)*q], f0)
		g[a][10], g[b][10] = re, -im
	}
	g[8][8], g[8][9], g[9][8], g[9][9] = ncc, ncs, ncs, nss
	re, im := d.dftc(x, fn)
	g[8][10], g[9][10] = re, -im
	var coef [10]float64
	if !solve(&g, &coef) {
		return d.sinusoid(x, f0)
	}
	var qr, qi [4]float64
	for j := 0; j < 4; j++ {
		// a cos + b sin = Re((a - jb) e^{jwm}); scaled as a DFT of q samples.
		qr[j], qi[j] = coef[2*j]*float64(q)/2, -coef[2*j+1]*float64(q)/2
	}
	return d.quarterStats(qr, qi, f0, q)
}

// gram returns the sums over m = 0..n-1 of cos(a m)cos(b m), cos(a m)sin(b m)
// and sin(a m)sin(b m).
func gram(n int, a, b float64) (cc, cs, ss float64) {
	cc, cs, _, ss = gram4(n, a, b)
	return
}

// gram4 is gram with sin(a m)cos(b m) as well.
func gram4(n int, a, b float64) (cc, cs, sc, ss float64) {
	di, dr := sumExp(n, a-b)
	pi, pr := sumExp(n, a+b)
	return 0.5 * (dr + pr), 0.5 * (pi - di), 0.5 * (pi + di), 0.5 * (dr - pr)
}

// solve solves the 10 unknowns of the augmented system g by Gaussian
// elimination with partial pivoting; false if it is singular.
func solve(g *[10][11]float64, x *[10]float64) bool {
	const m = 10
	for i := 0; i < m; i++ {
		p := i
		for r := i + 1; r < m; r++ {
			if math.Abs(g[r][i]) > math.Abs(g[p][i]) {
				p = r
			}
		}
		if math.Abs(g[p][i]) < 1e-9 {
			return false
		}
		g[i], g[p] = g[p], g[i]
		for r := i + 1; r < m; r++ {
			k := g[r][i] / g[i][i]
			for c := i; c <= m; c++ {
				g[r][c] -= k * g[i][c]
			}
		}
	}
	for i := m - 1; i >= 0; i-- {
		v := g[i][m]
		for c := i + 1; c < m; c++ {
			v -= g[i][c] * x[c]
		}
		x[i] = v / g[i][i]
	}
	return true
}

// fit2 solves the least-squares fit of n samples by a*cos(w0 n) +
// b*sin(w0 n) + c*cos(w1 n) + e*sin(w1 n), given the inner products p of
// the samples with those four functions; it returns the coefficients and
// the energy the fit explains.
func fit2(n int, w0, w1 float64, p [4]float64) (coef [4]float64, explained float64, ok bool) {
	// Gram matrix from closed-form sums of cos and sin over n samples.
	w := [2]float64{w0, w1}
	var g [4][5]float64
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			cc, cs, sc, ss := gram4(n, w[i], w[j])
			g[2*i][2*j], g[2*i][2*j+1] = cc, cs
			g[2*i+1][2*j], g[2*i+1][2*j+1] = sc, ss
		}
	}
	for i := 0; i < 4; i++ {
		g[i][4] = p[i]
	}
	// Gaussian elimination (the matrix is symmetric positive definite
	// when the frequencies differ).
	for i := 0; i < 4; i++ {
		if g[i][i] <= 1e-9*float64(n) {
			return coef, 0, false
		}
		for r := i + 1; r < 4; r++ {
			k := g[r][i] / g[i][i]
			for c := i; c < 5; c++ {
				g[r][c] -= k * g[i][c]
			}
		}
	}
	for i := 3; i >= 0; i-- {
		v := g[i][4]
		for c := i + 1; c < 4; c++ {
			v -= g[i][c] * coef[c]
		}
		coef[i] = v / g[i][i]
	}
	for i := 0; i < 4; i++ {
		explained += coef[i] * p[i]
	}
	return coef, explained, true
}

// sumExp returns the imaginary and real parts of the sum of e^{jan}, n =
// 0..N-1: e^{ja(N-1)/2} sin(Na/2)/sin(a/2).
func sumExp(n int, a float64) (im, re float64) {
	h := math.Sin(a / 2)
	var m float64
	if math.Abs(h) < 1e-12 {
		m = float64(n) * math.Cos(a*float64(n)/2) / math.Cos(a/2) // limit at a = 2k pi
	} else {
		m = math.Sin(float64(n)*a/2) / h
	}
	ph := a * float64(n-1) / 2
	return m * math.Sin(ph), m * math.Cos(ph)
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

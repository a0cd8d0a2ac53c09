package vad

import (
	"math"

	"github.com/openivr/ivr/internal/fft"
)

// Analysis parameters. All analysis runs on 8 kHz audio (16 kHz input is
// decimated first), so one model serves both rates and the features mean
// the same thing on a narrowband G.711 call and a wideband G.722 one.
const (
	analysisRate = 8000
	hopLen       = 160 // samples at 8 kHz per 20 ms frame
	winLen       = 256 // 32 ms analysis window at 8 kHz
	fftLen       = 512 // zero-padded so the autocorrelation is not circular
	numBins      = fftLen/2 + 1

	numBands   = 9
	subWindows = 10 // minimum-statistics noise floor: subWindows x subLen frames
	subLen     = 10 // frames per sub-window (200 ms), so the floor spans 2 s

	shortCtx = 10 // frames (200 ms) for short context means
	longCtx  = 50 // frames (1 s) for modulation and voicing statistics

	minLag = 20  // 2.5 ms at 8 kHz: 400 Hz, the highest pitch considered
	maxLag = 128 // 16 ms at 8 kHz: 62.5 Hz, the lowest pitch considered

	// numRaw is the number of per-hop features; the model's input vector
	// (numFeatures) holds them followed by three exponential moving
	// averages of each, over about 200 ms, 1 s and 3 s: its memory of the
	// recent past.
	numRaw      = 45
	numFeatures = 4 * numRaw
	emaShort    = 0.9   // per hop: time constant 10 hops (200 ms)
	emaLong     = 0.98  // per hop: time constant 50 hops (1 s)
	emaVeryLong = 0.993 // per hop: time constant about 140 hops (3 s)

	veryLongCtx = 150 // frames (3 s) for continuity statistics

	modLen = 32 // frames (640 ms) for the syllabic modulation spectrum

	// Spectral fine structure (the log spectrum less its 140 Hz moving
	// average: harmonics and partials) over 250-3400 Hz, kept for the last
	// fineHist hops to see how long partials stay put.
	fineLo   = 16  // bin of 250 Hz
	fineHi   = 218 // bin of 3400 Hz
	fineBins = fineHi - fineLo
	fineHist = 16
	fineHalf = 4 // moving-average half width in bins

	onsetLen  = 100 // hops (2 s) of onset envelope for the beat feature
	beatMin   = 15  // lags of 300 ms to 1 s: 60-200 beats per minute
	beatMax   = 50
	maxPeakRn = 50 // cap on a partial's run length, hops
)

// bandEdges are the band boundaries in Hz, spaced roughly like the mel
// scale over the telephone band and up to 4 kHz.
var bandEdges = [numBands + 1]float64{60, 300, 600, 900, 1250, 1650, 2100, 2650, 3300, 4000}

// featureNames documents the per-hop features, in order; the moving
// averages follow under the same names with suffixes _ema200ms, _ema1s and
// _ema3s.
var featureNames = [numRaw]string{
	"snr_b0", "snr_b1", "snr_b2", "snr_b3", "snr_b4", "snr_b5", "snr_b6", "snr_b7", "snr_b8",
	"level_db", "snr_total", "flatness_db", "harmonicity", "pitch_jump", "flux", "centroid",
	"snr_mean_200ms", "level_std_1s", "harm_mean_200ms", "flux_mean_200ms", "flat_mean_200ms",
	"voiced_frac_1s", "flux_mean_1s", "snr_max_1s", "speechband_ratio", "level_delta",
	"snr_prev", "harm_prev", "pitch_stable_200ms", "band_mod_1s", "mod_4hz", "centroid_std_1s",
	"dip_300ms", "pause_frac_1s", "harm_std_1s", "mod_4hz_low", "pause_frac_3s", "voiced_frac_3s",
	"fine_corr_40ms", "fine_corr_100ms", "fine_corr_300ms", "partial_run", "partial_long_frac",
	"beat_strength", "flux_std_1s",
}

// extractor turns 20 ms hops of 8 kHz audio into feature vectors. It keeps
// all state and scratch space, so extract allocates nothing.
type extractor struct {
	ft       *fft.Real
	window   [winLen]float64
	winAC    [maxLag + 1]float64 // autocorrelation of the window, normalised
	bandLo   [numBands]int       // first bin of each band
	bandHi   [numBands]int       // one past the last bin
	ring     [winLen]float64     // the last winLen input samples, oldest first
	buf      [fftLen]float64     // transform input
	re, im   [numBins]float64    // transform output
	power    [numBins]float64
	frames   int // frames analysed so far
	bandDB   [numBands]float64
	bandLin  [numBands]float64
	smoothDB [numBands + 1]float64 // smoothed band levels (last: total) for the floor

	subMin [numBands + 1][subWindows]float64 // minima of finished sub-windows
	curMin [numBands + 1]float64             // minimum of the sub-window in progress
	subPos int                               // frames into the current sub-window
	subIdx int                               // sub-window being replaced next

	prevBandDB [numBands]float64
	prevLag    float64
	prevLevel  float64
	prevSNR    float64
	prevHarm   float64

	// Context rings, indexed by frames modulo their length.
	snrHist   [longCtx]float64
	levelHist [longCtx]float64
	harmHist  [longCtx]float64
	fluxHist  [longCtx]float64
	flatHist  [longCtx]float64
	lagHist   [longCtx]float64 // pitch lag, 0 when unvoiced
	centHist  [longCtx]float64
	lowHist   [longCtx]float64 // level of 60-900 Hz, dB
	level3s   [veryLongCtx]float64
	harm3s    [veryLongCtx]float64
	bandHist  [longCtx][numBands]float64

	modCos, modSin [3][modLen]float64 // DFT rows for 3.1, 4.7 and 6.25 Hz

	logPow   [numBins]float64
	fine     [fineHist][fineBins]float64 // fine structure ring, by frames % fineHist
	fineNorm [fineHist]float64           // its norm per hop (after removing the mean)
	peakRun  [fineBins]float64           // hops each bin has held a partial (0: none)
	runTmp   [fineBins]float64
	onsets   [onsetLen]float64 // onset envelope ring (positive band flux)
	beatVal  float64
	raw      [numRaw]float64
	ema1     [numRaw]float64
	ema2     [numRaw]float64
	ema3     [numRaw]float64
}

func newExtractor() *extractor {
	e := &extractor{ft: fft.NewReal(fftLen)}
	var sum float64
	for i := range e.window {
		e.window[i] = 0.5 - 0.5*math.Cos(2*math.Pi*(float64(i)+0.5)/winLen)
		sum += e.window[i]
	}
	// Normalise so a full-scale sine (amplitude 1) has power 0.25 in its bin,
	// at any window length: levels read as dB relative to full scale.
	for i := range e.window {
		e.window[i] /= sum
	}
	for lag := 0; lag <= maxLag; lag++ {
		var ac float64
		for i := 0; i+lag < winLen; i++ {
			ac += e.window[i] * e.window[i+lag]
		}
		e.winAC[lag] = ac
	}
	for lag := maxLag; lag >= 0; lag-- {
		e.winAC[lag] /= e.winAC[0]
	}
	binHz := float64(analysisRate) / fftLen
	for b := 0; b < numBands; b++ {
		e.bandLo[b] = int(math.Round(bandEdges[b] / binHz))
		e.bandHi[b] = int(math.Round(bandEdges[b+1] / binHz))
	}
	for k := range e.modCos {
		for n := 0; n < modLen; n++ {
			a := 2 * math.Pi * float64((k+2)*n) / modLen
			e.modCos[k][n], e.modSin[k][n] = math.Cos(a), math.Sin(a)
		}
	}
	e.reset()
	return e
}

// reset forgets all history, as at the start of a call.
func (e *extractor) reset() {
	e.ring = [winLen]float64{}
	e.frames = 0
	e.subPos, e.subIdx = 0, 0
	for i := range e.subMin {
		for j := range e.subMin[i] {
			e.subMin[i][j] = math.Inf(1)
		}
		e.curMin[i] = math.Inf(1)
	}
	e.snrHist, e.levelHist, e.harmHist = [longCtx]float64{}, [longCtx]float64{}, [longCtx]float64{}
	e.fluxHist, e.flatHist = [longCtx]float64{}, [longCtx]float64{}
	e.lagHist, e.centHist, e.lowHist = [longCtx]float64{}, [longCtx]float64{}, [longCtx]float64{}
	e.bandHist = [longCtx][numBands]float64{}
	e.level3s, e.harm3s = [veryLongCtx]float64{}, [veryLongCtx]float64{}
	e.prevBandDB = [numBands]float64{}
	e.prevLag, e.prevLevel, e.prevSNR, e.prevHarm = 0, floorDB, 0, 0
	e.fine = [fineHist][fineBins]float64{}
	e.fineNorm = [fineHist]float64{}
	e.peakRun = [fineBins]float64{}
	e.onsets = [onsetLen]float64{}
	e.beatVal = 0
	e.ema1, e.ema2, e.ema3 = [numRaw]float64{}, [numRaw]float64{}, [numRaw]float64{}
}

// floorDB is the lowest level reported, so digital silence stays finite.
const floorDB = -100

// fastDB is toDB to within 0.001 dB, without a logarithm call: the
// exponent of p plus a short series for the log of its mantissa.
func fastDB(p float64) float64 {
	if p <= 1e-10 {
		return floorDB
	}
	b := math.Float64bits(p)
	exp := float64(int((b>>52)&0x7ff) - 1023)
	m := math.Float64frombits(b&^(0x7ff<<52) | 1023<<52) // in [1, 2)
	// ln m = 2 atanh((m-1)/(m+1)), |t| <= 1/3: four terms of the series.
	t := (m - 1) / (m + 1)
	t2 := t * t
	ln := 2 * t * (1 + t2*(1.0/3+t2*(1.0/5+t2*(1.0/7))))
	return 10 * (exp*math.Log10(2) + ln/math.Ln10)
}

func toDB(p float64) float64 {
	if p <= 1e-10 {
		return floorDB
	}
	return 10 * math.Log10(p)
}

// extract consumes one hop of hopLen samples (scaled to [-1, 1)) and writes
// the feature vector into out.
func (e *extractor) extract(hop []float64, out *[numFeatures]float64) {
	copy(e.ring[:], e.ring[hopLen:])
	copy(e.ring[winLen-hopLen:], hop)

	// Remove the window's mean so DC and rumble do not leak into low bands.
	var mean float64
	for _, v := range e.ring {
		mean += v
	}
	mean /= winLen
	for i := range e.buf {
		if i < winLen {
			e.buf[i] = (e.ring[i] - mean) * e.window[i]
		} else {
			e.buf[i] = 0
		}
	}
	e.ft.Transform(e.buf[:], e.re[:], e.im[:])
	for k := 0; k < numBins; k++ {
		e.power[k] = e.re[k]*e.re[k] + e.im[k]*e.im[k]
	}

	// Band levels, total level, centroid, flatness over the telephone band.
	var total, centroidNum float64
	for b := 0; b < numBands; b++ {
		var s float64
		for k := e.bandLo[b]; k < e.bandHi[b]; k++ {
			s += e.power[k]
			centroidNum += e.power[k] * float64(k)
		}
		total += s
		e.bandLin[b] = s
		e.bandDB[b] = toDB(s)
	}
	level := toDB(total)
	centroid := 0.0
	if total > 1e-12 {
		centroid = centroidNum / total * (float64(analysisRate) / fftLen) / 4000
	}
	var logSum, linSum float64
	lo, hi := e.bandLo[1], e.bandLo[numBands-1]+((e.bandHi[numBands-1]-e.bandLo[numBands-1])/2)
	for k := lo; k < hi; k++ {
		p := e.power[k] + 1e-12
		logSum += math.Log(p)
		linSum += p
	}
	cnt := float64(hi - lo)
	flatness := 10 * (logSum/cnt - math.Log(linSum/cnt)) / math.Ln10 // dB, <= 0

	// Speech-band share: 300-3300 Hz against everything analysed.
	var speechBand float64
	for b := 1; b < numBands-1; b++ {
		speechBand += e.bandLin[b]
	}
	sbRatio := 0.0
	if total > 1e-12 {
		sbRatio = speechBand / total
	}

	// Autocorrelation: the inverse transform of the power spectrum. The
	// spectrum is real and even, so the forward transform gives the same
	// result up to scale.
	for k := 0; k < fftLen; k++ {
		j := k
		if j > fftLen/2 {
			j = fftLen - k
		}
		e.buf[k] = e.power[j]
	}
	e.ft.Transform(e.buf[:], e.re[:], e.im[:])
	harm, lag := 0.0, 0.0
	if r0 := e.re[0]; r0 > 1e-12 {
		for l := minLag; l <= maxLag; l++ {
			v := e.re[l] / r0 / e.winAC[l]
			if v > harm {
				harm, lag = v, float64(l)
			}
		}
	}
	if harm > 1 {
		harm = 1
	}
	pitchJump := 1.0
	if lag > 0 && e.prevLag > 0 {
		pitchJump = min(1, math.Abs(math.Log(lag/e.prevLag)))
	}

	// Noise floor by minimum statistics over the last 2 s of smoothed levels.
	var snr [numBands + 1]float64
	for b := 0; b <= numBands; b++ {
		v := level
		if b < numBands {
			v = e.bandDB[b]
		}
		if e.frames == 0 {
			e.smoothDB[b] = v
		} else {
			e.smoothDB[b] = 0.6*e.smoothDB[b] + 0.4*v
		}
		s := e.smoothDB[b]
		if s < e.curMin[b] {
			e.curMin[b] = s
		}
		floor := e.curMin[b]
		for _, m := range e.subMin[b] {
			if m < floor {
				floor = m
			}
		}
		snr[b] = v - floor
	}
	e.subPos++
	if e.subPos == subLen {
		for b := range e.curMin {
			e.subMin[b][e.subIdx] = e.curMin[b]
			e.curMin[b] = math.Inf(1)
		}
		e.subIdx = (e.subIdx + 1) % subWindows
		e.subPos = 0
	}

	var flux, onset float64
	if e.frames > 0 {
		for b := 0; b < numBands; b++ {
			d := e.bandDB[b] - e.prevBandDB[b]
			flux += math.Abs(d)
			onset += max(0, d)
		}
		flux /= numBands
		onset /= numBands
	}
	e.onsets[e.frames%onsetLen] = min(onset, 40)
	fc40, fc100, fc300, prun, plong := e.fineStructure()
	if e.frames%2 == 0 { // a 2 s statistic: every other hop is enough
		e.beatVal = e.beat()
	}
	beat := e.beatVal

	// Context statistics.
	i := e.frames % longCtx
	e.snrHist[i], e.levelHist[i], e.harmHist[i] = snr[numBands], level, harm
	e.fluxHist[i], e.flatHist[i] = flux, flatness
	e.centHist[i] = centroid
	e.lowHist[i] = toDB(e.bandLin[0] + e.bandLin[1] + e.bandLin[2])
	e.lagHist[i] = 0
	if harm >= 0.4 {
		e.lagHist[i] = lag
	}
	e.bandHist[i] = e.bandDB
	i3 := e.frames % veryLongCtx
	e.level3s[i3], e.harm3s[i3] = level, harm
	n := e.frames + 1
	nShort, nLong := min(n, shortCtx), min(n, longCtx)
	var snrMean, harmMean, fluxMean, flatMean float64
	for j := 0; j < nShort; j++ {
		idx := (i - j + longCtx) % longCtx
		snrMean += e.snrHist[idx]
		harmMean += e.harmHist[idx]
		fluxMean += e.fluxHist[idx]
		flatMean += e.flatHist[idx]
	}
	ns := float64(nShort)
	snrMean, harmMean, fluxMean, flatMean = snrMean/ns, harmMean/ns, fluxMean/ns, flatMean/ns
	var lvlSum, lvlSq, voiced, fluxLong, snrMax float64
	for j := 0; j < nLong; j++ {
		idx := (i - j + longCtx) % longCtx
		lvlSum += e.levelHist[idx]
		lvlSq += e.levelHist[idx] * e.levelHist[idx]
		if e.harmHist[idx] > 0.6 {
			voiced++
		}
		fluxLong += e.fluxHist[idx]
		if e.snrHist[idx] > snrMax {
			snrMax = e.snrHist[idx]
		}
	}
	nl := float64(nLong)
	lvlMean := lvlSum / nl
	lvlStd := math.Sqrt(max(0, lvlSq/nl-lvlMean*lvlMean))

	// Pitch held steady (music) rather than gliding (speech): the share of
	// the last 200 ms whose pitch moved less than 3 % from the frame before.
	var stable float64
	for j := 0; j+1 < nShort; j++ {
		a, b := e.lagHist[(i-j+longCtx)%longCtx], e.lagHist[(i-j-1+longCtx)%longCtx]
		if a > 0 && b > 0 && math.Abs(math.Log(a/b)) < 0.03 {
			stable++
		}
	}
	stable /= shortCtx

	// Spectral-envelope modulation: the spread of each band's level over
	// the last second, averaged over bands; and the spread of the centroid.
	var bandMod, centSum, centSq float64
	for b := 0; b < numBands; b++ {
		var s1, s2 float64
		for j := 0; j < nLong; j++ {
			v := e.bandHist[(i-j+longCtx)%longCtx][b]
			s1 += v
			s2 += v * v
		}
		m := s1 / nl
		bandMod += math.Sqrt(max(0, s2/nl-m*m))
	}
	bandMod /= numBands
	for j := 0; j < nLong; j++ {
		v := e.centHist[(i-j+longCtx)%longCtx]
		centSum += v
		centSq += v * v
	}
	centMean := centSum / nl
	centStd := math.Sqrt(max(0, centSq/nl-centMean*centMean))

	// Syllabic modulation of the whole band and of the low (vowel) band.
	mod := e.modulation(&e.levelHist, i, n)
	modLow := e.modulation(&e.lowHist, i, n)

	// Dips: speech falls between syllables and pauses between words, music
	// and tones mostly do not.
	var hi300, lo300 = -1e9, 1e9
	for j := 0; j < min(n, 15); j++ {
		v := e.levelHist[(i-j+longCtx)%longCtx]
		hi300, lo300 = max(hi300, v), min(lo300, v)
	}
	var hi1s = -1e9
	var harmSum, harmSq float64
	for j := 0; j < nLong; j++ {
		idx := (i - j + longCtx) % longCtx
		hi1s = max(hi1s, e.levelHist[idx])
		harmSum += e.harmHist[idx]
		harmSq += e.harmHist[idx] * e.harmHist[idx]
	}
	var pauses float64
	for j := 0; j < nLong; j++ {
		if e.levelHist[(i-j+longCtx)%longCtx] < hi1s-10 {
			pauses++
		}
	}
	pauses /= nl

	// Continuity over 3 s: music and tones rarely pause and stay voiced;
	// a talker pauses between phrases and alternates voiced and unvoiced.
	n3 := min(n, veryLongCtx)
	hi3s := -1e9
	for j := 0; j < n3; j++ {
		hi3s = max(hi3s, e.level3s[j])
	}
	var pauses3, voiced3 float64
	for j := 0; j < n3; j++ {
		if e.level3s[j] < hi3s-12 {
			pauses3++
		}
		if e.harm3s[j] > 0.6 {
			voiced3++
		}
	}
	pauses3 /= float64(n3)
	voiced3 /= float64(n3)
	hm := harmSum / nl
	harmStd := math.Sqrt(max(0, harmSq/nl-hm*hm))

	r := &e.raw
	for b := 0; b < numBands; b++ {
		r[b] = clip(snr[b], -10, 60)
	}
	r[9] = level
	r[10] = clip(snr[numBands], -10, 60)
	r[11] = flatness
	r[12] = harm
	r[13] = pitchJump
	r[14] = min(flux, 40)
	r[15] = centroid
	r[16] = clip(snrMean, -10, 60)
	r[17] = min(lvlStd, 40)
	r[18] = harmMean
	r[19] = min(fluxMean, 40)
	r[20] = flatMean
	r[21] = voiced / nl
	r[22] = min(fluxLong/nl, 40)
	r[23] = clip(snrMax, -10, 60)
	r[24] = sbRatio
	r[25] = clip(level-e.prevLevel, -40, 40)
	r[26] = clip(e.prevSNR, -10, 60)
	r[27] = e.prevHarm
	r[28] = stable
	r[29] = min(bandMod, 40)
	r[30] = mod
	r[31] = centStd
	r[32] = min(hi300-lo300, 60)
	r[33] = pauses
	r[34] = harmStd
	r[35] = modLow
	r[36] = pauses3
	r[37] = voiced3

	r[38] = fc40
	r[39] = fc100
	r[40] = fc300
	r[41] = prun
	r[42] = plong
	r[43] = beat
	var fs1, fs2 float64
	for j := 0; j < nLong; j++ {
		v := min(e.fluxHist[(i-j+longCtx)%longCtx], 40)
		fs1 += v
		fs2 += v * v
	}
	fm := fs1 / nl
	r[44] = math.Sqrt(max(0, fs2/nl-fm*fm))
	for k, v := range r {
		if e.frames == 0 {
			e.ema1[k], e.ema2[k], e.ema3[k] = v, v, v
		} else {
			e.ema1[k] = emaShort*e.ema1[k] + (1-emaShort)*v
			e.ema2[k] = emaLong*e.ema2[k] + (1-emaLong)*v
			e.ema3[k] = emaVeryLong*e.ema3[k] + (1-emaVeryLong)*v
		}
		out[k], out[numRaw+k], out[2*numRaw+k], out[3*numRaw+k] = v, e.ema1[k], e.ema2[k], e.ema3[k]
	}

	copy(e.prevBandDB[:], e.bandDB[:])
	e.prevLag = lag
	if harm < 0.4 {
		e.prevLag = 0
	}
	e.prevLevel = level
	e.prevSNR = snr[numBands]
	e.prevHarm = harm
	e.frames++
}

// modulation returns the share of an envelope's variance over the last
// 640 ms (modLen frames ending at ring index i; n frames seen so far) that
// lies at 3-6 Hz, the syllable rate of speech.
func (e *extractor) modulation(hist *[longCtx]float64, i, n int) float64 {
	if n < modLen {
		return 0
	}
	var m float64
	for j := 0; j < modLen; j++ {
		m += hist[(i-modLen+1+j+longCtx)%longCtx]
	}
	m /= modLen
	var varSum, band float64
	var x [modLen]float64
	for j := range x {
		x[j] = hist[(i-modLen+1+j+longCtx)%longCtx] - m
		varSum += x[j] * x[j]
	}
	if varSum < 1e-9 {
		return 0
	}
	for k := range e.modCos {
		var re, im float64
		for j, v := range x {
			re += v * e.modCos[k][j]
			im += v * e.modSin[k][j]
		}
		band += re*re + im*im
	}
	return 2 * band / (modLen * varSum)
}

func clip(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// fineStructure updates the spectral fine-structure history from the
// current power spectrum and returns its correlation with 40, 100 and
// 300 ms ago, and how long the current partials have lasted: the
// power-weighted mean run length (hops, capped, over maxPeakRn) and the
// power share of partials older than 200 ms. Music holds notes; speech
// harmonics glide with the pitch and formants, and noise has no partials.
func (e *extractor) fineStructure() (c40, c100, c300, run, long float64) {
	lo, hi := fineLo-fineHalf, fineHi+fineHalf
	lmax := float64(floorDB)
	for k := lo; k < hi; k++ {
		e.logPow[k] = fastDB(e.power[k])
		lmax = max(lmax, e.logPow[k])
	}
	// The floor 50 dB below the peak keeps noise bins out of the shape.
	for k := lo; k < hi; k++ {
		e.logPow[k] = max(e.logPow[k], lmax-50)
	}
	slot := e.frames % fineHist
	f := &e.fine[slot]
	var win float64
	for k := lo; k < lo+2*fineHalf+1; k++ {
		win += e.logPow[k]
	}
	var mean float64
	for j := 0; j < fineBins; j++ {
		k := fineLo + j
		f[j] = e.logPow[k] - win/(2*fineHalf+1)
		mean += f[j]
		if k+fineHalf+1 < hi {
			win += e.logPow[k+fineHalf+1] - e.logPow[k-fineHalf]
		}
	}
	mean /= fineBins
	var norm float64
	for j := range f {
		f[j] -= mean
		norm += f[j] * f[j]
	}
	e.fineNorm[slot] = math.Sqrt(norm)
	corr := func(lag int) float64 {
		if e.frames < lag {
			return 0
		}
		s := (e.frames - lag) % fineHist
		d := e.fineNorm[slot] * e.fineNorm[s]
		if d < 1e-6 {
			return 0
		}
		var c float64
		g := &e.fine[s]
		for j := range f {
			c += f[j] * g[j]
		}
		return c / d
	}
	c40, c100, c300 = corr(2), corr(5), corr(15)

	// Partials: local maxima standing 4 dB above the moving average and
	// within 40 dB of the peak. A partial continues a run if a partial was
	// in the same or a neighbouring bin in the previous hop (or, halved,
	// one or two hops before).
	var wSum, rSum, longSum float64
	for j := 0; j < fineBins; j++ {
		k := fineLo + j
		prev := e.peakRun[j]
		if j > 0 {
			prev = max(prev, e.peakRun[j-1])
		}
		if j+1 < fineBins {
			prev = max(prev, e.peakRun[j+1])
		}
		if f[j]+mean > 4 && e.logPow[k] > lmax-40 && e.logPow[k] >= e.logPow[k-1] && e.logPow[k] >= e.logPow[k+1] {
			r := min(prev+1, maxPeakRn)
			e.runTmp[j] = r
			p := e.power[k]
			wSum += p
			rSum += p * r
			if r > 10 {
				longSum += p
			}
		} else {
			// A drum hit or a breath masks partials for a hop or two:
			// the run fades rather than ending at once.
			e.runTmp[j] = e.peakRun[j] * 0.5
			if e.runTmp[j] < 1 {
				e.runTmp[j] = 0
			}
		}
	}
	e.peakRun = e.runTmp
	if wSum > 1e-12 {
		run, long = rSum/wSum/maxPeakRn, longSum/wSum
	}
	return c40, c100, c300, run, long
}

// beat returns the strongest normalised autocorrelation of the onset
// envelope over the last 2 s at lags of 300 ms to 1 s: regular beats
// (music) give high values, speech onsets are irregular.
func (e *extractor) beat() float64 {
	n := e.frames + 1
	if n < onsetLen {
		return 0
	}
	var x [onsetLen]float64
	var m float64
	for j := range x {
		x[j] = e.onsets[(e.frames+1+j)%onsetLen] // oldest first
		m += x[j]
	}
	m /= onsetLen
	var r0 float64
	for j := range x {
		x[j] -= m
		r0 += x[j] * x[j]
	}
	if r0 < 1e-9 {
		return 0
	}
	best := 0.0
	for lag := beatMin; lag <= beatMax; lag++ {
		var r float64
		for j := lag; j < onsetLen; j++ {
			r += x[j] * x[j-lag]
		}
		r = r / r0 * onsetLen / float64(onsetLen-lag)
		best = max(best, r)
	}
	return min(best, 1)
}

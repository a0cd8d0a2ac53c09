package codec

import "sync"

// G.722 (ITU-T Recommendation G.722, 7 kHz audio coding within 64 kbit/s),
// mode 1: 64 kbit/s, 16 kHz PCM in and out, one octet per two samples.
//
// The encoder splits 16 kHz input with a 24-tap quadrature mirror filter
// (G.722 section 3.2, Table 11) into a lower and a higher sub-band at 8 kHz,
// codes the lower band with 6-bit and the higher band with 2-bit adaptive
// differential PCM (sections 3.3-3.6, block names below follow the
// Recommendation: QUANTL, INVQAL, LOGSCL, SCALEL, ... ) and packs
//
//	 7   6   5   4   3   2   1   0
//	+---+---+---+---+---+---+---+---+
//	|  IH   |          IL           |
//	+---+---+---+---+---+---+---+---+
//
// into each octet (section 1.4.4, as RFC 3551 section 4.5.2 carries it).
// The decoder (section 4) inverts the steps and recombines the bands with the
// receive QMF. All arithmetic is the Recommendation's fixed-point arithmetic,
// so the output is bit-exact with other conforming implementations (checked
// against spandsp in g722_test.go).

// G722 is an ITU-T G.722 codec at 64 kbit/s. It keeps ADPCM state, so one
// value serves one stream: make it with NewG722 (or ForStream on the value
// Lookup returns). Its methods are safe for concurrent use (the encoder and
// the decoder each hold a lock, uncontended in a stream's send and receive
// goroutines), but two streams sharing one value would mix their state.
type G722 struct {
	encMu sync.Mutex
	enc   g722Encoder
	decMu sync.Mutex
	dec   g722Decoder
}

// NewG722 returns a G.722 codec in its initial state.
func NewG722() *G722 {
	g := &G722{}
	g.Reset()
	return g
}

// Name is the SDP encoding name.
func (*G722) Name() string { return "G722" }

// PayloadType is the static RTP payload type (RFC 3551 section 6).
func (*G722) PayloadType() int { return 9 }

// ClockRate is 8000: RFC 3551 section 4.5.2 keeps G.722's RTP clock at
// 8 kHz for historical reasons, although it samples at 16 kHz.
func (*G722) ClockRate() int { return 8000 }

// SampleRate is the PCM rate, 16 kHz.
func (*G722) SampleRate() int { return 16000 }

// Fresh returns a new, independent G.722 codec for another stream.
func (*G722) Fresh() Codec { return NewG722() }

// Reset returns encoder and decoder to their initial state (G.722 section
// 5.2.2: the reset state), as at the start of a stream.
func (g *G722) Reset() {
	g.encMu.Lock()
	g.enc = g722Encoder{}
	g.enc.low.det, g.enc.high.det = 32, 8
	g.encMu.Unlock()
	g.decMu.Lock()
	g.dec = g722Decoder{}
	g.dec.low.det, g.dec.high.det = 32, 8
	g.decMu.Unlock()
}

// Encode appends one octet per two samples of 16 kHz pcm to dst. An odd
// final sample is kept and coded with the next call's first sample.
func (g *G722) Encode(dst []byte, pcm []int16) []byte {
	g.encMu.Lock()
	defer g.encMu.Unlock()
	return g.enc.encode(dst, pcm)
}

// Decode appends two 16 kHz samples per octet of payload to dst. Every
// octet is a valid code word, so no input is rejected.
func (g *G722) Decode(dst []int16, payload []byte) []int16 {
	g.decMu.Lock()
	defer g.decMu.Unlock()
	return g.dec.decode(dst, payload)
}

// qmfCoeffs are the QMF coefficients h(2i) of G.722 Table 11 (section
// 3.2), scaled by 2^13; the filter is symmetric, so h(2i+1) = qmfCoeffs[11-i].
var qmfCoeffs = [12]int32{3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11}

// Quantizer and adaptation tables of G.722 section 3 (Tables 6-10).
var (
	// q6 holds the lower-band decision levels (QUANTL, Table 6), scaled by
	// 2^3 relative to the 2^-12 step of det.
	q6 = [31]int32{0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650,
		714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0}
	// iln and ilp map a quantizer interval to the 6-bit code word for a
	// negative and a non-negative difference.
	iln = [31]uint8{0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
		16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4}
	ilp = [31]uint8{0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45,
		44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32}
	// qm4 is the 4-bit inverse quantizer used for prediction (INVQAL).
	qm4 = [16]int32{0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
		20456, 12896, 8968, 6288, 4240, 2584, 1200, 0}
	// qm6 is the 6-bit inverse quantizer for the decoder output (INVQBL,
	// mode 1).
	qm6 = [64]int32{-136, -136, -136, -136, -24808, -21904, -19008, -16704,
		-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
		-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
		-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
		24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
		10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
		4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
		1688, 1360, 1040, 728, 432, 136, -432, -136}
	// rl42 and wl drive the lower-band log scale factor (LOGSCL).
	rl42 = [16]int32{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}
	wl   = [8]int32{-60, -30, 58, 172, 334, 538, 1198, 3042}
	// ilb is the antilogarithm table of SCALEL and SCALEH.
	ilb = [32]int32{2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383,
		2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
		2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371,
		3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008}
	// Higher band: inverse quantizer (INVQAH), log scale factor steps
	// (LOGSCH) and code words (QUANTH).
	qm2 = [4]int32{-7408, -1616, 7408, 1616}
	rh2 = [4]int32{2, 1, 2, 1}
	wh  = [3]int32{0, -214, 798}
	ihn = [3]uint8{0, 1, 0}
	ihp = [3]uint8{0, 3, 2}
)

// sat16 saturates to the 16-bit range, as the Recommendation's arithmetic
// does after every addition.
func sat16(v int32) int32 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return v
}

// band is the ADPCM state of one sub-band (G.722 section 3.6, the adaptive
// predictor, and the quantizer scale factor).
type band struct {
	s   int32    // predictor output: signal estimate for the next sample
	sz  int32    // zero section output
	r   [2]int32 // reconstructed signal r(k), r(k-1)
	a   [2]int32 // pole coefficients a1, a2
	p   [2]int32 // partially reconstructed signal p(k-1), p(k-2) (before update)
	d   [6]int32 // quantized difference d(k), ..., d(k-5)
	b   [6]int32 // zero coefficients b1..b6
	nb  int32    // log scale factor
	det int32    // quantizer scale factor
}

// adapt runs block 4 of G.722 section 3.6 (RECONS, PARREC, UPPOL2, UPPOL1,
// UPZERO, DELAYA, FILTEP, FILTEZ, PREDIC) with the new quantized difference
// d, updating the predictor for the next sample.
func (b *band) adapt(d int32) {
	// RECONS and PARREC.
	r := sat16(b.s + d)
	p := sat16(b.sz + d)

	// UPPOL2: second pole coefficient. Signs compare by their sign bits,
	// so zero counts as positive.
	neg := p < 0
	diff1 := neg != (b.p[0] < 0) // sgn p(k) != sgn p(k-1)
	same2 := neg == (b.p[1] < 0) // sgn p(k) == sgn p(k-2)
	wd1 := sat16(b.a[0] << 2)
	wd2 := -wd1
	if diff1 {
		wd2 = wd1
	}
	wd2 = min(wd2, 32767) >> 7 // -(-32768) stays in 16 bits
	wd3 := int32(-128)
	if same2 {
		wd3 = 128
	}
	a2 := wd2 + wd3 + ((b.a[1] * 32512) >> 15)
	a2 = min(max(a2, -12288), 12288)

	// UPPOL1: first pole coefficient, limited by the second.
	wd1 = 192
	if diff1 {
		wd1 = -192
	}
	a1 := sat16(wd1 + ((b.a[0] * 32640) >> 15))
	lim := sat16(15360 - a2)
	a1 = min(max(a1, -lim), lim)

	// UPZERO: zero coefficients leak and are nudged by the sign agreement
	// of d(k) and d(k-i) (no nudge when d(k) is zero).
	var step int32
	if d != 0 {
		step = 128
	}
	for i := range b.b {
		w := step
		if (d < 0) != (b.d[i] < 0) {
			w = -step
		}
		b.b[i] = sat16(w + ((b.b[i] * 32640) >> 15))
	}

	// DELAYA.
	copy(b.d[1:], b.d[:5])
	b.d[0] = d
	b.r[1], b.r[0] = b.r[0], r
	b.p[1], b.p[0] = b.p[0], p
	b.a[0], b.a[1] = a1, a2

	// FILTEP: pole section on r(k) and r(k-1).
	sp := sat16(((b.a[0] * sat16(b.r[0]+b.r[0])) >> 15) + ((b.a[1] * sat16(b.r[1]+b.r[1])) >> 15))
	// FILTEZ: zero section on d(k) ... d(k-5).
	var sz int32
	for i := 5; i >= 0; i-- {
		sz += (b.b[i] * sat16(b.d[i]+b.d[i])) >> 15
	}
	b.sz = sat16(sz)
	// PREDIC.
	b.s = sat16(sp + b.sz)
}

// scale computes the linear scale factor from the log one (SCALEL with
// shift 8 for the lower band, SCALEH with shift 10 for the higher band).
func (b *band) scale(shift int32) {
	wd1 := (b.nb >> 6) & 31
	wd2 := shift - (b.nb >> 11)
	var wd3 int32
	if wd2 < 0 {
		wd3 = ilb[wd1] << -wd2
	} else {
		wd3 = ilb[wd1] >> wd2
	}
	b.det = wd3 << 2
}

// updateLow adapts the lower band after code word il (INVQAL, LOGSCL,
// SCALEL, block 4).
func (b *band) updateLow(il int) {
	ril := il >> 2
	dl := (b.det * qm4[ril]) >> 15
	nb := ((b.nb * 127) >> 7) + wl[rl42[ril]]
	b.nb = min(max(nb, 0), 18432)
	b.scale(8)
	b.adapt(dl)
}

// updateHigh adapts the higher band after code word ih (INVQAH, LOGSCH,
// SCALEH, block 4) and returns the quantized difference.
func (b *band) updateHigh(ih int) int32 {
	dh := (b.det * qm2[ih]) >> 15
	nb := ((b.nb * 127) >> 7) + wh[rh2[ih]]
	b.nb = min(max(nb, 0), 22528)
	b.scale(10)
	b.adapt(dh)
	return dh
}

// g722Encoder is the transmit side: QMF history and the two bands.
type g722Encoder struct {
	x       [24]int32 // QMF input history, x[23] newest
	low     band
	high    band
	pending int16 // an odd sample waiting for its pair
	havePen bool
}

func (e *g722Encoder) encode(dst []byte, pcm []int16) []byte {
	if e.havePen && len(pcm) > 0 {
		dst = append(dst, e.encodePair(int32(e.pending), int32(pcm[0])))
		pcm = pcm[1:]
		e.havePen = false
	}
	for len(pcm) >= 2 {
		dst = append(dst, e.encodePair(int32(pcm[0]), int32(pcm[1])))
		pcm = pcm[2:]
	}
	if len(pcm) == 1 {
		e.pending, e.havePen = pcm[0], true
	}
	return dst
}

// encodePair codes two 16 kHz samples (the older first) into one octet.
func (e *g722Encoder) encodePair(s0, s1 int32) byte {
	// Transmit QMF (section 3.2): shift two samples in, compute one output
	// of each sub-band filter.
	copy(e.x[:22], e.x[2:])
	e.x[22], e.x[23] = s0, s1
	var sumOdd, sumEven int32
	for i := 0; i < 12; i++ {
		sumOdd += e.x[2*i] * qmfCoeffs[i]
		sumEven += e.x[2*i+1] * qmfCoeffs[11-i]
	}
	xl := (sumEven + sumOdd) >> 14
	xh := (sumEven - sumOdd) >> 14

	// Lower band: SUBTRA, QUANTL.
	el := sat16(xl - e.low.s)
	wd := el
	if el < 0 {
		wd = -(el + 1)
	}
	i := 1
	for ; i < 30; i++ {
		if wd < (q6[i]*e.low.det)>>12 {
			break
		}
	}
	var il uint8
	if el < 0 {
		il = iln[i]
	} else {
		il = ilp[i]
	}
	e.low.updateLow(int(il))

	// Higher band: SUBTRA, QUANTH.
	eh := sat16(xh - e.high.s)
	wd = eh
	if eh < 0 {
		wd = -(eh + 1)
	}
	mih := 1
	if wd >= (564*e.high.det)>>12 {
		mih = 2
	}
	var ih uint8
	if eh < 0 {
		ih = ihn[mih]
	} else {
		ih = ihp[mih]
	}
	e.high.updateHigh(int(ih))
	return ih<<6 | il
}

// g722Decoder is the receive side: the two bands and QMF history.
type g722Decoder struct {
	low  band
	high band
	y    [24]int32 // receive QMF history, y[23] newest
}

func (dc *g722Decoder) decode(dst []int16, payload []byte) []int16 {
	for _, o := range payload {
		il := int(o & 0x3f)
		ih := int(o >> 6)

		// Lower band: INVQBL (mode 1) and RECONS, then adaptation.
		rl := min(max(dc.low.s+(dc.low.det*qm6[il])>>15, -16384), 16383)
		dc.low.updateLow(il)

		// Higher band: INVQAH and RECONS, then adaptation.
		s := dc.high.s
		dh := dc.high.updateHigh(ih)
		rh := min(max(s+dh, -16384), 16383)

		// Receive QMF (section 4.4): two output samples per octet.
		copy(dc.y[:22], dc.y[2:])
		dc.y[22], dc.y[23] = rl+rh, rl-rh
		var even, odd int32
		for i := 0; i < 12; i++ {
			even += dc.y[2*i] * qmfCoeffs[i]
			odd += dc.y[2*i+1] * qmfCoeffs[11-i]
		}
		dst = append(dst, int16(sat16(odd>>11)), int16(sat16(even>>11)))
	}
	return dst
}

func init() { Register(NewG722()) }

var (
	_ Codec    = (*G722)(nil)
	_ Stateful = (*G722)(nil)
)

// Package vadeval builds labelled voice-activity sets from real recordings
// and scores detectors on them: frame-level ROC-AUC, precision and recall,
// and what an endpointer makes of the probabilities.
//
// The generator mixes real speech (Asterisk's professional prompts and the
// many voices of Speech Commands) into backgrounds a phone line carries:
// digital silence, line noise, hum, recorded room noise, call-progress and
// DTMF tones and hold music, at known positions, then passes the mix
// through a telephone channel (band limit, G.711 or G.722). Labels come from
// the clean speech before mixing, one per 20 ms hop. Train and test splits
// use different speech files (different speakers for Speech Commands) and
// different music, so a model trained on one is measured on unseen audio.
package vadeval

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/openivr/ivr/audio"

	"github.com/openivr/ivr/codec"
)

// Split selects the part of the source recordings a set is built from.
type Split int

// Splits.
const (
	Train Split = iota
	Test
)

// String names the split.
func (s Split) String() string {
	if s == Test {
		return "test"
	}
	return "train"
}

// HopMs is the labelling step, in milliseconds.
const HopMs = 20

// Config describes a set to generate. Zero fields take the defaults noted.
type Config struct {
	Split Split
	// Rate is 8000 (narrowband, G.711 channel) or 16000 (wideband, G.722
	// channel). Default 8000.
	Rate int
	// Items is the number of clips. Default 200.
	Items int
	// Seed makes the set reproducible; the same Config gives the same set.
	Seed uint64
	// SoundsDir holds the Asterisk prompts. Default DefaultSoundsDir.
	SoundsDir string
	// MOHDir holds the hold music. Default DefaultMOHDir.
	MOHDir string
	// SpeechDir is the shared data's speech directory (with
	// speech_commands/); empty leaves those voices and noises out.
	SpeechDir string
	// ExtraTrainMusicDir holds more music (WAV files) for the TRAIN split
	// only; the TEST split always uses held-out hold music alone.
	ExtraTrainMusicDir string
}

func (c Config) withDefaults() (Config, error) {
	if c.Rate == 0 {
		c.Rate = 8000
	}
	if c.Rate != 8000 && c.Rate != 16000 {
		return c, fmt.Errorf("vadeval: rate %d: want 8000 or 16000", c.Rate)
	}
	if c.Items <= 0 {
		c.Items = 200
	}
	if c.SoundsDir == "" {
		c.SoundsDir = DefaultSoundsDir
	}
	if c.MOHDir == "" {
		c.MOHDir = DefaultMOHDir
	}
	return c, nil
}

// Item is one labelled clip.
type Item struct {
	Name       string
	Rate       int
	Samples    []int16
	Speech     []bool // one label per 20 ms hop: true where the clean speech is active
	Background string // what the speech was mixed into
	Channel    string // the telephone channel applied
}

// Generate builds the set cfg describes.
func Generate(cfg Config) ([]Item, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	src, err := loadSources(cfg)
	if err != nil {
		return nil, err
	}
	g := &generator{cfg: cfg, src: src, rng: rand.New(rand.NewPCG(cfg.Seed, uint64(cfg.Split)+uint64(cfg.Rate)))}
	g.hop = cfg.Rate * HopMs / 1000
	items := make([]Item, 0, cfg.Items)
	for i := 0; i < cfg.Items; i++ {
		it := g.item()
		it.Name = fmt.Sprintf("%s-%dk-%04d", cfg.Split, cfg.Rate/1000, i)
		items = append(items, it)
	}
	return items, nil
}

type generator struct {
	cfg Config
	src *sources
	rng *rand.Rand
	hop int // samples per 20 ms
}

func (g *generator) uniform(lo, hi float64) float64 { return lo + (hi-lo)*g.rng.Float64() }

// dbGain is the amplitude factor for a level change of db decibels.
func dbGain(db float64) float64 { return math.Pow(10, db/20) }

func (g *generator) item() Item {
	rate := g.cfg.Rate
	hops := int(g.uniform(6, 12) * 1000 / HopMs)
	n := hops * g.hop
	mix := make([]float64, n)
	labels := make([]bool, hops)

	bg := g.background(mix)

	// Speech segments at hop-aligned positions with pauses between them;
	// some clips have none (pure negatives).
	if g.rng.Float64() >= 0.15 {
		// Speech is 3-30 dB above a loud background (below that even a
		// listener misses words, so the labels would lie), anywhere from
		// -36 to -12 dBFS over a quiet one.
		level := g.uniform(-36, -12) // dBFS of active speech
		if bgLevel := rmsDB(mix); bgLevel > -60 {
			level = min(max(bgLevel+g.uniform(3, 30), -40), -6)
		}
		pos := int(g.uniform(0.2, 2.0)*1000/HopMs) * g.hop
		for pos < n-g.hop*10 {
			var s source
			if len(g.src.words) > 0 && g.rng.Float64() < 0.4 {
				s = g.src.words[g.rng.IntN(len(g.src.words))]
			} else {
				s = g.src.prompts[g.rng.IntN(len(g.src.prompts))]
			}
			active := activeHops(s.samples, g.hop)
			gain := gainFor(s.samples, active, g.hop, level+g.uniform(-3, 3))
			for i, v := range s.samples {
				if pos+i >= n {
					break
				}
				mix[pos+i] += float64(v) * gain
			}
			for h, a := range active {
				if k := pos/g.hop + h; a && k < hops {
					labels[k] = true
				}
			}
			pos += len(s.samples)
			pos = (pos/g.hop + int(g.uniform(0.15, 2.5)*1000/HopMs)) * g.hop
		}
	}

	ch := g.channel(mix)
	out := make([]int16, n)
	for i, v := range mix {
		out[i] = audio.Round16(v)
	}
	out = g.codec(out, &ch)
	return Item{Rate: rate, Samples: out, Speech: labels, Background: bg, Channel: ch}
}

// background fills mix with one kind of non-speech sound and names it.
func (g *generator) background(mix []float64) string {
	rate := float64(g.cfg.Rate)
	r := g.rng.Float64()
	switch {
	case r < 0.07:
		return "silence"
	case r < 0.20:
		lvl := g.uniform(-72, -40)
		g.noise(mix, lvl, 0)
		return fmt.Sprintf("white %.0f dBFS", lvl)
	case r < 0.30:
		lvl := g.uniform(-70, -40)
		g.noise(mix, lvl, 1)
		return fmt.Sprintf("pink %.0f dBFS", lvl)
	case r < 0.38:
		lvl := g.uniform(-55, -30)
		f := 50.0
		if g.rng.Float64() < 0.5 {
			f = 60
		}
		amp := 32768 * dbGain(lvl)
		ph := g.uniform(0, 2*math.Pi)
		for i := range mix {
			t := float64(i) / rate
			mix[i] += amp * (math.Sin(2*math.Pi*f*t+ph) + 0.5*math.Sin(2*math.Pi*3*f*t) + 0.3*math.Sin(2*math.Pi*5*f*t))
		}
		g.noise(mix, lvl-15, 2)
		return fmt.Sprintf("hum %v Hz %.0f dBFS", f, lvl)
	case r < 0.50 && len(g.src.noises) > 0:
		s := g.src.noises[g.rng.IntN(len(g.src.noises))]
		g.place(mix, s.samples, g.uniform(-55, -25))
		return s.name
	case r < 0.60:
		return g.tones(mix)
	case r < 0.70 && g.cfg.Split == Train:
		// Synthetic music widens the few training recordings: notes with
		// harmonics, chords, vibrato and percussion.
		lvl := g.uniform(-40, -14)
		g.synthMusic(mix, lvl)
		return fmt.Sprintf("music:synthetic %.0f dBFS", lvl)
	default:
		s := g.src.music[g.rng.IntN(len(g.src.music))]
		lvl := g.uniform(-40, -14)
		samples := s.samples
		if g.cfg.Split == Train && g.rng.Float64() < 0.6 {
			samples = g.speedUp(samples, len(mix))
		}
		g.place(mix, samples, lvl)
		if g.rng.Float64() < 0.5 {
			g.noise(mix, g.uniform(-70, -50), 0)
		}
		return fmt.Sprintf("%s %.0f dBFS", s.name, lvl)
	}
}

// speedUp returns a stretch of s long enough for n samples, played faster
// or slower by up to about 20 % (tempo and key both change), by resampling.
func (g *generator) speedUp(s []int16, n int) []int16 {
	rate := g.cfg.Rate
	factors := []int{rate * 4 / 5, rate * 7 / 8, rate * 15 / 16, rate * 17 / 16, rate * 9 / 8, rate * 6 / 5}
	to := factors[g.rng.IntN(len(factors))]
	need := n*rate/to + 64
	if need >= len(s) {
		return audio.Resample(s, rate, to)
	}
	off := g.rng.IntN(len(s) - need)
	return audio.Resample(s[off:off+need], rate, to)
}

// synthMusic adds synthetic music at lvl dBFS RMS: a melody and chords of
// harmonic notes on an equal-tempered scale with attack-decay envelopes,
// sometimes vibrato, and sometimes hi-hat and kick-drum hits.
func (g *generator) synthMusic(mix []float64, lvl float64) {
	rate := float64(g.cfg.Rate)
	buf := make([]float64, len(mix))
	root := 110 * math.Pow(2, float64(g.rng.IntN(12))/12)
	scale := []int{0, 2, 4, 5, 7, 9, 11, 12, 14, 16}
	noteLen := g.uniform(0.12, 0.6)
	voices := 1 + g.rng.IntN(3)
	harmonics := 2 + g.rng.IntN(8)
	decay := g.uniform(0.5, 6) // 1/s
	vibrato := 0.0
	if g.rng.Float64() < 0.4 {
		vibrato = g.uniform(0.002, 0.01)
	}
	step := int(noteLen * rate)
	for start := 0; start < len(buf); start += step {
		for v := 0; v < voices; v++ {
			f := root * math.Pow(2, float64(scale[g.rng.IntN(len(scale))]+12*v)/12)
			amp := 1 / float64(v+1)
			dur := step * (1 + g.rng.IntN(3))
			for k := 0; k < dur && start+k < len(buf); k++ {
				t := float64(k) / rate
				env := math.Min(1, t/0.01) * math.Exp(-decay*t)
				ph := 2 * math.Pi * f * (t + vibrato*math.Sin(2*math.Pi*5.5*t)/(2*math.Pi*5.5))
				var x float64
				for h := 1; h <= harmonics; h++ {
					if float64(h)*f >= rate/2 {
						break
					}
					x += math.Sin(float64(h)*ph) / float64(h)
				}
				buf[start+k] += amp * env * x
			}
		}
	}
	if g.rng.Float64() < 0.5 {
		beat := int(g.uniform(0.25, 0.6) * rate)
		for start := 0; start < len(buf); start += beat {
			for k := 0; k < int(0.05*rate) && start+k < len(buf); k++ {
				t := float64(k) / rate
				buf[start+k] += 0.8 * math.Exp(-t*60) * math.Sin(2*math.Pi*60*t)  // kick
				buf[start+k] += 0.15 * math.Exp(-t*120) * (g.rng.Float64()*2 - 1) // hi-hat
			}
		}
	}
	var pow float64
	for _, v := range buf {
		pow += v * v
	}
	gain := 32768 * dbGain(lvl) / math.Sqrt(pow/float64(len(buf))+1e-12)
	for i := range mix {
		mix[i] += buf[i] * gain
	}
}

// noise adds Gaussian noise at lvl dBFS RMS: white (color 0), pink
// (color 1, a three-pole approximation) or brown (color 2).
func (g *generator) noise(mix []float64, lvl float64, color int) {
	buf := make([]float64, len(mix))
	var b0, b1, b2, br float64
	var pow float64
	for i := range buf {
		w := g.rng.NormFloat64()
		switch color {
		case 1:
			b0 = 0.99765*b0 + w*0.0990460
			b1 = 0.96300*b1 + w*0.2965164
			b2 = 0.57000*b2 + w*1.0526913
			w = b0 + b1 + b2 + w*0.1848
		case 2:
			br = 0.995*br + w*0.1
			w = br
		}
		buf[i] = w
		pow += w * w
	}
	scale := 32768 * dbGain(lvl) / math.Sqrt(pow/float64(len(buf))+1e-12)
	for i := range mix {
		mix[i] += buf[i] * scale
	}
}

// place loops a recording from a random offset over mix at lvl dBFS RMS.
func (g *generator) place(mix []float64, s []int16, lvl float64) {
	if len(s) == 0 {
		return
	}
	var pow float64
	for _, v := range s {
		pow += float64(v) * float64(v)
	}
	gain := 32768 * dbGain(lvl) / math.Sqrt(pow/float64(len(s))+1e-9)
	off := g.rng.IntN(len(s))
	for i := range mix {
		mix[i] += float64(s[(off+i)%len(s)]) * gain
	}
}

// tones adds call-progress tones (ITU-T E.180 style cadences) or DTMF
// digits (ITU-T Q.23 pairs), as heard on a line before or between prompts.
func (g *generator) tones(mix []float64) string {
	rate := float64(g.cfg.Rate)
	amp := 32768 * dbGain(g.uniform(-30, -12))
	type cadence struct {
		name   string
		f1, f2 float64
		on     float64 // s
		off    float64 // s
	}
	kinds := []cadence{
		{"ringback", 440, 480, 2, 4},
		{"busy", 480, 620, 0.5, 0.5},
		{"dial tone", 350, 440, 1e9, 0},
		{"ringback-uk", 400, 450, 0.4, 0.2},
	}
	if g.rng.Float64() < 0.4 {
		// DTMF digits of 60-150 ms with 60-300 ms gaps.
		lows := []float64{697, 770, 852, 941}
		highs := []float64{1209, 1336, 1477, 1633}
		i := int(g.uniform(0.1, 1) * rate)
		for i < len(mix) {
			f1, f2 := lows[g.rng.IntN(4)], highs[g.rng.IntN(4)]
			d := int(g.uniform(0.06, 0.15) * rate)
			for k := 0; k < d && i+k < len(mix); k++ {
				t := float64(k) / rate
				mix[i+k] += amp * 0.5 * (math.Sin(2*math.Pi*f1*t) + math.Sin(2*math.Pi*f2*t))
			}
			i += d + int(g.uniform(0.06, 0.3)*rate)
		}
		g.noise(mix, g.uniform(-70, -50), 0)
		return "dtmf"
	}
	c := kinds[g.rng.IntN(len(kinds))]
	period := c.on + c.off
	start := g.uniform(0, period)
	for i := range mix {
		t := float64(i)/rate + start
		if math.Mod(t, period) < c.on {
			mix[i] += amp * 0.5 * (math.Sin(2*math.Pi*c.f1*t) + math.Sin(2*math.Pi*c.f2*t))
		}
	}
	g.noise(mix, g.uniform(-70, -50), 0)
	return c.name
}

// channel applies the analogue part of a telephone channel to mix: at
// 8 kHz usually the 300-3400 Hz band of ITU-T G.712, at 16 kHz a 50 Hz
// high-pass.
func (g *generator) channel(mix []float64) string {
	if g.cfg.Rate == 8000 && g.rng.Float64() < 0.7 {
		highpass(mix, 300, float64(g.cfg.Rate))
		lowpass(mix, 3400, float64(g.cfg.Rate))
		return "G.712 band"
	}
	highpass(mix, 50, float64(g.cfg.Rate))
	return "flat"
}

// codec passes the clip through the digital channel's codec.
func (g *generator) codec(pcm []int16, ch *string) []int16 {
	var c codec.Codec
	r := g.rng.Float64()
	switch {
	case g.cfg.Rate == 16000 && r < 0.7:
		c = codec.NewG722()
	case g.cfg.Rate == 8000 && r < 0.6:
		c = codec.PCMU{}
	case g.cfg.Rate == 8000 && r < 0.85:
		c = codec.PCMA{}
	default:
		*ch += ", linear"
		return pcm
	}
	*ch += ", " + c.Name()
	return c.Decode(nil, c.Encode(nil, pcm))
}

// biquad runs a second-order section (RBJ cookbook coefficients) in place.
func biquad(x []float64, b0, b1, b2, a1, a2 float64) {
	var x1, x2, y1, y2 float64
	for i, v := range x {
		y := b0*v + b1*x1 + b2*x2 - a1*y1 - a2*y2
		x2, x1 = x1, v
		y2, y1 = y1, y
		x[i] = y
	}
}

func highpass(x []float64, f, rate float64) {
	w := 2 * math.Pi * f / rate
	alpha := math.Sin(w) / (2 * 0.7071)
	c := math.Cos(w)
	a0 := 1 + alpha
	biquad(x, (1+c)/2/a0, -(1+c)/a0, (1+c)/2/a0, -2*c/a0, (1-alpha)/a0)
}

func lowpass(x []float64, f, rate float64) {
	w := 2 * math.Pi * f / rate
	alpha := math.Sin(w) / (2 * 0.7071)
	c := math.Cos(w)
	a0 := 1 + alpha
	biquad(x, (1-c)/2/a0, (1-c)/a0, (1-c)/2/a0, -2*c/a0, (1-alpha)/a0)
}

// activeHops labels the hops of a clean recording as speech: hop energy
// within 35 dB of the loudest hop, with pauses up to 160 ms between
// active hops bridged (a pause inside a phrase is still speech).
func activeHops(s []int16, hop int) []bool {
	n := (len(s) + hop - 1) / hop
	e := make([]float64, n)
	peak := -200.0
	for h := range e {
		var p float64
		end := min((h+1)*hop, len(s))
		for _, v := range s[h*hop : end] {
			p += float64(v) * float64(v)
		}
		e[h] = 10 * math.Log10(p/float64(hop)+1e-9)
		peak = max(peak, e[h])
	}
	thr := max(peak-35, 10*math.Log10(30*30)) // and above about -60 dBFS
	act := make([]bool, n)
	last := -1
	for h := range e {
		if e[h] >= thr {
			act[h] = true
			if last >= 0 && h-last > 1 && h-last <= 9 {
				for k := last + 1; k < h; k++ {
					act[k] = true
				}
			}
			last = h
		}
	}
	return act
}

// rmsDB is the RMS level of x in dBFS.
func rmsDB(x []float64) float64 {
	var p float64
	for _, v := range x {
		p += v * v
	}
	return 10 * math.Log10(p/float64(max(len(x), 1))/(32768*32768)+1e-20)
}

// gainFor returns the factor that puts the active hops of s at lvl dBFS RMS.
func gainFor(s []int16, active []bool, hop int, lvl float64) float64 {
	var p float64
	var k int
	for h, a := range active {
		if !a {
			continue
		}
		for _, v := range s[h*hop : min((h+1)*hop, len(s))] {
			p += float64(v) * float64(v)
			k++
		}
	}
	if k == 0 {
		return 0
	}
	return 32768 * dbGain(lvl) / math.Sqrt(p/float64(k))
}

package vad

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
)

// lineNoise returns n samples of white noise at about lvl dBFS RMS.
func lineNoise(rng *rand.Rand, n int, lvl float64) []int16 {
	amp := 32768 * math.Pow(10, lvl/20)
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(rng.NormFloat64() * amp)
	}
	return s
}

// speechBounds returns the first and last 20 ms hop of a clean clip whose
// energy is within 35 dB of its loudest hop.
func speechBounds(s []int16, hop int) (first, last int) {
	n := len(s) / hop
	e := make([]float64, n)
	peak := -1.0
	for h := range e {
		for _, v := range s[h*hop : (h+1)*hop] {
			e[h] += float64(v) * float64(v)
		}
		peak = math.Max(peak, e[h])
	}
	first, last = -1, -1
	for h := range e {
		if e[h] >= peak*math.Pow(10, -3.5) {
			if first < 0 {
				first = h
			}
			last = h
		}
	}
	return first, last
}

// TestEndpointerOnRealSpeech plays human prompts, with line noise before
// and after, through the detector and endpointer as a live call would, and
// checks when SpeechStart and SpeechEnd come.
func TestEndpointerOnRealSpeech(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, name := range []string{"agent-pass", "vm-goodbye", "conf-onlyperson", "demo-thanks"} {
		c := loadSound(t, name)
		for _, rate := range []int{8000, 16000} {
			pre, post := 8000, 16000 // 1 s before, 2 s after (at 8 kHz)
			s := append(append(lineNoise(rng, pre, -60), addNoise(rng, c.Samples, -60)...), lineNoise(rng, post, -60)...)
			first, last := speechBounds(c.Samples, 160)
			onset := time.Duration(pre/160+first) * 20 * time.Millisecond
			end := time.Duration(pre/160+last+1) * 20 * time.Millisecond
			clip := audio.Clip{Rate: rate, Samples: audio.Resample(s, 8000, rate)}

			ep := NewEndpointer(EndpointConfig{NoInputTimeout: -1})
			var startAt, endAt time.Duration
			for i, p := range probs(t, clip) {
				now := time.Duration(i+1) * 20 * time.Millisecond // end of this frame
				switch ev := ep.Push(p); ev {
				case SpeechStart:
					if startAt != 0 {
						t.Errorf("%s %d Hz: second speech start at %v", name, rate, now)
					}
					startAt = now
				case SpeechEnd:
					if endAt == 0 {
						endAt = now
					}
				case None:
				default:
					t.Errorf("%s %d Hz: unexpected %v at %v", name, rate, ev, now)
				}
			}
			t.Logf("%s %d Hz: onset %v start %v (+%v); end %v speech-end %v (+%v)", name, rate,
				onset, startAt, startAt-onset, end, endAt, endAt-end)
			// Start: MinSpeech (100 ms) after the onset, within 100 ms more.
			if startAt < onset+60*time.Millisecond || startAt > onset+200*time.Millisecond {
				t.Errorf("%s %d Hz: speech start %v, onset %v", name, rate, startAt, onset)
			}
			if onsetErr := ep.SpeechOnset() - onset; onsetErr < -60*time.Millisecond || onsetErr > 100*time.Millisecond {
				t.Errorf("%s %d Hz: reported onset %v, labelled %v", name, rate, ep.SpeechOnset(), onset)
			}
			// End: the trailing silence (500 ms) after the last speech, give
			// or take the detector's hangover.
			if endAt < end+400*time.Millisecond || endAt > end+800*time.Millisecond {
				t.Errorf("%s %d Hz: speech end %v, labelled end %v", name, rate, endAt, end)
			}
		}
	}
}

func addNoise(rng *rand.Rand, s []int16, lvl float64) []int16 {
	n := lineNoise(rng, len(s), lvl)
	for i := range n {
		n[i] = int16(max(-32768, min(32767, int(n[i])+int(s[i]))))
	}
	return n
}

// TestShortBurstDoesNotBargeIn checks that a click-like 40 ms burst of
// speech-band noise, as from a cough or a handset knock, produces no
// SpeechStart with the default MinSpeech.
func TestShortBurstDoesNotBargeIn(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	s := lineNoise(rng, 8000*3, -62)
	for i := 8000; i < 8000+320; i++ {
		s[i] += int16(rng.NormFloat64() * 6000)
	}
	ep := NewEndpointer(EndpointConfig{NoInputTimeout: -1})
	for i, p := range probs(t, audio.Clip{Rate: 8000, Samples: s}) {
		if ev := ep.Push(p); ev != None {
			t.Fatalf("frame %d: %v after a 40 ms burst", i, ev)
		}
	}
}

package vad

import (
	"flag"
	"sort"
	"testing"
	"time"

	"github.com/openivr/ivr/vad/vadeval"
)

var epValFlag = flag.Bool("vad.epval", false, "measure endpointer settings on the validation clips (held-out music) and log them")

// TestEndpointerValidation runs the endpointer with several start thresholds
// and minimum speech lengths over the probabilities of the validation clips
// of TestTrainModel's kind (TRAIN split, music held out of fitting), so
// endpointer settings are chosen without the test split:
//
//	go test ./vad -run TestEndpointerValidation -v -vad.epval
func TestEndpointerValidation(t *testing.T) {
	if !*epValFlag {
		t.Skip("runs only with -vad.epval")
	}
	_, valMusic := musicDirs(t)
	noMOH := t.TempDir()
	for _, rate := range []int{8000, 16000} {
		items, err := vadeval.Generate(vadeval.Config{Split: vadeval.Train, Rate: rate, Items: 200, Seed: 41, SpeechDir: speechDataDir, MOHDir: noMOH, ExtraTrainMusicDir: valMusic})
		if err != nil {
			t.Fatal(err)
		}
		probs := make([][]float32, len(items))
		for i, it := range items {
			d, _ := New(it.Rate, Config{})
			hop := it.Rate / 50
			for h := range it.Speech {
				probs[i] = append(probs[i], d.Process(it.Samples[h*hop:(h+1)*hop]))
			}
		}
		for _, ms := range []time.Duration{100, 120, 140, 160} {
			for _, thr := range []float32{0.5, 0.6, 0.7} {
				cfg := EndpointConfig{MinSpeech: ms * time.Millisecond, Threshold: thr, NoInputTimeout: -1, MaxUtterance: -1}
				c := NewEndpointer(cfg).Config()
				minHops := int(c.MinSpeech / (20 * time.Millisecond))
				var fs, utt, det, nonSpeech int
				var delays []float64
				for i, it := range items {
					e := NewEndpointer(cfg)
					var starts []int
					in := make([]bool, len(probs[i]))
					for h, p := range probs[i] {
						if e.Push(p) == SpeechStart {
							starts = append(starts, h)
						}
						in[h] = e.InSpeech()
						if !it.Speech[h] {
							nonSpeech++
						}
					}
					for _, s := range vadeval.Segments(it.Speech) {
						if s[1]-s[0] < minHops {
							continue
						}
						utt++
						for h := s[0]; h < s[1]; h++ {
							if in[h] {
								det++
								break
							}
						}
						for _, h := range starts {
							if h >= s[0] && h < s[1] {
								delays = append(delays, float64((h-s[0]+1)*20))
								break
							}
						}
					}
					for _, h := range starts {
						sp := false
						for k := max(0, h-minHops-10); k <= h; k++ {
							sp = sp || it.Speech[k]
						}
						if !sp {
							fs++
						}
					}
				}
				sort.Float64s(delays)
				t.Logf("%d Hz min %v thr %.1f: %d/%d heard, onset median %.0f p90 %.0f ms, %.2f false starts/min",
					rate, c.MinSpeech, thr, det, utt, delays[len(delays)/2], delays[len(delays)*9/10], float64(fs)/(float64(nonSpeech)*20/60000))
			}
		}
	}
}

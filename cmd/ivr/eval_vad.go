package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sort"
	"time"

	"github.com/openivr/ivr/vad"
	"github.com/openivr/ivr/vad/vadeval"
)

func init() {
	register("eval vad", "measure voice activity detection and endpointing on a labelled set", runEvalVAD)
}

// evalVADResult is the final JSON line of `ivr eval vad`.
type evalVADResult struct {
	Set string `json:"set"`
	vadeval.Result
	AllocsPerFrame float64 `json:"allocs_per_frame"`
	Endpoint       epStats `json:"endpoint"`
}

// epStats describes what the endpointer made of the probabilities.
type epStats struct {
	// Utterances is the number of labelled speech segments of at least
	// MinSpeech; Detected those during which the endpointer was in speech
	// (a segment that follows a short pause continues the turn before it).
	Utterances int `json:"utterances"`
	Detected   int `json:"detected"`
	// OnsetMedianMs and OnsetP90Ms are the delays from labelled onset to
	// SpeechStart, over segments in which a turn started.
	OnsetMedianMs float64 `json:"onset_median_ms"`
	OnsetP90Ms    float64 `json:"onset_p90_ms"`
	// FalseStarts counts SpeechStart events with no labelled speech in the
	// preceding MinSpeech + 200 ms; per minute of non-speech audio.
	FalseStarts         int     `json:"false_starts"`
	FalseStartsPerMin   float64 `json:"false_starts_per_min"`
	NonSpeechMinutes    float64 `json:"non_speech_minutes"`
	MinSpeechMs         int64   `json:"min_speech_ms"`
	TrailingSilenceMs   int64   `json:"trailing_silence_ms"`
	StartThreshold      float32 `json:"start_threshold"`
	SpeechEndAfterEndMs float64 `json:"speech_end_after_end_median_ms"`
}

func runEvalVAD(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eval vad", flag.ContinueOnError)
	fs.SetOutput(stderr)
	labels := fs.String("labels", "", "labels CSV (file,start,end in seconds; paths relative to the CSV) instead of a generated set")
	rate := fs.Int("rate", 8000, "generated set: sample rate, 8000 (G.711 channel) or 16000 (G.722 channel)")
	items := fs.Int("items", 200, "generated set: number of clips (6-12 s each)")
	seed := fs.Uint64("seed", 1, "generated set: random seed")
	split := fs.String("split", "test", "generated set: recordings to build from, test or train")
	speechDir := fs.String("speech-dir", "../shared/data/speech", "shared speech data (Speech Commands); empty leaves it out")
	sounds := fs.String("sounds", vadeval.DefaultSoundsDir, "Asterisk prompts directory")
	moh := fs.String("moh", vadeval.DefaultMOHDir, "hold music directory")
	write := fs.String("write", "", "also write the set as WAV files and labels.csv to this directory")
	thr := fs.Float64("threshold", 0.5, "decision threshold for precision and recall")
	jsonOnly := fs.Bool("json", false, "print only the final JSON line")
	epThr := fs.Float64("ep-threshold", 0, "endpointer: speech probability that starts a turn (0: the endpointer's default)")
	epMin := fs.Duration("ep-min-speech", 0, "endpointer: speech needed before a turn starts (0: default)")
	epTrail := fs.Duration("ep-trailing-silence", 0, "endpointer: silence that ends a turn (0: default)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var set []vadeval.Item
	var name string
	start := time.Now()
	if *labels != "" {
		var err error
		set, err = vadeval.ReadLabels(*labels)
		if err != nil {
			fmt.Fprintln(stderr, "eval vad:", err)
			return 1
		}
		name = *labels
	} else {
		sp := vadeval.Test
		switch *split {
		case "test":
		case "train":
			sp = vadeval.Train
		default:
			fmt.Fprintf(stderr, "eval vad: --split %q: want test or train\n", *split)
			return 2
		}
		dir := *speechDir
		if dir != "" {
			if _, err := os.Stat(dir); err != nil {
				fmt.Fprintf(stderr, "eval vad: %v: leaving Speech Commands out\n", err)
				dir = ""
			}
		}
		var err error
		set, err = vadeval.Generate(vadeval.Config{Split: sp, Rate: *rate, Items: *items, Seed: *seed,
			SoundsDir: *sounds, MOHDir: *moh, SpeechDir: dir})
		if err != nil {
			fmt.Fprintln(stderr, "eval vad:", err)
			return 1
		}
		name = fmt.Sprintf("generated %s split, %d Hz, %d clips, seed %d", sp, *rate, *items, *seed)
	}
	if *write != "" {
		if err := vadeval.WriteDir(*write, set); err != nil {
			fmt.Fprintln(stderr, "eval vad:", err)
			return 1
		}
	}
	if !*jsonOnly {
		fmt.Fprintf(stdout, "set: %s (%d clips, built in %v)\n", name, len(set), time.Since(start).Round(time.Millisecond))
	}

	res, probs, err := vadeval.Evaluate(set, func(rate int) (vadeval.Scorer, error) {
		return vad.New(rate, vad.Config{})
	}, float32(*thr))
	if err != nil {
		fmt.Fprintln(stderr, "eval vad:", err)
		return 1
	}
	out := evalVADResult{Set: name, Result: res}
	if len(set) > 0 {
		out.AllocsPerFrame = allocsPerFrame(set[0])
	}
	out.Endpoint = endpointStats(set, probs, vad.EndpointConfig{NoInputTimeout: -1, MaxUtterance: -1,
		Threshold: float32(*epThr), MinSpeech: *epMin, TrailingSilence: *epTrail})

	if !*jsonOnly {
		fmt.Fprintf(stdout, "hops: %d (%.1f%% speech)\n", res.Hops, 100*float64(res.SpeechHops)/math.Max(1, float64(res.Hops)))
		fmt.Fprintf(stdout, "ROC-AUC: %.4f\n", res.AUC)
		fmt.Fprintf(stdout, "at threshold %.2f: precision %.4f recall %.4f F1 %.4f false-positive rate %.4f\n",
			res.Threshold, res.Precision, res.Recall, res.F1, res.FPR)
		kinds := make([]string, 0, len(res.FPRByBackground))
		for k := range res.FPRByBackground {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			fmt.Fprintf(stdout, "  false-positive rate on %-8s %.4f\n", k+":", res.FPRByBackground[k])
		}
		e := out.Endpoint
		fmt.Fprintf(stdout, "cost: %.1f us per 20 ms frame, %.3f allocations per frame\n", res.NsPerHop/1000, out.AllocsPerFrame)
		fmt.Fprintf(stdout, "endpointer (min speech %d ms, trailing silence %d ms): %d of %d speech segments heard, onset delay median %.0f ms, p90 %.0f ms; %d false starts (%.2f per minute of non-speech); speech end median %.0f ms after labelled end\n",
			e.MinSpeechMs, e.TrailingSilenceMs, e.Detected, e.Utterances, e.OnsetMedianMs, e.OnsetP90Ms, e.FalseStarts, e.FalseStartsPerMin, e.SpeechEndAfterEndMs)
	}
	finite(&out.AllocsPerFrame, &out.AUC, &out.Precision, &out.Recall, &out.F1, &out.FPR, &out.Endpoint.OnsetMedianMs,
		&out.Endpoint.OnsetP90Ms, &out.Endpoint.SpeechEndAfterEndMs)
	b, err := json.Marshal(out)
	if err != nil {
		fmt.Fprintln(stderr, "eval vad:", err)
		return 1
	}
	fmt.Fprintln(stdout, string(b))
	return 0
}

// endpointStats runs an endpointer over each clip's probabilities and
// compares its events with the labels.
func endpointStats(set []vadeval.Item, probs [][]float32, cfg vad.EndpointConfig) epStats {
	ep := vad.NewEndpointer(cfg)
	c := ep.Config()
	minHops := int(c.MinSpeech / (vadeval.HopMs * time.Millisecond))
	st := epStats{MinSpeechMs: c.MinSpeech.Milliseconds(), TrailingSilenceMs: c.TrailingSilence.Milliseconds(), StartThreshold: c.Threshold}
	var delays, ends []float64
	var nonSpeech int
	for i, it := range set {
		e := vad.NewEndpointer(cfg)
		var starts, stops []int
		inSpeech := make([]bool, len(probs[i]))
		for h, p := range probs[i] {
			switch e.Push(p) {
			case vad.SpeechStart:
				starts = append(starts, h)
			case vad.SpeechEnd:
				stops = append(stops, h)
			}
			inSpeech[h] = e.InSpeech()
			if !it.Speech[h] {
				nonSpeech++
			}
		}
		segs := vadeval.Segments(it.Speech)
		for _, s := range segs {
			if s[1]-s[0] < minHops {
				continue
			}
			st.Utterances++
			for h := s[0]; h < s[1]; h++ {
				if inSpeech[h] {
					st.Detected++
					break
				}
			}
			for _, h := range starts {
				if h >= s[0] && h < s[1] {
					delays = append(delays, float64((h-s[0]+1)*vadeval.HopMs))
					break
				}
			}
			for _, h := range stops {
				if h >= s[1] {
					ends = append(ends, float64((h-s[1]+1)*vadeval.HopMs))
					break
				}
			}
		}
		look := minHops + 10
		for _, h := range starts {
			speech := false
			for k := max(0, h-look); k <= h; k++ {
				if it.Speech[k] {
					speech = true
					break
				}
			}
			if !speech {
				st.FalseStarts++
			}
		}
	}
	st.OnsetMedianMs = quantile(delays, 0.5)
	st.OnsetP90Ms = quantile(delays, 0.9)
	st.SpeechEndAfterEndMs = quantile(ends, 0.5)
	st.NonSpeechMinutes = float64(nonSpeech) * vadeval.HopMs / 60000
	if st.NonSpeechMinutes > 0 {
		st.FalseStartsPerMin = float64(st.FalseStarts) / st.NonSpeechMinutes
	}
	return st
}

func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[int(q*float64(len(s)-1))]
}

// allocsPerFrame counts heap allocations while one detector, warmed up,
// processes the frames of a clip.
func allocsPerFrame(it vadeval.Item) float64 {
	d, err := vad.New(it.Rate, vad.Config{})
	if err != nil {
		return math.NaN()
	}
	n := d.FrameSize()
	frames := len(it.Samples) / n
	if frames < 10 {
		return math.NaN()
	}
	for i := 0; i < 5; i++ {
		d.Process(it.Samples[i*n : (i+1)*n])
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 5; i < frames; i++ {
		d.Process(it.Samples[i*n : (i+1)*n])
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / float64(frames-5)
}

// finite replaces undefined values (NaN, as for ROC-AUC on a set with one
// class) by -1, which JSON can carry.
func finite(vs ...*float64) {
	for _, v := range vs {
		if math.IsNaN(*v) || math.IsInf(*v, 0) {
			*v = -1
		}
	}
}

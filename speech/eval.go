package speech

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/audio"
)

// OutOfScope is the label of requests no intent handles, in labels files
// and in EvalResult.Predicted.
const OutOfScope = "oos"

// NoResult is EvalResult.Predicted when the pipeline produced no final
// result (no speech detected, or recognition failed).
const NoResult = "(none)"

// EvalItem is one labelled recording.
type EvalItem struct {
	Path   string // WAV file
	Intent string // expected intent; OutOfScope for out-of-scope requests
	Text   string // reference transcript; "" when unknown
}

// ReadLabels reads a labels CSV ("file,intent[,text]", an optional header
// row whose first field is "file"); paths are relative to the CSV's
// directory.
func ReadLabels(path string) ([]EvalItem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		br.Discard(3) // a byte-order mark, as spreadsheets write
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	r.Comment = '#'
	dir := filepath.Dir(path)
	var items []EvalItem
	for first := true; ; first = false {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) < 2 {
			return nil, fmt.Errorf("%s:%d: want file,intent[,text]", path, line)
		}
		if first && isLabelsHeader(rec) {
			continue
		}
		it := EvalItem{Path: strings.TrimSpace(rec[0]), Intent: strings.TrimSpace(rec[1])}
		if len(rec) > 2 {
			it.Text = strings.TrimSpace(rec[2])
		}
		if !filepath.IsAbs(it.Path) {
			it.Path = filepath.Join(dir, it.Path)
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%s: no labelled files", path)
	}
	return items, nil
}

// isLabelsHeader tells a header row (file,intent,text or the like) from
// the first labelled file.
func isLabelsHeader(rec []string) bool {
	switch strings.ToLower(strings.TrimSpace(rec[0])) {
	case "file", "path", "wav", "audio", "filename":
		return true
	}
	switch strings.ToLower(strings.TrimSpace(rec[1])) {
	case "intent", "label":
		return true
	}
	return false
}

// EvalResult is the outcome for one file.
type EvalResult struct {
	Item       EvalItem
	Heard      string  // recognized text of the first final result
	Confidence float64 // recognizer confidence
	// Alternatives are the recognizer's further hypotheses.
	Alternatives []asr.Alternative
	Predicted    string // intent, OutOfScope or NoResult
	// TurnConfidence is the Final event's Confidence: how sure the
	// pipeline is of Predicted (see Event.Confidence).
	TurnConfidence float64
	IntentConf     float64 // classifier confidence
	Correct        bool
	Errs           int           // word errors against Item.Text
	Words          int           // words in Item.Text
	Processing     time.Duration // from the frame that closed the turn to the result
	Audio          time.Duration
	Err            error
}

// EvalReport sums up an evaluation.
type EvalReport struct {
	N              int     `json:"n"`
	IntentAccuracy float64 `json:"intent_accuracy"`
	// WER is word errors over reference words, for items with text; -1
	// when no item has text.
	WER float64 `json:"wer"`
	// SentenceAccuracy is the share of items with text heard exactly; -1
	// when no item has text.
	SentenceAccuracy float64 `json:"sentence_accuracy"`
	// RTF is process CPU seconds per second of audio.
	RTF float64 `json:"rtf"`
	// EndpointMS is the trailing silence the endpointer waits for.
	EndpointMS float64 `json:"endpoint_ms"`
	// LatencyP50MS and LatencyP95MS are from the caller's last syllable to
	// the dialog having the intent: EndpointMS plus processing.
	LatencyP50MS float64 `json:"latency_p50_ms"`
	LatencyP95MS float64 `json:"latency_p95_ms"`
	NoResult     int     `json:"no_result"`
	Errors       int     `json:"errors"`
	AudioSeconds float64 `json:"audio_seconds"`
	CPUSeconds   float64 `json:"cpu_seconds"`
	Engine       string  `json:"engine"`
	// ConfidenceAUC is the ROC-AUC of TurnConfidence as a detector of
	// right answers (0.5: no better than chance; -1 when all answers are
	// right or all wrong).
	ConfidenceAUC float64 `json:"confidence_auc"`
	// AtCoverage is the accuracy among the most confident answers at a
	// few coverages, with the confidence threshold that gives each.
	AtCoverage []CoveragePoint `json:"at_coverage,omitempty"`
}

// CoveragePoint is the accuracy of the answers whose TurnConfidence is
// at least MinConfidence; Coverage is their share of all items.
type CoveragePoint struct {
	Coverage      float64 `json:"coverage"`
	MinConfidence float64 `json:"min_confidence"`
	Accuracy      float64 `json:"accuracy"`
}

// coverageCurve returns the ROC-AUC of conf for telling right (ok) from
// wrong answers and the accuracy at the coverages asked for, over n items
// (items with no answer count as wrong and are never covered: pass them
// with confidence -1).
func coverageCurve(conf []float64, ok []bool, coverages []float64) (float64, []CoveragePoint) {
	type sc struct {
		c  float64
		ok bool
	}
	all := make([]sc, len(conf))
	var pos, neg float64
	for i := range conf {
		all[i] = sc{conf[i], ok[i]}
		if ok[i] {
			pos++
		} else {
			neg++
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].c > all[j].c })
	auc := -1.0
	if pos > 0 && neg > 0 {
		// Mann-Whitney over groups of equal confidence (sorted high to
		// low): each right answer beats the wrong ones below its group and
		// ties half of those in it.
		var beat, wrongSeen float64
		for i := 0; i < len(all); {
			j := i
			var p, q float64
			for ; j < len(all) && all[j].c == all[i].c; j++ {
				if all[j].ok {
					p++
				} else {
					q++
				}
			}
			wrongSeen += q
			beat += p*(neg-wrongSeen) + p*q/2
			i = j
		}
		auc = beat / (pos * neg)
	}
	var pts []CoveragePoint
	for _, cv := range coverages {
		k := int(math.Round(cv * float64(len(all))))
		if k <= 0 || k > len(all) || all[k-1].c < 0 {
			continue
		}
		// Include every answer tied with the last one taken.
		for k < len(all) && all[k].c == all[k-1].c {
			k++
		}
		var right int
		for _, x := range all[:k] {
			if x.ok {
				right++
			}
		}
		pts = append(pts, CoveragePoint{Coverage: float64(k) / float64(len(all)), MinConfidence: all[k-1].c, Accuracy: float64(right) / float64(k)})
	}
	return auc, pts
}

// Evaluate runs every item through a Listener built from cfg, frame by
// frame as a live call would (20 ms frames, VAD, endpointing, pre-roll,
// recognizer, classifier), and calls each with every result. Files at
// rates other than 8 and 16 kHz are resampled to 16 kHz.
func Evaluate(ctx context.Context, rec asr.Recognizer, cfg Config, items []EvalItem, each func(EvalResult)) (EvalReport, error) {
	rep := EvalReport{N: len(items), Engine: rec.Name(), WER: -1, SentenceAccuracy: -1}
	cpu0 := cpuTime()
	var lat []time.Duration
	var errs, words, exact, withText, correct int
	var confs []float64
	var oks []bool
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		r := evalOne(ctx, rec, cfg, it)
		if r.Err != nil {
			rep.Errors++
		}
		if r.Predicted == NoResult {
			rep.NoResult++
		} else {
			lat = append(lat, r.Processing)
		}
		if r.Correct {
			correct++
		}
		c := r.TurnConfidence
		if r.Predicted == NoResult {
			c = -1
		}
		confs = append(confs, c)
		oks = append(oks, r.Correct)
		if it.Text != "" {
			withText++
			errs += r.Errs
			words += r.Words
			if r.Errs == 0 {
				exact++
			}
		}
		rep.AudioSeconds += r.Audio.Seconds()
		if each != nil {
			each(r)
		}
	}
	rep.CPUSeconds = (cpuTime() - cpu0).Seconds()
	if rep.AudioSeconds > 0 {
		rep.RTF = rep.CPUSeconds / rep.AudioSeconds
	}
	if rep.N > 0 {
		rep.IntentAccuracy = float64(correct) / float64(rep.N)
	}
	if withText > 0 && words > 0 {
		rep.WER = float64(errs) / float64(words)
		rep.SentenceAccuracy = float64(exact) / float64(withText)
	}
	rep.ConfidenceAUC, rep.AtCoverage = coverageCurve(confs, oks, []float64{0.5, 0.7, 0.8, 0.9})
	ep := cfg.Endpoint
	if ep.TrailingSilence <= 0 {
		ep = defaultEndpoint(ep)
	}
	rep.EndpointMS = float64(ep.TrailingSilence) / float64(time.Millisecond)
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		p := func(q float64) float64 {
			d := lat[min(len(lat)-1, int(q*float64(len(lat))))]
			return rep.EndpointMS + float64(d)/float64(time.Millisecond)
		}
		rep.LatencyP50MS, rep.LatencyP95MS = p(0.5), p(0.95)
	}
	return rep, nil
}

func evalOne(ctx context.Context, rec asr.Recognizer, cfg Config, it EvalItem) EvalResult {
	r := EvalResult{Item: it, Predicted: NoResult}
	if it.Text != "" {
		r.Errs, r.Words = asr.WordErrors(it.Text, "")
	}
	clip, err := audio.ReadWAVFile(it.Path)
	if err != nil {
		r.Err = err
		return r
	}
	switch {
	case audio.Narrowband(clip.Samples, clip.Rate):
		// Telephone audio stored at a wider rate (an 8 kHz call saved at
		// 16 or 48 kHz) is heard as the 8 kHz audio it is: the recognizer
		// treats it as narrowband, as it would the live call.
		clip = audio.Clip{Rate: audio.Rate8k, Samples: audio.Resample(clip.Samples, clip.Rate, audio.Rate8k)}
	case clip.Rate != audio.Rate8k && clip.Rate != audio.Rate16k:
		clip = audio.Clip{Rate: audio.Rate16k, Samples: audio.Resample(clip.Samples, clip.Rate, audio.Rate16k)}
	}
	r.Audio = clip.Duration()
	cfg.Rate = clip.Rate
	cfg.PartialEvery = 0
	l, err := New(ctx, rec, cfg)
	if err != nil {
		r.Err = err
		return r
	}
	defer l.Close()
	n := audio.SamplesPer(clip.Rate, audio.FrameDuration)
	var final *Event
	take := func(t0 time.Time) {
		for {
			select {
			case e := <-l.Events():
				switch e.Type {
				case Final:
					if final == nil {
						e := e
						final = &e
						r.Processing = time.Since(t0)
					}
				case Error:
					if r.Err == nil {
						r.Err = e.Err
					}
				}
			default:
				return
			}
		}
	}
	start := time.Now()
	for off := 0; off < len(clip.Samples) && final == nil; off += n {
		if cfg.Realtime {
			time.Sleep(time.Until(start.Add(time.Duration(off) * time.Second / time.Duration(clip.Rate))))
		}
		t0 := time.Now()
		if err := l.WriteFrame(audio.Frame{Rate: clip.Rate, Samples: clip.Samples[off:min(off+n, len(clip.Samples))]}); err != nil {
			r.Err = err
			return r
		}
		if err := l.Sync(ctx); err != nil {
			r.Err = err
			return r
		}
		take(t0)
	}
	if final == nil {
		t0 := time.Now()
		if l.EndTurn() {
			if err := l.Sync(ctx); err != nil {
				r.Err = err
				return r
			}
			take(t0)
		}
	}
	if final == nil {
		return r
	}
	r.Heard = final.Result.Text
	r.Confidence = final.Result.Confidence
	r.TurnConfidence = final.Confidence
	r.Alternatives = final.Result.Alternatives
	switch {
	case final.Intent == nil || final.Intent.OutOfScope:
		r.Predicted = OutOfScope
		if final.Intent != nil {
			r.IntentConf = final.Intent.Confidence
		}
	default:
		r.Predicted = final.Intent.Intent
		r.IntentConf = final.Intent.Confidence
	}
	r.Correct = r.Predicted == it.Intent
	if it.Text != "" {
		r.Errs, r.Words = asr.WordErrors(it.Text, r.Heard)
	}
	return r
}

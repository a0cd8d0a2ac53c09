package vadeval

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Scorer is a voice activity detector for one stream: Process takes 20 ms
// of audio and returns the speech probability of the latest 20 ms.
type Scorer interface {
	Process(samples []int16) float32
}

// Result summarises a detector on a set.
type Result struct {
	Items      int     `json:"items"`
	Hops       int     `json:"hops"`
	SpeechHops int     `json:"speech_hops"`
	AUC        float64 `json:"roc_auc"`
	Threshold  float32 `json:"threshold"`
	Precision  float64 `json:"precision"`
	Recall     float64 `json:"recall"`
	F1         float64 `json:"f1"`
	FPR        float64 `json:"false_positive_rate"`
	// NsPerHop is the detector's wall time per 20 ms hop, in nanoseconds.
	NsPerHop float64 `json:"ns_per_frame"`
	// FPRByBackground is the false-positive rate on the non-speech hops of
	// each kind of background.
	FPRByBackground map[string]float64 `json:"fpr_by_background"`
}

// Evaluate runs a fresh scorer per item over 20 ms frames and scores the
// probabilities against the labels; thr is the decision threshold for
// precision and recall. It returns the per-item probabilities too.
func Evaluate(items []Item, newScorer func(rate int) (Scorer, error), thr float32) (Result, [][]float32, error) {
	res := Result{Items: len(items), Threshold: thr, FPRByBackground: map[string]float64{}}
	var all []float32
	var labels []bool
	perItem := make([][]float32, len(items))
	var spent time.Duration
	type fp struct{ fp, neg int }
	byBG := map[string]*fp{}
	for i, it := range items {
		sc, err := newScorer(it.Rate)
		if err != nil {
			return res, nil, fmt.Errorf("%s: %w", it.Name, err)
		}
		hop := it.Rate * HopMs / 1000
		probs := make([]float32, len(it.Speech))
		start := time.Now()
		for h := range probs {
			probs[h] = sc.Process(it.Samples[h*hop : (h+1)*hop])
		}
		spent += time.Since(start)
		perItem[i] = probs
		all = append(all, probs...)
		labels = append(labels, it.Speech...)
		k := BackgroundKind(it.Background)
		if byBG[k] == nil {
			byBG[k] = &fp{}
		}
		for h, p := range probs {
			if !it.Speech[h] {
				byBG[k].neg++
				if p >= thr {
					byBG[k].fp++
				}
			}
		}
	}
	res.Hops = len(all)
	for _, l := range labels {
		if l {
			res.SpeechHops++
		}
	}
	res.AUC = ROCAUC(all, labels)
	c := Threshold(all, labels, thr)
	res.Precision, res.Recall, res.F1, res.FPR = c.Precision(), c.Recall(), c.F1(), c.FalsePositiveRate()
	if res.Hops > 0 {
		res.NsPerHop = float64(spent.Nanoseconds()) / float64(res.Hops)
	}
	kinds := make([]string, 0, len(byBG))
	for k := range byBG {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		if v := byBG[k]; v.neg > 0 {
			res.FPRByBackground[k] = float64(v.fp) / float64(v.neg)
		}
	}
	return res, perItem, nil
}

// BackgroundKind groups a background description into a few kinds:
// silence, noise, hum, room (recorded noise), tones, dtmf, music, other.
func BackgroundKind(bg string) string {
	switch {
	case bg == "silence":
		return "silence"
	case strings.HasPrefix(bg, "white"), strings.HasPrefix(bg, "pink"):
		return "noise"
	case strings.HasPrefix(bg, "hum"):
		return "hum"
	case strings.HasPrefix(bg, "noise:"):
		return "room"
	case strings.HasPrefix(bg, "music:"):
		return "music"
	case bg == "dtmf":
		return "dtmf"
	case strings.Contains(bg, "tone"), strings.HasPrefix(bg, "ringback"), bg == "busy":
		return "tones"
	case bg == "":
		return "unknown"
	}
	return "other"
}

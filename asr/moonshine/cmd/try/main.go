// Command try measures the moonshine engine on a labelled speech set
// (labels.csv: file,intent,text plus intents.yaml), for tuning on dev
// splits:
//
//	go run ./asr/moonshine/cmd/try -set /tmp/eval/digits-human-dev -grammar digit
//	go run ./asr/moonshine/cmd/try -set /tmp/eval/bank-dev -intents
//
// Each file is decoded whole (no endpointer) unless -intents, which runs
// the speech pipeline with the intent classifier as `ivr eval speech`
// does. It prints the word error rate against the reference texts, the
// sentence accuracy, for digit sets the single-digit accuracy (the
// recognized text against the label: "oh" counts as zero), and CPU use.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/asr/moonshine"
	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/nlu"
	"github.com/openivr/ivr/speech"
)

func main() {
	set := flag.String("set", "", "directory with labels.csv and intents.yaml")
	grammar := flag.String("grammar", "", `hints: "digit", "digits", "yesno"; "" uses the intents' phrases`)
	noHints := flag.Bool("nohints", false, "decode without hints (free transcript only)")
	intents := flag.Bool("intents", false, "run the speech pipeline with the intent classifier (as ivr eval speech)")
	vote := flag.Bool("vote", true, "with -intents: classify by vote over the alternatives")
	peak := flag.Float64("peak", moonshine.DefaultConditioning.PeakTarget, "peak normalisation target (0: off)")
	target := flag.Float64("target-db", moonshine.DefaultConditioning.TargetDB, "speech level target, dBFS (0: use -peak)")
	maxGain := flag.Float64("max-gain-db", moonshine.DefaultConditioning.MaxGainDB, "cap on the normalisation gain, dB (0: 30)")
	trimDB := flag.Float64("trim-db", moonshine.DefaultConditioning.TrimBelowDB, "trim lead/trail frames this many dB under the loudest (0: off)")
	trimPad := flag.Duration("trim-pad", moonshine.DefaultConditioning.TrimPad, "audio kept around the trimmed speech")
	padLead := flag.Duration("pad-lead", moonshine.DefaultConditioning.PadLead, "silence added before the audio")
	padTrail := flag.Duration("pad-trail", moonshine.DefaultConditioning.PadTrail, "silence added after the audio")
	calib := flag.Float64("calib", moonshine.DefaultConfig().Calibration, "closed grammars: power of the silence prior divided out (0: off)")
	temp := flag.Float64("alt-temp", moonshine.DefaultConfig().AltTemperature, "phrase alternatives: temperature of their confidences (0: 1)")
	beam := flag.Int("beam", moonshine.DefaultConfig().Beam, "beam width of the free decode (0, 1: greedy)")
	fill := flag.Float64("fill-dbfs", 0, "narrowband: band-fill noise level above 4.2 kHz, dBFS (0: plain resampling)")
	fold := flag.Float64("fold-db", 0, "narrowband: mirror image gain, dB (0: none)")
	margin := flag.Float64("alt-margin", 0, "phrase alternatives: margin in nats under the free decode (0: no phrase scoring)")
	verbose := flag.Bool("v", false, "print every file")
	flag.Parse()
	if *set == "" {
		flag.Usage()
		os.Exit(2)
	}
	if strings.Contains(filepath.Base(*set), "test") {
		fmt.Fprintln(os.Stderr, "try: refusing a test split; tune on dev")
		os.Exit(2)
	}
	cfg := moonshine.DefaultConfig()
	cfg.Condition = moonshine.Conditioning{PeakTarget: *peak, TargetDB: *target, MaxGainDB: *maxGain, TrimBelowDB: *trimDB, TrimPad: *trimPad, PadLead: *padLead, PadTrail: *padTrail}
	cfg.AltMargin = *margin
	if *fill != 0 || *fold != 0 {
		cc := asr.DefaultCondition
		cc.FillDBFS, cc.FoldDB = *fill, *fold
		cfg.Condition.Band = &cc
	}
	cfg.Beam = *beam
	cfg.AltTemperature = *temp
	cfg.Calibration = *calib
	rec, err := moonshine.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "try:", err)
		os.Exit(1)
	}
	items, err := speech.ReadLabels(filepath.Join(*set, "labels.csv"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "try:", err)
		os.Exit(1)
	}
	file, err := nlu.LoadFile(filepath.Join(*set, "intents.yaml"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "try:", err)
		os.Exit(1)
	}
	hints := speech.HintsFromIntents(file.Intents, file.OutOfScope, speech.DefaultEscapeWords)
	if *grammar != "" {
		hints = asr.Hints{Grammar: *grammar, EscapeWords: speech.DefaultEscapeWords}
	}
	if *noHints {
		hints = asr.Hints{}
	}
	ctx := context.Background()
	if *intents {
		clf, err := nlu.Train(file.Intents, nlu.Options{OutOfScope: file.OutOfScope})
		if err != nil {
			fmt.Fprintln(os.Stderr, "try:", err)
			os.Exit(1)
		}
		scfg := speech.Config{Hints: hints, Classifier: clf, ClassifyBestOnly: !*vote}
		rep, err := speech.Evaluate(ctx, rec, scfg, items, func(r speech.EvalResult) {
			if *verbose {
				mark := "ok "
				if !r.Correct {
					mark = "BAD"
				}
				fmt.Printf("%s %s want=%s got=%s heard=%q conf=%.2f alts=%v ref=%q\n", mark, filepath.Base(r.Item.Path), r.Item.Intent, r.Predicted, r.Heard, r.Confidence, r.Alternatives, r.Item.Text)
			}
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "try:", err)
			os.Exit(1)
		}
		b, _ := json.Marshal(rep)
		fmt.Println(string(b))
		return
	}
	var errs, words, exact, digitOK, digitN int
	var lat []time.Duration
	var audioSec float64
	t0 := time.Now()
	for _, it := range items {
		clip, err := audio.ReadWAVFile(it.Path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "try:", err)
			os.Exit(1)
		}
		audioSec += clip.Duration().Seconds()
		s, err := rec.NewStream(ctx, clip.Rate, hints)
		if err != nil {
			fmt.Fprintln(os.Stderr, "try:", err)
			os.Exit(1)
		}
		s.Write(clip.Samples)
		t := time.Now()
		res, err := s.Finish(ctx)
		lat = append(lat, time.Since(t))
		s.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, "try:", it.Path, err)
			os.Exit(1)
		}
		e, n := asr.WordErrors(it.Text, res.Text)
		errs += e
		words += n
		if e == 0 {
			exact++
		}
		isDigit := false
		for _, d := range asr.DigitWords {
			isDigit = isDigit || it.Intent == d
		}
		ok := true
		if isDigit {
			digitN++
			got := res.Text
			if got == "oh" {
				got = "zero"
			}
			ok = got == it.Intent
			if ok {
				digitOK++
			}
		}
		if *verbose || !ok {
			mark := "ok "
			if !ok || e > 0 {
				mark = "BAD"
			}
			fmt.Printf("%s %s ref=%q got=%q conf=%.2f alts=%v\n", mark, filepath.Base(it.Path), it.Text, res.Text, res.Confidence, res.Alternatives)
		}
	}
	wall := time.Since(t0)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	out := map[string]any{
		"set": filepath.Base(*set), "n": len(items), "grammar": *grammar, "nohints": *noHints,
		"wer": float64(errs) / float64(max(1, words)), "sentence_accuracy": float64(exact) / float64(len(items)),
		"audio_s": audioSec, "wall_s": wall.Seconds(), "rtf_wall": wall.Seconds() / audioSec,
		"finish_p50_ms": lat[len(lat)/2].Milliseconds(), "finish_p95_ms": lat[min(len(lat)-1, len(lat)*95/100)].Milliseconds(),
	}
	if digitN > 0 {
		out["digit_accuracy"] = float64(digitOK) / float64(digitN)
		out["digit_n"] = digitN
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}

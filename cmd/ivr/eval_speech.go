package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/asr/moonshine"
	_ "github.com/openivr/ivr/asr/openai" // registers the "openai" engine
	"github.com/openivr/ivr/asr/sphinx"
	"github.com/openivr/ivr/nlu"
	"github.com/openivr/ivr/speech"
	"github.com/openivr/ivr/vad"
)

func init() {
	register("eval speech", "evaluate speech recognition + intents on labelled WAV files", runEvalSpeech)
}

func runEvalSpeech(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eval speech", flag.ContinueOnError)
	fs.SetOutput(stderr)
	intentsPath := fs.String("intents", "", "intents YAML file (required)")
	labels := fs.String("labels", "", "labels CSV: file,intent[,text]; paths relative to the CSV (required)")
	engine := fs.String("engine", "", fmt.Sprintf("recognizer engine (built in: %v); default: the server's default (moonshine when installed, else sphinx)", asr.Available()))
	grammar := fs.String("grammar", "", `closed grammar instead of the intents' phrases: "digits" or "yesno"`)
	quiet := fs.Bool("q", false, "print only the final JSON line")
	minConf := fs.Float64("min-confidence", 0, "also report coverage and accuracy of the results whose confidence (speech.Event.Confidence: recognizer and classifier together) is at least this (a dialog confirms or re-prompts below it)")
	vote := fs.Bool("vote", true, "classify the recognizer's alternatives too and take the label with the most confidence behind it")
	adapt := fs.String("adapt-labels", "", "labels CSV of recordings (e.g. a train split of the intents' own examples) whose recognized text is added to the classifier's training examples, so it learns the recognizer's errors; never the set being evaluated")
	trailing := fs.Duration("trailing-silence", 0, "endpointer trailing silence (0: the endpointer default)")
	epThr := fs.Float64("ep-threshold", 0, "endpointer: speech probability that starts a turn (0: the endpointer default)")
	// Remote engines.
	baseURL := fs.String("base-url", "", "OpenAI-compatible base URL (engine openai)")
	model := fs.String("model", "", "transcription model (engine openai)")
	language := fs.String("language", "en", "language code (engine openai)")
	timeout := fs.Duration("timeout", 0, "per-request timeout (engine openai)")
	// Embedded engine tuning (for dev-set experiments; defaults are tuned).
	def := sphinx.DefaultConfig()
	fill := fs.Float64("fill-dbfs", def.Condition.FillDBFS, "sphinx: band-fill noise level, dBFS (0 disables)")
	target := fs.Float64("target-dbfs", def.TargetDBFS, "sphinx: batch mode: speech level the utterance is scaled to, dBFS (0 disables)")
	fold := fs.Float64("fold-db", def.Condition.FoldDB, "sphinx: gain of the mirrored narrowband image in 4-8 kHz, dB (0 disables)")
	gfold := fs.Float64("grammar-fold-db", def.GrammarFoldDB, "sphinx: fold gain for closed grammars, dB (0 disables)")
	nbest := fs.Int("nbest", def.NBest, "sphinx: alternatives returned with a final result")
	nbestPaths := fs.Int("nbest-paths", def.NBestPaths, "sphinx: lattice paths confidences are computed from")
	ascale := fs.Float64("ascale", def.AcousticScale, "sphinx: scale of path scores in the confidence softmax")
	phraseMode := fs.String("phrase-mode", def.PhraseMode, "sphinx: lm (bigram model from phrases) or jsgf (exact phrases)")
	common := fs.Bool("lm-common-words", len(def.LM.ExtraWords) > 0, "sphinx: add sphinx.CommonWords to the phrase LM")
	uniform := fs.Float64("lm-uniform", def.LM.UniformWeight, "sphinx: uniform weight mixed into the phrase LM unigrams")
	batch := fs.Bool("batch", def.Batch, "sphinx: decode each utterance whole at its end (batch CMN)")
	batchG := fs.Bool("batch-grammars", def.BatchGrammars, "sphinx: decode closed grammars whole at their end")
	gwip := fs.Float64("grammar-wip", def.GrammarWIP, "sphinx: word insertion penalty of closed grammars (0: decoder default)")
	exactMin := fs.Float64("phrase-grammar-min", def.PhraseGrammarMin, "sphinx: confidence at which the parallel exact-phrase grammar's result replaces the phrase LM's (0: no second pass)")
	cmnInit := fs.String("cmn-init", "", `sphinx: live CMN prior mean for narrowband input, comma-separated, or "model" for the model's -cmninit ("" keeps the tuned default)`)
	cmnPrior := fs.Int("cmn-prior", def.CMNPrior, "sphinx: weight of the live CMN prior mean, in 10 ms frames (0: 500)")
	cmnAdapt := fs.Bool("cmn-adapt", def.CMNAdapt, "sphinx: fold each write into the live CMN mean")
	mllr := fs.String("mllr", def.NarrowbandMLLR, `sphinx: MLLR transform for narrowband input: "" built in, "none", or a file from mllr_solve`)
	modelDir := fs.String("model-dir", def.ModelDir, "sphinx: model directory (en-us/ and cmudict-en-us.dict)")
	bweModel := fs.String("bwe", def.BWE, `sphinx: bandwidth extension of narrowband input: "none", "builtin" or a model file (asr/bwe)`)
	bweGain := fs.Float64("bwe-gain-db", def.BWEGainDB, "sphinx: gain of the synthesized high band, dB")
	bweGrammars := fs.String("bwe-grammars", strings.Join(def.BWEGrammars, ","), "sphinx: closed grammars that get the bandwidth extension, comma-separated")
	bweCombine := fs.Bool("bwe-combine", def.BWECombine, "sphinx: decode with and without the bandwidth extension and average the confidences")
	bwePhrases := fs.Bool("bwe-phrases", def.BWEPhrases, "sphinx: bandwidth extension for open requests too (not only closed grammars)")
	condSeed := fs.Uint64("cond-seed", def.Condition.Seed, "sphinx: seed of the band-fill and bandwidth extension noise")
	extra := fs.String("sphinx-args", "", `sphinx: extra decoder flags, e.g. "-wip 1e-4 -lw 8"`)
	realtime := fs.Bool("realtime", false, "feed each file at the pace of a live call: the latency then includes what the engine does during the caller's pause (slow: as long as the audio)")
	prefetch := fs.Duration("prefetch-after", 0, "quiet inside a turn after which engines start their final pass (0: the listener default, half the trailing silence; negative: off)")
	second := fs.String("second", "auto", `a second recognizer for open requests whose answer replaces the first's when more confident (speech.Config.Second): an engine name, "none", or "auto" (sphinx when the engine is moonshine)`)
	firstWeight := fs.Float64("first-weight", 0, "with --second: the first recognizer's answer is kept unless the second's turn confidence exceeds it times this (0: the listener default)")
	msDef := moonshine.DefaultConfig()
	msAlt := fs.Float64("ms-alt-margin", msDef.AltMargin, "moonshine: hint phrases scoring within this (mean log-probability per token) of the free decode become alternatives (0: engine default; negative: none)")
	msBias := fs.Float64("ms-bias", msDef.Bias, "moonshine: bonus (nats) for tokens spelling the hint phrases' words in free decoding (0: off)")
	msDir := fs.String("ms-model-dir", "", "moonshine: model directory (default $IVR_SPEECH_DIR or "+moonshine.DefaultModelDir+")")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *intentsPath == "" || *labels == "" {
		fmt.Fprintln(stderr, "eval speech: --intents and --labels are required")
		fs.Usage()
		return 2
	}
	file, err := loadIntents(*intentsPath)
	if err != nil {
		fmt.Fprintln(stderr, "eval speech:", err)
		return 1
	}
	items, err := speech.ReadLabels(*labels)
	if err != nil {
		fmt.Fprintln(stderr, "eval speech:", err)
		return 1
	}
	var rec asr.Recognizer
	if *engine == "" {
		// The server's default: the neural recognizer when installed.
		*engine = moonshine.Name
		if err := moonshine.Available(*msDir); err != nil {
			*engine = sphinx.Name
			if !*quiet {
				fmt.Fprintln(stderr, "eval speech: moonshine unavailable, using sphinx:", err)
			}
		}
	}
	switch {
	case *engine == moonshine.Name:
		cfg := msDef
		cfg.ModelDir = *msDir
		cfg.AltMargin = *msAlt
		cfg.Bias = *msBias
		r, err := moonshine.New(cfg)
		if err != nil {
			fmt.Fprintln(stderr, "eval speech:", err)
			return 1
		}
		defer r.Close()
		rec = r
	case *engine == sphinx.Name:
		cfg := def
		cfg.Condition.FillDBFS = *fill
		cfg.TargetDBFS = *target
		cfg.Condition.FoldDB = *fold
		cfg.GrammarFoldDB = *gfold
		cfg.NBest = *nbest
		cfg.ModelDir = *modelDir
		cfg.NarrowbandMLLR = *mllr
		cfg.NBestPaths = *nbestPaths
		cfg.AcousticScale = *ascale
		cfg.PhraseMode = *phraseMode
		cfg.LM.UniformWeight = *uniform
		cfg.LM.ExtraWords = nil
		if *common {
			cfg.LM.ExtraWords = sphinx.CommonWords
		}
		cfg.Args = strings.Fields(*extra)
		cfg.BWE = *bweModel
		cfg.BWEGainDB = *bweGain
		cfg.Condition.Seed = *condSeed
		cfg.BWEPhrases = *bwePhrases
		cfg.BWECombine = *bweCombine
		cfg.BWEGrammars = nil
		for _, g := range strings.Split(*bweGrammars, ",") {
			if g = strings.TrimSpace(g); g != "" {
				cfg.BWEGrammars = append(cfg.BWEGrammars, g)
			}
		}
		cfg.Batch = *batch
		cfg.BatchGrammars = *batchG
		cfg.GrammarWIP = *gwip
		cfg.PhraseGrammarMin = *exactMin
		cfg.CMNPrior = *cmnPrior
		cfg.CMNAdapt = *cmnAdapt
		switch *cmnInit {
		case "":
		case "model":
			cfg.CMNInitNarrow = nil
		default:
			cfg.CMNInitNarrow = nil
			for _, f := range strings.Split(*cmnInit, ",") {
				var v float32
				if _, err := fmt.Sscan(strings.TrimSpace(f), &v); err != nil {
					fmt.Fprintf(stderr, "eval speech: --cmn-init: %q: %v\n", f, err)
					return 2
				}
				cfg.CMNInitNarrow = append(cfg.CMNInitNarrow, v)
			}
		}
		r, err := sphinx.New(cfg)
		if err != nil {
			fmt.Fprintln(stderr, "eval speech:", err)
			return 1
		}
		defer r.Close()
		rec = r
	default:
		rec, err = asr.Open(*engine, asr.Options{
			BaseURL: *baseURL, APIKey: os.Getenv("OPENAI_API_KEY"), Model: *model,
			Language: *language, Timeout: *timeout,
		})
		if err != nil {
			fmt.Fprintln(stderr, "eval speech:", err)
			return 1
		}
		if c, ok := rec.(asr.Closer); ok {
			defer c.Close()
		}
	}
	hints := speech.HintsFromIntents(file.Intents, file.OutOfScope, speech.DefaultEscapeWords)
	if *grammar != "" {
		hints = asr.Hints{Grammar: *grammar, EscapeWords: speech.DefaultEscapeWords}
	}
	cfg := speech.Config{
		Hints:         hints,
		Endpoint:      vad.EndpointConfig{TrailingSilence: *trailing, NoInputTimeout: -1, Threshold: float32(*epThr)},
		FirstWeight:   *firstWeight,
		Realtime:      *realtime,
		PrefetchAfter: *prefetch,
	}
	if *second == "auto" {
		*second = "none"
		if *engine == moonshine.Name {
			*second = sphinx.Name
		}
	}
	if *second != "none" && *second != "" {
		r2, err := asr.Open(*second, asr.Options{})
		if err != nil {
			fmt.Fprintln(stderr, "eval speech: --second:", err)
			return 1
		}
		if c, ok := r2.(asr.Closer); ok {
			defer c.Close()
		}
		cfg.Second = r2
	}
	ctx := context.Background()
	intents, oos := file.Intents, file.OutOfScope
	if *adapt != "" {
		if intents, oos, err = adaptIntents(ctx, rec, cfg, *adapt, intents, oos); err != nil {
			fmt.Fprintln(stderr, "eval speech:", err)
			return 1
		}
	}
	clf, err := nlu.Train(intents, nlu.Options{OutOfScope: oos})
	if err != nil {
		fmt.Fprintln(stderr, "eval speech: train classifier:", err)
		return 1
	}
	cfg.Classifier = clf
	cfg.ClassifyBestOnly = !*vote
	var accepted, acceptedOK int
	each := func(r speech.EvalResult) {
		if r.Predicted != speech.NoResult && r.TurnConfidence >= *minConf {
			accepted++
			if r.Correct {
				acceptedOK++
			}
		}
		if *quiet {
			return
		}
		mark := "ok "
		if !r.Correct {
			mark = "BAD"
		}
		line := fmt.Sprintf("%s %s want=%s got=%s conf=%.2f heard=%q asr=%.2f sure=%.2f", mark, r.Item.Path, r.Item.Intent, r.Predicted, r.IntentConf, r.Heard, r.Confidence, r.TurnConfidence)
		for _, a := range r.Alternatives {
			line += fmt.Sprintf(" alt=%q/%.2f", a.Text, a.Confidence)
		}
		if r.Item.Text != "" {
			line += fmt.Sprintf(" ref=%q", r.Item.Text)
		}
		if r.Err != nil {
			line += " err=" + r.Err.Error()
		}
		fmt.Fprintln(stdout, line)
	}
	start := time.Now()
	rep, err := speech.Evaluate(ctx, rec, cfg, items, each)
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "eval speech:", err)
		return 1
	}
	if !*quiet {
		fmt.Fprintf(stdout, "# %d files in %s\n", rep.N, time.Since(start).Round(time.Millisecond))
	}
	var out any = rep
	if *minConf > 0 {
		type withCoverage struct {
			speech.EvalReport
			MinConfidence    float64 `json:"min_confidence"`
			Coverage         float64 `json:"coverage"`
			AcceptedAccuracy float64 `json:"accepted_accuracy"`
		}
		wc := withCoverage{EvalReport: rep, MinConfidence: *minConf}
		if rep.N > 0 {
			wc.Coverage = float64(accepted) / float64(rep.N)
		}
		if accepted > 0 {
			wc.AcceptedAccuracy = float64(acceptedOK) / float64(accepted)
		}
		out = wc
	}
	b, _ := json.Marshal(out)
	fmt.Fprintln(stdout, string(b))
	return 0
}

// adaptIntents recognizes the labelled recordings in labels with the
// pipeline of cfg (no classifier) and returns copies of the intents and
// out-of-scope examples with the recognized text of each recording added
// to its label's examples.
func adaptIntents(ctx context.Context, rec asr.Recognizer, cfg speech.Config, labels string, intents []nlu.Intent, oos []string) ([]nlu.Intent, []string, error) {
	items, err := speech.ReadLabels(labels)
	if err != nil {
		return nil, nil, err
	}
	idx := map[string]int{}
	out := make([]nlu.Intent, len(intents))
	for i, in := range intents {
		in.Examples = append([]string(nil), in.Examples...)
		out[i] = in
		idx[in.Name] = i
	}
	oos = append([]string(nil), oos...)
	cfg.Classifier = nil
	_, err = speech.Evaluate(ctx, rec, cfg, items, func(r speech.EvalResult) {
		if r.Heard == "" {
			return
		}
		if i, ok := idx[r.Item.Intent]; ok {
			out[i].Examples = append(out[i].Examples, r.Heard)
		} else if r.Item.Intent == speech.OutOfScope {
			oos = append(oos, r.Heard)
		}
	})
	return out, oos, err
}

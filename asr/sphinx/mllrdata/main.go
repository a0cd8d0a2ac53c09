// Command mllrdata prepares the adaptation data for the embedded engine's
// telephone MLLR transform (asr/sphinx/telephone.mllr): the Google Speech
// Commands test clips (human speakers; never an evaluation set's words,
// voices or recordings) sent through the evaluation telephone channel and
// conditioned as the recognizer conditions 8 kHz input, as 16 kHz WAV
// files with a sphinxtrain control file (ctl), transcripts (lsn) and
// dictionary (dict). With -mixw it also writes the model's mixture
// weights in sphinxtrain's format (bw needs them; the Debian model ships
// only the quantized sendump). train.sh runs the whole recipe.
//
//	go run ./asr/sphinx/mllrdata -clips /work/shared/data/speech/speech_commands -out /tmp/mllr -mixw /tmp/mllr/mixture_weights
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/asr/sphinx"
	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/speech/evalset"
)

func main() {
	clips := flag.String("clips", "/work/shared/data/speech/speech_commands", "Speech Commands directory with labels.csv (file,label)")
	out := flag.String("out", "", "output directory (required)")
	reps := flag.Int("reps", 2, "channel renderings per clip")
	mixw := flag.String("mixw", "", "also write the model's mixture weights (from sendump) to this file")
	model := flag.String("model", sphinx.DefaultModelDir, "model directory")
	def := sphinx.DefaultConfig()
	// The built-in transform was estimated without the extension (with
	// it, re-estimated, it measured worse: BENCHMARKS.md).
	bweModel := flag.String("bwe", "none", `bandwidth extension: "none", "builtin" or a model file`)
	bweGain := flag.Float64("bwe-gain-db", def.BWEGainDB, "gain of the synthesized band, dB")
	fold := flag.Float64("fold-db", def.Condition.FoldDB, "mirror image gain, dB (0: none)")
	flag.Parse()
	def.BWE, def.BWEGainDB, def.Condition.FoldDB = *bweModel, *bweGain, *fold
	cond, err := sphinx.ResolveCondition(def)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mllrdata:", err)
		os.Exit(1)
	}
	if *out == "" {
		fmt.Fprintln(os.Stderr, "mllrdata: -out is required")
		os.Exit(2)
	}
	if err := run(*clips, *out, *reps, *model, cond); err != nil {
		fmt.Fprintln(os.Stderr, "mllrdata:", err)
		os.Exit(1)
	}
	if *mixw != "" {
		if err := writeMixw(filepath.Join(*model, "en-us", "sendump"), *mixw); err != nil {
			fmt.Fprintln(os.Stderr, "mllrdata:", err)
			os.Exit(1)
		}
	}
}

func run(clips, out string, reps int, model string, cond asr.ConditionConfig) error {
	f, err := os.Open(filepath.Join(clips, "labels.csv"))
	if err != nil {
		return err
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(out, "wav"), 0o755); err != nil {
		return err
	}
	var ctl, lsn strings.Builder
	words := map[string]bool{}
	rng := rand.New(rand.NewPCG(7, 7))
	for _, r := range recs[1:] {
		if len(r) < 2 || r[1] == "_silence_" {
			continue
		}
		word := r[1]
		if word == "_unknown_" { // the file name starts with the word
			word = strings.SplitN(filepath.Base(r[0]), "_", 2)[0]
		}
		c, err := audio.ReadWAVFile(filepath.Join(clips, r[0]))
		if err != nil {
			return err
		}
		words[word] = true
		for k := 0; k < reps; k++ {
			ch := evalset.RandomChannel(rng)
			ch.TrailSec = 0.3
			n8 := ch.Apply(c, rng)
			cd, err := asr.NewConditioner(n8.Rate, cond)
			if err != nil {
				return err
			}
			s := cd.Flush(cd.Process(nil, n8.Samples))
			id := fmt.Sprintf("%s-%d", strings.TrimSuffix(strings.ReplaceAll(r[0], "/", "-"), ".wav"), k)
			if err := audio.WriteWAVFile(filepath.Join(out, "wav", id+".wav"), audio.Clip{Rate: cond.OutRate, Samples: s}); err != nil {
				return err
			}
			fmt.Fprintln(&ctl, id)
			fmt.Fprintf(&lsn, "<s> %s </s> (%s)\n", word, id)
		}
	}
	dict, err := os.ReadFile(filepath.Join(model, "cmudict-en-us.dict"))
	if err != nil {
		return err
	}
	var d strings.Builder
	for _, line := range strings.Split(string(dict), "\n") {
		w, _, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(w, '('); i > 0 {
			w = w[:i]
		}
		if words[w] {
			d.WriteString(line + "\n")
		}
	}
	for name, text := range map[string]string{"ctl": ctl.String(), "lsn": lsn.String(), "dict": d.String()} {
		if err := os.WriteFile(filepath.Join(out, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Command ttseval measures how well a recognizer understands each
// synthesized voice after a telephone channel, and how fast each voice
// starts: the numbers behind the embedded engine's default voice
// (BENCHMARKS.md, "Text-to-speech").
//
// For every voice it speaks a fixed set of IVR sentences (say-as markup
// expanded), at 8 kHz, through a G.711 mu-law round trip, upsampled to
// 16 kHz with a quiet noise floor filling the empty 4-8 kHz band, and
// decodes them with pocketsphinx_batch (Debian packages pocketsphinx,
// pocketsphinx-en-us) using either a grammar that loops over the test
// vocabulary (word accuracy without a language model's help) or the
// generic language model. Word accuracy is 1 - (substitutions + deletions
// + insertions) / reference words.
//
//	go run ./tts/ttseval -mode grammar
//	go run ./tts/ttseval -mode lm -voices flite/slt,espeak-ng/en-gb
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/openivr/ivr/tts"
	"github.com/openivr/ivr/tts/embedded"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ttseval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	voices := fs.String("voices", strings.Join(embedded.Voices(), ","), "comma-separated voices to measure")
	mode := fs.String("mode", "grammar", "recognizer: grammar (word loop over the test vocabulary) or lm (generic language model)")
	keep := fs.String("keep", "", "keep the channel audio (16 kHz raw) and decoder files in this directory")
	fill := fs.Float64("fill", -60, "band-fill noise level in dBFS above 4.2 kHz; 0 disables")
	wip := fs.Float64("wip", 0, "word insertion penalty; 0 is 1e-4 with the grammar (a word loop inserts freely otherwise) and pocketsphinx's 0.65 with the language model")
	channel := fs.String("channel", "telephone", "telephone (8 kHz, G.711, band fill) or clean (16 kHz straight from the engine, for reference)")
	model := fs.String("model", "/usr/share/pocketsphinx/model/en-us", "pocketsphinx model directory")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *mode != "grammar" && *mode != "lm" {
		fmt.Fprintf(stderr, "ttseval: mode %q (grammar or lm)\n", *mode)
		return 2
	}
	refs, err := references()
	if err != nil {
		fmt.Fprintln(stderr, "ttseval:", err)
		return 1
	}
	dict, err := loadDict(filepath.Join(*model, "cmudict-en-us.dict"))
	if err != nil {
		fmt.Fprintln(stderr, "ttseval:", err, "(apt-get install pocketsphinx-en-us)")
		return 1
	}
	if oov := missingWords(refs, dict); len(oov) > 0 {
		fmt.Fprintf(stderr, "ttseval: words not in the dictionary: %v\n", oov)
		return 1
	}
	dir := *keep
	if dir == "" {
		d, err := os.MkdirTemp("", "ttseval-")
		if err != nil {
			fmt.Fprintln(stderr, "ttseval:", err)
			return 1
		}
		defer os.RemoveAll(d)
		dir = d
	}
	if *wip == 0 {
		*wip = 1e-4
		if *mode == "lm" {
			*wip = 0.65
		}
	}
	if *channel != "telephone" && *channel != "clean" {
		fmt.Fprintf(stderr, "ttseval: channel %q (telephone or clean)\n", *channel)
		return 2
	}
	dec := decoder{model: *model, dir: dir, mode: *mode, wip: *wip}
	if *mode == "grammar" {
		if err := dec.writeGrammar(refs); err != nil {
			fmt.Fprintln(stderr, "ttseval:", err)
			return 1
		}
	}
	eng := embedded.New()
	ch := fmt.Sprintf("8 kHz, G.711 mu-law, 16 kHz with band fill %g dBFS", *fill)
	if *channel == "clean" {
		ch = "clean 16 kHz"
	}
	fmt.Fprintf(stdout, "%d sentences, %d words; pocketsphinx_batch %s (wip %g); channel: %s\n\n",
		len(refs), countWords(refs), *mode, *wip, ch)
	fmt.Fprintf(stdout, "| voice | word accuracy | sentences right | audio s | synth wall ms per s of audio | first audio ms (median) |\n|---|---|---|---|---|---|\n")
	for _, v := range strings.Split(*voices, ",") {
		v = strings.TrimSpace(v)
		r, err := evalVoice(context.Background(), eng, v, refs, dec, *fill, *channel == "clean")
		if err != nil {
			fmt.Fprintf(stderr, "ttseval: %s: %v\n", v, err)
			return 1
		}
		fmt.Fprintf(stdout, "| %s | %.1f %% | %d/%d | %.1f | %.0f | %.0f |\n", v, 100*r.accuracy, r.right, len(refs),
			r.audio.Seconds(), r.cpuPerSec, float64(r.firstAudio.Microseconds())/1000)
	}
	return 0
}

type result struct {
	accuracy   float64
	right      int
	audio      time.Duration
	cpuPerSec  float64       // ms of synthesis (wall time) per second of audio
	firstAudio time.Duration // median over sentences
}

func evalVoice(ctx context.Context, eng tts.Synthesizer, voice string, refs []sentence, dec decoder, fill float64, clean bool) (result, error) {
	rate := 8000
	if clean {
		rate = 16000
	}
	var r result
	var firsts []time.Duration
	var synth time.Duration
	ids := make([]string, len(refs))
	for i, ref := range refs {
		start := time.Now()
		st, err := eng.Synthesize(ctx, tts.Request{Text: ref.text, Voice: voice, Rate: rate})
		if err != nil {
			return r, err
		}
		if err := st.Wait(ctx); err != nil {
			return r, err
		}
		firsts = append(firsts, time.Since(start))
		clip, err := tts.ReadAll(ctx, st)
		if err != nil {
			return r, err
		}
		synth += time.Since(start)
		r.audio += clip.Duration()
		ids[i] = fmt.Sprintf("%s-%02d", safe(voice), i)
		pcm := clip.Samples
		if !clean {
			pcm = telephone(pcm, fill)
		}
		if err := dec.writeAudio(ids[i], pcm); err != nil {
			return r, err
		}
	}
	hyps, err := dec.decode(ids)
	if err != nil {
		return r, err
	}
	var errs, words int
	for i, ref := range refs {
		e := editDistance(ref.words, normalize(hyps[ids[i]]))
		errs += e
		words += len(ref.words)
		if e == 0 {
			r.right++
		}
	}
	r.accuracy = 1 - float64(errs)/float64(words)
	r.cpuPerSec = float64(synth.Milliseconds()) / r.audio.Seconds()
	sort.Slice(firsts, func(i, j int) bool { return firsts[i] < firsts[j] })
	r.firstAudio = firsts[len(firsts)/2]
	return r, nil
}

func safe(v string) string {
	return strings.NewReplacer("/", "_", "+", "_").Replace(v)
}

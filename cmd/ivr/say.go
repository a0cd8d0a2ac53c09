package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/tts"
	"github.com/openivr/ivr/tts/embedded"
	ttsopenai "github.com/openivr/ivr/tts/openai"
	"github.com/openivr/ivr/tts/sayas"
)

func init() { register("say", "speak a prompt into a WAV file to preview it", runSay) }

// runSay synthesizes one prompt, say-as markup included, into a WAV file
// at the rate callers hear.
func runSay(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("say", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: ivr say "text" [--voice V] -o out.wav

Text may carry say-as markup: {amount:112.40 GBP}, {digits:4271},
<say-as interpret-as="date">2025-03-04</say-as>. "-" reads the text from stdin.

flags:`)
		fs.PrintDefaults()
	}
	out := fs.String("o", "", "output WAV file (required)")
	voice := fs.String("voice", "", `voice: embedded "flite/slt", "espeak-ng/en-gb+f3"...; openai "alloy"... (default: the engine's)`)
	rate := fs.Int("rate", audio.Rate8k, "sample rate in Hz (8000 is what a G.711 caller hears; 0 = the engine's own)")
	engine := fs.String("engine", "embedded", "engine: embedded or openai (falls back to embedded on error)")
	baseURL := fs.String("base-url", "", "openai: API base URL including /v1 (default OpenAI's)")
	model := fs.String("model", "", "openai: speech model (default "+ttsopenai.DefaultModel+")")
	timeout := fs.Duration("timeout", ttsopenai.DefaultTimeout, "openai: wait for the first audio before falling back")
	raw := fs.Bool("raw", false, "do not expand say-as markup")
	list := fs.Bool("list-voices", false, "list the embedded voices and exit")
	subprocess := fs.Bool("subprocess", false, "embedded: run flite as a program even when it is linked in (to compare)")
	if err := fs.Parse(reorderFlags(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *list {
		for _, v := range embedded.Voices() {
			fmt.Fprintln(stdout, v)
		}
		fmt.Fprintf(stdout, "default: %s\n", embedded.DefaultVoice)
		return 0
	}
	text := strings.Join(fs.Args(), " ")
	if text == "-" {
		b, err := io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
		if err != nil {
			fmt.Fprintf(stderr, "ivr say: %v\n", err)
			return 1
		}
		text = string(b)
	}
	if strings.TrimSpace(text) == "" || *out == "" {
		fs.Usage()
		return 2
	}
	if !*raw {
		expanded, err := sayas.Expand(text)
		if err != nil {
			fmt.Fprintf(stderr, "ivr say: %v\n", err)
			return 1
		}
		text = expanded
	}

	emb := embedded.New()
	emb.Flite.Subprocess = *subprocess
	var s tts.Synthesizer = emb
	switch *engine {
	case "embedded":
	case "openai":
		o, err := ttsopenai.New(ttsopenai.Config{BaseURL: *baseURL, APIKey: os.Getenv("OPENAI_API_KEY"), Model: *model, Timeout: *timeout})
		if err != nil {
			fmt.Fprintf(stderr, "ivr say: %v\n", err)
			return 2
		}
		s = &tts.Fallback{Primary: o, Secondary: s, OnFallback: func(err error) {
			fmt.Fprintf(stderr, "ivr say: falling back to %s: %v\n", embedded.DefaultVoice, err)
		}}
	default:
		fmt.Fprintf(stderr, "ivr say: unknown engine %q (embedded or openai)\n", *engine)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	st, err := s.Synthesize(ctx, tts.Request{Text: text, Voice: *voice, Rate: *rate})
	if err != nil {
		fmt.Fprintf(stderr, "ivr say: %v\n", err)
		return 1
	}
	if err := st.Wait(ctx); err != nil {
		st.Close()
		fmt.Fprintf(stderr, "ivr say: %v\n", err)
		return 1
	}
	first := time.Since(start)
	clip, err := tts.ReadAll(ctx, st)
	if err != nil {
		fmt.Fprintf(stderr, "ivr say: %v\n", err)
		return 1
	}
	if err := audio.WriteWAVFile(*out, clip); err != nil {
		fmt.Fprintf(stderr, "ivr say: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %.2f s at %d Hz (first audio after %d ms, done after %d ms): %q\n",
		*out, clip.Duration().Seconds(), clip.Rate, first.Milliseconds(), time.Since(start).Milliseconds(), text)
	return 0
}

// reorderFlags moves flags after the text to the front, so both
// `ivr say "hi" -o x.wav` and `ivr say -o x.wav "hi"` work.
func reorderFlags(fs *flag.FlagSet, args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			rest = append(rest, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				continue
			}
			if i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		}
	}
	return append(flags, rest...)
}

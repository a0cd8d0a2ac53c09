package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/journey"
	"github.com/openivr/ivr/prompt"
	"github.com/openivr/ivr/tts"
	"github.com/openivr/ivr/tts/embedded"
)

func init() {
	register("test", "run caller journeys against a config (text, or --audio over a loopback SIP call)", runTest)
}

// runTest runs journey files against a config: those named, or every
// *.yaml in the journeys/ directory beside the config.
func runTest(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	audioMode := fs.Bool("audio", false, "synthesize the caller's words and call the line over loopback SIP (slow: real time)")
	voice := fs.String("caller-voice", "flite/rms", "voice of the caller in --audio mode (not the IVR's)")
	verbose := fs.Bool("v", false, "print each call's events")
	logLevel := fs.String("log-level", "error", "engine log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ivr test [--audio] [-v] CONFIG [JOURNEY...]\n\nWithout JOURNEY files, runs CONFIG's directory's journeys/*.yaml.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	cfgPath := fs.Arg(0)
	files := fs.Args()[1:]
	if len(files) == 0 {
		files, _ = filepath.Glob(filepath.Join(filepath.Dir(cfgPath), "journeys", "*.yaml"))
		sort.Strings(files)
		if len(files) == 0 {
			fmt.Fprintf(stderr, "ivr test: no journeys given and none in %s\n", filepath.Join(filepath.Dir(cfgPath), "journeys"))
			return 2
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "ivr test: --log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log) // libraries that log to the default logger follow --log-level too
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	// Check the config once, with its file:line errors.
	if _, err := config.Load(cfgPath); err != nil {
		fmt.Fprintln(stdout, err)
		return 1
	}
	o := journey.Options{Audio: *audioMode, Logger: log}
	if *audioMode {
		if err := audioOptions(ctx, cfgPath, *voice, &o, log); err != nil {
			fmt.Fprintf(stderr, "ivr test: %v\n", err)
			return 1
		}
	}
	failed, ran := 0, 0
	for _, f := range files {
		j, err := journey.Load(f)
		if err != nil {
			fmt.Fprintln(stdout, err)
			failed++
			continue
		}
		if *audioMode && j.TextOnly {
			fmt.Fprintf(stdout, "SKIP %s (text only)\n", j.Name)
			continue
		}
		cfg, err := config.Load(cfgPath) // fresh: the run points its backends at the journey's stand-in
		if err != nil {
			fmt.Fprintln(stdout, err)
			return 1
		}
		ran++
		res, err := journey.Run(ctx, cfg, j, o)
		if err != nil {
			fmt.Fprintf(stdout, "FAIL %s: %v\n", j.Name, err)
			failed++
			continue
		}
		status := "PASS"
		if !res.Passed() {
			status = "FAIL"
			failed++
		}
		fmt.Fprintf(stdout, "%s %s (%s, %s)\n", status, j.Name, f, res.Took.Round(time.Millisecond))
		for _, m := range res.Failures {
			fmt.Fprintf(stdout, "    %s\n", m)
		}
		if (*verbose || !res.Passed()) && res.Record != nil {
			fmt.Fprintf(stdout, "    path: %s\n", strings.Join(res.Record.Path, " > "))
			if *verbose {
				for _, e := range res.Record.Events {
					fmt.Fprintf(stdout, "    %-16s %-12s %s\n", e.Kind, e.Node, e.Text)
				}
			}
		}
	}
	fmt.Fprintf(stdout, "%d journeys, %d failed\n", ran, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

// audioOptions builds what audio mode needs: the line's prompts and
// recognizer, exactly as `ivr serve` builds them, and a caller voice.
func audioOptions(ctx context.Context, cfgPath, callerVoice string, o *journey.Options, log *slog.Logger) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	v, err := newVoice(cfg, log)
	if err != nil {
		return err
	}
	ps, err := prompt.Load(ctx, cfg, v, audio.Rate8k, audio.Rate16k)
	if err != nil {
		return err
	}
	listen, err := ears(cfg, log)
	if err != nil {
		return err
	}
	if listen == nil {
		return fmt.Errorf("--audio needs a speech recognizer for this line (built with cgo, speech.engine not none)")
	}
	synth := embedded.New()
	synth.Voice = callerVoice
	cache, err := tts.NewCache(filepath.Join(cfg.Resolve(cfg.DataDir), "tts-cache"), synth)
	if err != nil {
		return err
	}
	o.Prompts, o.Ears = ps, listen
	o.Speak = func(ctx context.Context, text string, rate int) (audio.Clip, error) {
		return cache.Render(ctx, tts.Request{Text: text, Voice: callerVoice, Rate: rate})
	}
	return nil
}

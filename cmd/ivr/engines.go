package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/openivr/ivr/asr"
	_ "github.com/openivr/ivr/asr/moonshine" // registers "moonshine" (cgo builds)
	_ "github.com/openivr/ivr/asr/openai"    // registers "openai"
	_ "github.com/openivr/ivr/asr/sphinx"    // registers "sphinx" (cgo builds)
	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/dialog"
	"github.com/openivr/ivr/speech"
	"github.com/openivr/ivr/tts"
	"github.com/openivr/ivr/tts/embedded"
	ttsopenai "github.com/openivr/ivr/tts/openai"
	"github.com/openivr/ivr/tts/sayas"
	"github.com/openivr/ivr/vad"
)

// voice renders text with the configured synthesizer through the on-disk
// prompt cache: prompts given as text are rendered once at load, and the
// flow's generated sentences once on first use.
type voice struct {
	cache *tts.Cache
	voice string
}

func newVoice(cfg *config.Config, log *slog.Logger) (*voice, error) {
	emb := embedded.New()
	emb.Voice = cfg.TTS.Voice
	// Register the voice now (flite linked in), not on the first call's
	// first prompt; with a remote engine, the fallback voice.
	warm := cfg.TTS.Voice
	if cfg.TTS.Engine == "openai" {
		warm = embedded.DefaultVoice
	}
	if err := emb.Warm(warm); err != nil {
		log.Warn("speech synthesis: voice not loaded ahead of use", "voice", warm, "err", err)
	}
	var synth tts.Synthesizer = emb
	if cfg.TTS.Engine == "openai" {
		remote, err := ttsopenai.New(ttsopenai.Config{BaseURL: cfg.TTS.BaseURL, APIKey: cfg.TTS.APIKey, Model: cfg.TTS.Model, Voice: cfg.TTS.Voice, Timeout: cfg.TTS.Timeout})
		if err != nil {
			return nil, fmt.Errorf("tts: %w", err)
		}
		synth = &tts.Fallback{Primary: remote, Secondary: emb, SecondaryVoice: embedded.DefaultVoice,
			OnFallback: func(err error) { log.Warn("speech synthesis fell back to the embedded engine", "err", err) }}
	}
	cache, err := tts.NewCache(filepath.Join(cfg.Resolve(cfg.DataDir), "tts-cache"), synth)
	if err != nil {
		return nil, err
	}
	return &voice{cache: cache, voice: cfg.TTS.Voice}, nil
}

// Render synthesizes a configured prompt's text (with say-as markup) at
// rate; the cache keeps it on disk for the next start.
func (v *voice) Render(ctx context.Context, text string, rate int) (audio.Clip, error) {
	return v.render(ctx, text, rate, v.cache.Render)
}

// Say synthesizes text a call generates (it may carry the caller's data):
// kept in memory, never on disk.
func (v *voice) Say(ctx context.Context, text string, rate int) (audio.Clip, error) {
	return v.render(ctx, text, rate, v.cache.Speak)
}

func (v *voice) render(ctx context.Context, text string, rate int, do func(context.Context, tts.Request) (audio.Clip, error)) (audio.Clip, error) {
	plain, err := sayas.Expand(text)
	if err != nil {
		return audio.Clip{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return do(ctx, tts.Request{Text: plain, Voice: v.voice, Rate: rate})
}

// recognizers are opened once per process: model loading takes seconds.
var (
	recMu  sync.Mutex
	recSet = map[string]asr.Recognizer{}
)

// defaultEngines are tried in order when the config names no engine: the
// neural recognizer when its files are installed, else PocketSphinx.
var defaultEngines = []string{"moonshine", "sphinx"}

func recognizer(cfg *config.Config) (asr.Recognizer, error) {
	name := cfg.Speech.Engine
	if name == "none" {
		return nil, nil
	}
	names := []string{name}
	if name == "" {
		names = defaultEngines
	}
	opts := asr.Options{BaseURL: cfg.Speech.BaseURL, APIKey: cfg.Speech.APIKey, Model: cfg.Speech.Model,
		Language: cfg.Speech.Language, Timeout: cfg.Speech.Timeout}
	recMu.Lock()
	defer recMu.Unlock()
	var errs []error
	for _, n := range names {
		key := fmt.Sprintf("%s|%+v", n, opts)
		if r, ok := recSet[key]; ok {
			return r, nil
		}
		r, err := asr.Open(n, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		recSet[key] = r
		return r, nil
	}
	return nil, errors.Join(errs...)
}

// secondRecognizer is the recognizer that also hears open requests
// (speech.Config.Second), or nil: by default PocketSphinx beside
// Moonshine.
func secondRecognizer(cfg *config.Config, first asr.Recognizer) (asr.Recognizer, error) {
	name := cfg.Speech.SecondEngine
	if name == "" && first.Name() == "moonshine" {
		name = "sphinx"
	}
	if name == "" || name == "none" || name == first.Name() {
		return nil, nil
	}
	c := *cfg
	c.Speech.Engine = name
	return recognizer(&c)
}

// ears builds the per-call listener factory of a config: the recognizer,
// and a classifier trained on the config's intents plus the escape
// phrases. It returns nil (keypad only) when the flow has no spoken
// options or no recognizer is available.
func ears(cfg *config.Config, log *slog.Logger) (dialog.Ears, error) {
	if !cfg.Listens() {
		return nil, nil
	}
	rec, err := recognizer(cfg)
	if err != nil {
		log.Warn("speech recognition unavailable: menus fall back to the keypad", "err", err)
		return nil, nil
	}
	if rec == nil {
		return nil, nil
	}
	second, err := secondRecognizer(cfg, rec)
	if err != nil {
		log.Warn("second speech recognizer unavailable", "err", err)
	}
	if second != nil {
		log.Info("speech recognizers", "engine", rec.Name(), "second", second.Name())
	} else {
		log.Info("speech recognizer", "engine", rec.Name())
	}
	start := time.Now()
	clf, err := dialog.TrainClassifier(cfg)
	if err != nil {
		return nil, fmt.Errorf("intents: %w", err)
	}
	log.Info("intent classifier trained", "intents", len(cfg.Intents), "took", time.Since(start).Round(time.Millisecond))
	ep := vad.EndpointConfig{TrailingSilence: cfg.Speech.EndSilence, NoInputTimeout: -1}
	var c speech.Classifier
	if clf != nil {
		c = clf
	}
	return func(ctx context.Context, rate int) (dialog.Listener, error) {
		return speech.New(ctx, rec, speech.Config{Rate: rate, Endpoint: ep, Classifier: c, Second: second})
	}, nil
}

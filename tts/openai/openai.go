// Package openai speaks through any server with OpenAI's speech API (POST
// /v1/audio/speech): OpenAI itself or self-hosted servers such as
// Kokoro-FastAPI, openedai-speech or LocalAI, chosen by base URL. Audio is
// streamed from the response body as it arrives. Wrap the engine in a
// tts.Fallback with the embedded engine so callers hear something when the
// server is down or slow.
package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/openivr/ivr/tts"
)

// Config selects a server, a model and a voice.
type Config struct {
	// BaseURL is the API root including /v1, e.g.
	// "https://api.openai.com/v1" (the default) or
	// "http://localhost:8880/v1".
	BaseURL string
	// APIKey is sent as a bearer token; self-hosted servers often take any.
	APIKey string
	// Model is the speech model; "" is "tts-1".
	Model string
	// Voice is used when a request names none; "" is "alloy".
	Voice string
	// Speed is 0.25 to 4; 0 is the server's default (1).
	Speed float64
	// Instructions steer the voice on models that accept them.
	Instructions string
	// Format is the response format asked for: "wav" (the default, which
	// every compatible server speaks) or "pcm" (raw 16-bit mono).
	Format string
	// PCMRate is the rate of "pcm" responses in Hz; 0 is 24000, OpenAI's.
	PCMRate int
	// Timeout bounds the wait for the first audio: connection, response
	// headers and first bytes. Zero is 5 s. After the first audio only the
	// caller's context limits the stream.
	Timeout time.Duration
	// HTTPClient, if set, replaces the default client.
	HTTPClient *http.Client
}

// Defaults of Config.
const (
	DefaultModel   = "tts-1"
	DefaultVoice   = "alloy"
	DefaultTimeout = 5 * time.Second
	defaultPCMRate = 24000
)

// Engine is a tts.Synthesizer backed by an OpenAI-compatible server.
type Engine struct {
	cfg    Config
	client *goopenai.Client
}

// New returns an engine for cfg, with defaults filled in.
func New(cfg Config) (*Engine, error) {
	if cfg.Model == "" {
		cfg.Model = DefaultModel
	}
	if cfg.Voice == "" {
		cfg.Voice = DefaultVoice
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.PCMRate <= 0 {
		cfg.PCMRate = defaultPCMRate
	}
	switch cfg.Format {
	case "":
		cfg.Format = "wav"
	case "wav", "pcm":
	default:
		return nil, fmt.Errorf("tts/openai: format %q (want wav or pcm)", cfg.Format)
	}
	if cfg.Speed != 0 && (cfg.Speed < 0.25 || cfg.Speed > 4) {
		return nil, fmt.Errorf("tts/openai: speed %g outside 0.25 to 4", cfg.Speed)
	}
	oc := goopenai.DefaultConfig(cfg.APIKey)
	if cfg.BaseURL != "" {
		oc.BaseURL = cfg.BaseURL
	}
	if cfg.HTTPClient != nil {
		oc.HTTPClient = cfg.HTTPClient
	}
	cfg.BaseURL = oc.BaseURL
	return &Engine{cfg: cfg, client: goopenai.NewClientWithConfig(oc)}, nil
}

// Name identifies the server, model and settings that change the sound.
func (e *Engine) Name() string {
	n := "openai:" + e.cfg.Model + "@" + e.cfg.BaseURL
	if e.cfg.Speed != 0 {
		n += ",speed=" + strconv.FormatFloat(e.cfg.Speed, 'g', -1, 64)
	}
	if e.cfg.Instructions != "" {
		n += ",instructions=" + strconv.Quote(e.cfg.Instructions)
	}
	return n
}

// ErrTimeout reports a server that sent no audio within Config.Timeout.
var ErrTimeout = errors.New("tts/openai: no audio before the timeout")

// Synthesize sends the request from a goroutine and returns the stream at
// once; server errors end the stream.
func (e *Engine) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	if req.Text == "" {
		return nil, tts.ErrEmptyText
	}
	voice := req.Voice
	if voice == "" {
		voice = e.cfg.Voice
	}
	rate := req.Rate
	if rate <= 0 {
		rate = e.cfg.PCMRate // OpenAI's WAV is at this rate too
	}
	ctx, cancel := context.WithCancel(ctx)
	p := tts.NewPipe(rate, cancel)
	go func() {
		defer cancel()
		p.Finish(e.run(ctx, cancel, p, voice, req.Text))
	}()
	return p, nil
}

func (e *Engine) run(ctx context.Context, cancel context.CancelFunc, p *tts.Pipe, voice, text string) error {
	var (
		mu       sync.Mutex
		timedOut bool
	)
	timer := time.AfterFunc(e.cfg.Timeout, func() {
		mu.Lock()
		timedOut = true
		mu.Unlock()
		cancel()
	})
	defer timer.Stop()
	fail := func(err error) error {
		mu.Lock()
		defer mu.Unlock()
		if timedOut {
			return fmt.Errorf("%w (%v)", ErrTimeout, e.cfg.Timeout)
		}
		if errors.Is(err, tts.ErrClosed) {
			return nil
		}
		return fmt.Errorf("tts/openai: %w", err)
	}
	resp, err := e.client.CreateSpeech(ctx, goopenai.CreateSpeechRequest{
		Model:          goopenai.SpeechModel(e.cfg.Model),
		Input:          text,
		Voice:          goopenai.SpeechVoice(voice),
		Instructions:   e.cfg.Instructions,
		ResponseFormat: goopenai.SpeechResponseFormat(e.cfg.Format),
		Speed:          e.cfg.Speed,
	})
	if err != nil {
		return fail(err)
	}
	defer resp.Close()
	// Once the body flows, the timeout is off: a long prompt may stream
	// for longer than the wait for its start.
	body := &firstRead{r: resp, first: func() { timer.Stop() }}
	if e.cfg.Format == "pcm" {
		err = tts.CopyPCM(p, body, e.cfg.PCMRate)
	} else {
		err = tts.CopyWAV(p, body)
	}
	if err != nil {
		return fail(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if timedOut {
		return fmt.Errorf("%w (%v)", ErrTimeout, e.cfg.Timeout)
	}
	return nil
}

// firstRead calls first once, when the first bytes arrive.
type firstRead struct {
	r     io.Reader
	first func()
	done  bool
}

func (f *firstRead) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if n > 0 && !f.done {
		f.done = true
		f.first()
	}
	return n, err
}

var _ tts.Synthesizer = (*Engine)(nil)

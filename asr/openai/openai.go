// Package openai is a speech recognizer that sends each utterance to an
// OpenAI-compatible transcription endpoint (POST /v1/audio/transcriptions):
// OpenAI itself or a self-hosted server (whisper.cpp server,
// faster-whisper servers, LocalAI). Streams buffer the utterance and
// transcribe it in Finish; on an error or a timeout Finish returns an error
// wrapping ErrRemote so the dialog can fall back to the embedded engine or
// the keypad.
package openai

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/openivr/ivr/asr"
)

// Name is the engine's registry name.
const Name = "openai"

// ErrRemote wraps every failure of the remote service (connection, HTTP
// status, timeout), so callers can branch on it and fall back.
var ErrRemote = errors.New("openai asr: transcription failed")

// Config addresses the transcription server.
type Config struct {
	// BaseURL is the API root including /v1, e.g.
	// "https://api.openai.com/v1" or "http://127.0.0.1:8080/v1".
	// "" means OpenAI.
	BaseURL string
	// APIKey is sent as a bearer token; self-hosted servers often ignore it.
	APIKey string
	// Model is the transcription model; "" means "whisper-1".
	Model string
	// Language is an ISO-639-1 code ("en"); "" lets the server detect it.
	Language string
	// Timeout bounds one transcription; 0 means 10 s.
	Timeout time.Duration
	// Verbose asks for verbose_json, whose per-segment log probabilities
	// give a confidence; servers that do not support it should leave it
	// false (the confidence is then 0).
	Verbose bool
	// MaxPromptChars caps the prompt built from hints; 0 means 800.
	MaxPromptChars int
}

func init() {
	asr.Register(Name, func(o asr.Options) (asr.Recognizer, error) {
		return New(Config{BaseURL: o.BaseURL, APIKey: o.APIKey, Model: o.Model, Language: o.Language, Timeout: o.Timeout})
	})
}

// Recognizer transcribes through an OpenAI-compatible API. It is safe for
// concurrent use.
type Recognizer struct {
	cfg    Config
	client *goopenai.Client
}

// New returns a recognizer for cfg. It does not contact the server.
func New(cfg Config) (*Recognizer, error) {
	if cfg.Model == "" {
		cfg.Model = goopenai.Whisper1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxPromptChars <= 0 {
		cfg.MaxPromptChars = 800
	}
	oc := goopenai.DefaultConfig(cfg.APIKey)
	if cfg.BaseURL != "" {
		oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	}
	return &Recognizer{cfg: cfg, client: goopenai.NewClientWithConfig(oc)}, nil
}

// Name is "openai".
func (r *Recognizer) Name() string { return Name }

// NewStream starts buffering one utterance at rate Hz.
func (r *Recognizer) NewStream(ctx context.Context, rate int, h asr.Hints) (asr.Stream, error) {
	if rate < 4000 || rate > 48000 {
		return nil, fmt.Errorf("openai asr: %w: %d Hz", asr.ErrBadRate, rate)
	}
	return &stream{r: r, rate: rate, prompt: Prompt(h, r.cfg.MaxPromptChars)}, nil
}

// Prompt turns hints into a transcription prompt: the vocabulary the
// caller is likely to use, which biases the model's spelling and word
// choice.
func Prompt(h asr.Hints, maxChars int) string {
	var parts []string
	switch h.Grammar {
	case asr.GrammarDigits:
		parts = append(parts, "Digits: 0 1 2 3 4 5 6 7 8 9.")
	case asr.GrammarYesNo:
		parts = append(parts, "Yes. No.")
	}
	seen := map[string]bool{}
	for _, p := range append(append([]string{}, h.Phrases...), h.EscapeWords...) {
		p = strings.TrimSpace(p)
		if p == "" || seen[strings.ToLower(p)] {
			continue
		}
		seen[strings.ToLower(p)] = true
		parts = append(parts, p)
	}
	var b strings.Builder
	for i, p := range parts {
		sep := ""
		if i > 0 {
			sep = ", "
		}
		if b.Len()+len(sep)+len(p) > maxChars {
			break
		}
		b.WriteString(sep + p)
	}
	return b.String()
}

type stream struct {
	r      *Recognizer
	rate   int
	prompt string

	mu     sync.Mutex
	pcm    []int16
	closed bool
}

func (s *stream) Write(samples []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return asr.ErrClosed
	}
	s.pcm = append(s.pcm, samples...)
	return nil
}

// Partial returns false: the API has no interim results.
func (s *stream) Partial() (asr.Result, bool) { return asr.Result{}, false }

func (s *stream) Finish(ctx context.Context) (asr.Result, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return asr.Result{}, asr.ErrClosed
	}
	s.closed = true
	pcm := s.pcm
	s.pcm = nil
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, s.r.cfg.Timeout)
	defer cancel()
	req := goopenai.AudioRequest{
		Model:    s.r.cfg.Model,
		FilePath: "utterance.wav",
		Reader:   bytes.NewReader(wavBytes(pcm, s.rate)),
		Prompt:   s.prompt,
		Language: s.r.cfg.Language,
		Format:   goopenai.AudioResponseFormatJSON,
	}
	if s.r.cfg.Verbose {
		req.Format = goopenai.AudioResponseFormatVerboseJSON
	}
	resp, err := s.r.client.CreateTranscription(ctx, req)
	if err != nil {
		return asr.Result{}, fmt.Errorf("%w: %w", ErrRemote, err)
	}
	res := asr.Result{Final: true, Text: asr.Normalize(resp.Text)}
	if len(resp.Segments) > 0 && res.Text != "" {
		var lp, ns float64
		for _, sg := range resp.Segments {
			lp += sg.AvgLogprob
			ns = max(ns, sg.NoSpeechProb)
		}
		res.Confidence = math.Exp(lp/float64(len(resp.Segments))) * (1 - ns)
	}
	return res, nil
}

func (s *stream) Close() error {
	s.mu.Lock()
	s.closed = true
	s.pcm = nil
	s.mu.Unlock()
	return nil
}

// wavBytes encodes mono 16-bit PCM as a WAV file in memory.
func wavBytes(pcm []int16, rate int) []byte {
	var b bytes.Buffer
	n := uint32(len(pcm) * 2)
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, 36+n)
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, uint32(16))
	binary.Write(&b, binary.LittleEndian, uint16(1)) // PCM
	binary.Write(&b, binary.LittleEndian, uint16(1)) // mono
	binary.Write(&b, binary.LittleEndian, uint32(rate))
	binary.Write(&b, binary.LittleEndian, uint32(rate*2))
	binary.Write(&b, binary.LittleEndian, uint16(2))
	binary.Write(&b, binary.LittleEndian, uint16(16))
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, n)
	binary.Write(&b, binary.LittleEndian, pcm)
	return b.Bytes()
}

var (
	_ asr.Recognizer = (*Recognizer)(nil)
	_ asr.Stream     = (*stream)(nil)
)

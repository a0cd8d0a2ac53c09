// Package tts turns prompt text into caller audio: one streaming
// synthesizer interface that engines implement (tts/embedded for the
// offline espeak-ng and flite voices, tts/openai for OpenAI-compatible
// speech servers), a fallback that swaps to a second engine when the first
// fails or is slow, a prompt cache that renders static prompts once and
// keeps them on disk, and recorded WAV prompts that override synthesis.
//
// Text given to a Synthesizer is plain text. Prompts written in config may
// carry say-as markup ({amount:112.40 GBP}); package tts/sayas expands it,
// and Prompts does so before synthesis.
package tts

import (
	"context"
	"errors"

	"github.com/openivr/ivr/audio"
)

// Request is one piece of text to speak.
type Request struct {
	// Text is plain text to speak (say-as markup already expanded).
	Text string
	// Voice names a voice of the engine; "" means the engine's default.
	Voice string
	// Rate is the sample rate the caller wants, in Hz (8000 for a G.711
	// call). Zero means the engine's native rate.
	Rate int
}

// Synthesizer turns text into a stream of audio.
//
// Synthesize must return quickly: it starts the work and hands back a
// Stream that yields audio as soon as the first samples exist. Errors found
// later (a server that answers 500, a voice that does not exist) end the
// stream with Err set.
type Synthesizer interface {
	// Name identifies the engine and its settings that change the sound
	// (for example "espeak-ng" or "openai:tts-1@https://api.openai.com/v1");
	// the prompt cache uses it in its keys.
	Name() string
	Synthesize(ctx context.Context, req Request) (Stream, error)
}

// Stream is synthesized audio as it is produced. It is an audio.Source:
// ReadPCM never blocks, returns 0, nil while the engine is still working and
// io.EOF at the end (also after a failure; Err then says why).
//
// ReadPCM and Wait are for one consumer goroutine; Close and Err may be
// called from any goroutine.
type Stream interface {
	audio.Source
	// Wait blocks until samples are ready to read or the stream has
	// ended. It returns ctx.Err() if ctx ends first.
	Wait(ctx context.Context) error
	// Err is the reason the stream ended early, or nil.
	Err() error
	// Close stops synthesis and releases its resources. It is idempotent
	// and safe to call at any point, including before the end.
	Close() error
}

// Errors callers may branch on.
var (
	// ErrEmptyText reports a request with nothing to say.
	ErrEmptyText = errors.New("tts: empty text")
	// ErrClosed reports a write to, or a read from, a closed stream.
	ErrClosed = errors.New("tts: stream closed")
	// ErrNoAudio reports a stream that ended without producing any sample.
	ErrNoAudio = errors.New("tts: engine produced no audio")
)

// Package asr defines the streaming speech recognizer interface every
// engine implements, the hints a dialog passes to it, and the engine
// registry the server and the eval commands use to pick one by name.
//
// Engines live in their own packages: asr/sphinx (embedded PocketSphinx,
// cgo) and asr/openai (OpenAI-compatible /v1/audio/transcriptions). They
// register themselves from init, so a pure-Go build simply lists fewer
// engines in Available.
package asr

import (
	"context"
	"errors"
)

// Grammar names for Hints.Grammar.
const (
	// GrammarDigits restricts recognition to a string of spoken digits.
	GrammarDigits = "digits"
	// GrammarDigit restricts recognition to one spoken digit (a menu
	// choice, a single-digit answer): no insertions of a second digit.
	GrammarDigit = "digit"
	// GrammarYesNo restricts recognition to yes/no answers and their synonyms.
	GrammarYesNo = "yesno"
)

// Sentinel errors callers branch on.
var (
	// ErrUnavailable reports an engine that cannot run in this build or on
	// this machine (no cgo, missing model files, missing server).
	ErrUnavailable = errors.New("asr: engine unavailable")
	// ErrClosed reports use of a stream after Close or Finish.
	ErrClosed = errors.New("asr: stream closed")
	// ErrUnknownEngine reports a name that no engine registered.
	ErrUnknownEngine = errors.New("asr: unknown engine")
	// ErrBadRate reports a sample rate the engine cannot take.
	ErrBadRate = errors.New("asr: unsupported sample rate")
)

// Hints tell a recognizer what the caller can be expected to say at this
// point of the dialog. Engines use them as a grammar, a domain language
// model or a transcription prompt.
type Hints struct {
	// Phrases are example utterances (the intents' examples and synonyms).
	Phrases []string
	// Grammar selects a closed grammar: GrammarDigits, GrammarYesNo or ""
	// for open speech guided by Phrases.
	Grammar string
	// EscapeWords are words that must always be recognizable ("agent",
	// "operator"), whatever else the grammar allows.
	EscapeWords []string
}

// Alternative is one hypothesis from an engine's n-best list.
type Alternative struct {
	Text       string
	Confidence float64 // 0..1; 0 when the engine gives none
}

// Result is what a stream heard so far (Final false) or in the end.
type Result struct {
	// Text is the best hypothesis in lower case, words separated by one
	// space; empty when nothing was recognized.
	Text string
	// Confidence is the engine's estimate that Text is right, 0..1.
	Confidence float64
	// Final is true for the result Finish returns.
	Final bool
	// Alternatives holds further hypotheses, best first, not including
	// Text; engines that give none leave it empty.
	Alternatives []Alternative
}

// Recognizer is a loaded engine. It is safe for concurrent use: each call
// opens its own Stream. Loading (model files, connections) happens when the
// Recognizer is made, not per stream.
type Recognizer interface {
	// Name identifies the engine in logs and eval output.
	Name() string
	// NewStream starts recognizing one utterance of mono PCM at rate Hz.
	// ctx bounds only the wait for the engine's resources (a free
	// decoder), not the stream: a ctx that is already done asks for a
	// stream only if one can be had at once.
	NewStream(ctx context.Context, rate int, h Hints) (Stream, error)
}

// Stream recognizes one utterance. Write and Partial may be called from
// the media goroutine and do not block on I/O; Finish may take time (a
// network round trip or the decoder's final pass) and belongs on another
// goroutine. A stream is used by one goroutine at a time, except that
// Close may be called concurrently to abandon it.
type Stream interface {
	// Write appends samples at the stream's rate.
	Write(samples []int16) error
	// Partial returns the current hypothesis when the engine has one.
	Partial() (Result, bool)
	// Finish ends the utterance and returns the final result. After
	// Finish the stream accepts no more audio.
	Finish(ctx context.Context) (Result, error)
	// Close releases the stream; it is safe to call more than once and
	// after Finish.
	Close() error
}

// Prefetcher is a Stream that can start its final pass before Finish.
// The listener calls Prefetch when the caller has been quiet for part of
// the endpointing silence; when what arrives afterwards is quiet too,
// Finish returns that pass's result instead of starting one, so the
// engine's work overlaps the rest of the silence. Prefetch may be called
// again (the caller spoke again, then paused); only the latest counts.
type Prefetcher interface {
	Prefetch()
}

// Closer is implemented by recognizers that hold resources (decoders,
// temporary files) to release when the process is done with them.
type Closer interface {
	Close() error
}

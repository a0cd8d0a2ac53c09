//go:build !cgo

package moonshine

import (
	"context"
	"fmt"

	"github.com/openivr/ivr/asr"
)

// Available reports whether the engine can run in this build: it cannot
// without cgo (ONNX Runtime is a C library).
func Available(dir string) error {
	return fmt.Errorf("%w: %s needs a cgo build (ONNX Runtime is loaded through cgo)", asr.ErrUnavailable, Name)
}

// Recognizer is the embedded engine; in this build it cannot be made.
type Recognizer struct{}

// New returns asr.ErrUnavailable: this build has no cgo. The engine is not
// registered either, so asr.Available does not list it.
func New(cfg Config) (*Recognizer, error) { return nil, Available(cfg.ModelDir) }

// Name is "moonshine".
func (r *Recognizer) Name() string { return Name }

// NewStream returns asr.ErrUnavailable.
func (r *Recognizer) NewStream(ctx context.Context, rate int, h asr.Hints) (asr.Stream, error) {
	return nil, Available("")
}

// Close does nothing.
func (r *Recognizer) Close() error { return nil }

var _ asr.Recognizer = (*Recognizer)(nil)

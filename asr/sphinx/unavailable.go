//go:build !cgo

package sphinx

import (
	"context"
	"fmt"

	"github.com/openivr/ivr/asr"
)

// Available reports whether the embedded engine can run in this build: it
// cannot without cgo.
func Available() error {
	return fmt.Errorf("%w: %s needs a cgo build with libpocketsphinx-dev", asr.ErrUnavailable, Name)
}

// Recognizer is the embedded engine; in this build it cannot be made.
type Recognizer struct{}

// New returns asr.ErrUnavailable: this build has no cgo.
func New(cfg Config) (*Recognizer, error) { return nil, Available() }

// Name is "sphinx".
func (r *Recognizer) Name() string { return Name }

// NewStream returns asr.ErrUnavailable.
func (r *Recognizer) NewStream(ctx context.Context, rate int, h asr.Hints) (asr.Stream, error) {
	return nil, Available()
}

// Close does nothing.
func (r *Recognizer) Close() error { return nil }

var _ asr.Recognizer = (*Recognizer)(nil)

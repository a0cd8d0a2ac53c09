//go:build !cgo

package embedded

import (
	"context"

	"github.com/openivr/ivr/tts"
)

// fliteLibBuilt reports that this build links libflite: without cgo it does
// not, and flite runs as a program.
const fliteLibBuilt = false

// fliteLib is flite linked into the process; this build has none.
type fliteLib struct{}

func newFliteLib(int) *fliteLib { return &fliteLib{} }

func defaultLib() *fliteLib { return &fliteLib{} }

func (l *fliteLib) hasVoice(string) bool { return false }

func (l *fliteLib) warm(voice string) error { return &VoiceError{Engine: "flite", Voice: voice} }

func (l *fliteLib) speak(_ context.Context, voice string, _ []string, pipe *tts.Pipe) {
	pipe.Finish(&VoiceError{Engine: "flite", Voice: voice})
}

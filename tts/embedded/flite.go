package embedded

import (
	"context"
	"strings"

	"github.com/openivr/ivr/tts"
)

// fliteVoices are the voices Debian's flite package builds in, with the
// rate each is made at, in Hz.
var fliteVoices = map[string]int{
	"kal": 8000, "kal16": 16000, "awb": 16000, "rms": 16000, "slt": 16000, "awb_time": 16000,
}

// Flite runs the flite program (Debian package flite). Flite writes its
// audio only when a whole text is done, so Synthesize runs it once per
// sentence: the first sentence plays while the next is made.
type Flite struct {
	// Program is the flite executable; "" finds flite on PATH.
	Program string
	// Voice is used when a request names none: kal, kal16, awb, rms or
	// slt; "" is kal16, the embedded engine's default.
	Voice string
}

// Name identifies the engine.
func (f *Flite) Name() string { return "flite" }

// Synthesize starts flite for req and returns its stream at once.
func (f *Flite) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	if strings.TrimSpace(req.Text) == "" {
		return nil, tts.ErrEmptyText
	}
	voice := req.Voice
	if voice == "" {
		voice = f.Voice
	}
	if voice == "" {
		voice = "kal16"
	}
	native, ok := fliteVoices[voice]
	if !ok {
		// flite quietly uses its default voice for a name it lacks.
		return nil, &VoiceError{Engine: "flite", Voice: voice}
	}
	prog := f.Program
	if prog == "" {
		p, err := lookPath("flite", "flite")
		if err != nil {
			return nil, err
		}
		prog = p
	}
	rate := req.Rate
	if rate <= 0 {
		rate = native
	}
	j := newJob(ctx, rate)
	argv := func(chunk string) []string {
		return []string{prog, "-voice", voice, "-t", chunk, "-o", "/dev/stdout"}
	}
	go j.run(sentences(req.Text), argv, false)
	return j.pipe, nil
}

var _ tts.Synthesizer = (*Flite)(nil)

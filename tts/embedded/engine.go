// Package embedded is the offline text-to-speech engine: espeak-ng and
// flite from Debian behind one tts.Synthesizer whose voices name their
// program: "flite/slt", "espeak-ng/en-gb+f3". In a cgo build flite is
// linked into the process (flite1-dev) and streams each clause as it is
// made; espeak-ng, and flite in a pure-Go build, run as subprocesses.
package embedded

import (
	"context"
	"sort"
	"strings"

	"github.com/openivr/ivr/tts"
)

// DefaultVoice is the voice used when neither the request nor the engine
// names one. It was chosen by measurement (BENCHMARKS.md, "Text-to-speech"):
// within four points of the best word accuracy after a G.711 round trip
// (flite's rms and awb), at a third of their CPU time; linked in, a 12-word
// dynamic sentence starts playing within a few milliseconds.
const DefaultVoice = "flite/kal16"

// Engine speaks with espeak-ng or flite according to the voice.
type Engine struct {
	Espeak Espeak
	Flite  Flite
	// Voice is used when a request names none; "" is DefaultVoice.
	Voice string
}

// New returns the embedded engine with default settings.
func New() *Engine { return &Engine{} }

// Name identifies the engine and the settings that change its sound.
func (e *Engine) Name() string { return "embedded(" + e.Espeak.Name() + "," + e.Flite.Name() + ")" }

// Synthesize routes req to the program its voice names. A voice without a
// program prefix is a flite voice if flite has it, else an espeak-ng one.
func (e *Engine) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	if req.Voice == "" {
		req.Voice = e.Voice
	}
	if req.Voice == "" {
		req.Voice = DefaultVoice
	}
	prog, voice := SplitVoice(req.Voice)
	req.Voice = voice
	if prog == "flite" {
		return e.Flite.Synthesize(ctx, req)
	}
	return e.Espeak.Synthesize(ctx, req)
}

// Warm prepares voice ("" for the engine's default) so that the first
// request does not pay for it: a flite voice linked into the process is
// registered now. Voices spoken by a program need nothing; an unknown
// flite voice is a *VoiceError.
func (e *Engine) Warm(voice string) error {
	if voice == "" {
		voice = e.Voice
	}
	if voice == "" {
		voice = DefaultVoice
	}
	prog, name := SplitVoice(voice)
	if prog != "flite" {
		return nil
	}
	if _, ok := fliteVoices[name]; !ok {
		return &VoiceError{Engine: "flite", Voice: name}
	}
	return e.Flite.Warm(name)
}

// SplitVoice splits "flite/slt" into its program and voice. A bare name is
// flite's if flite has a voice of that name, else espeak-ng's.
func SplitVoice(v string) (program, voice string) {
	if p, name, ok := strings.Cut(v, "/"); ok {
		switch p {
		case "flite":
			return "flite", name
		case "espeak-ng", "espeak":
			return "espeak-ng", name
		}
	}
	if _, ok := fliteVoices[v]; ok {
		return "flite", v
	}
	return "espeak-ng", v
}

// Voices lists voices worth offering, in "program/voice" form: every flite
// voice and the English espeak-ng voices with a few variants. espeak-ng
// has more (any language, any variant); these are the ones measured.
func Voices() []string {
	var out []string
	for v := range fliteVoices {
		if v != "awb_time" {
			out = append(out, "flite/"+v)
		}
	}
	for _, v := range []string{"en-gb", "en-us", "en-gb-x-rp", "en-gb+f3", "en-us+f3", "en-us+m3", "en-gb-scotland"} {
		out = append(out, "espeak-ng/"+v)
	}
	sort.Strings(out)
	return out
}

var _ tts.Synthesizer = (*Engine)(nil)

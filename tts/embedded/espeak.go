package embedded

import (
	"context"
	"strconv"
	"strings"

	"github.com/openivr/ivr/tts"
)

// espeakRate is the rate espeak-ng's own voices are made at, in Hz.
const espeakRate = 22050

// Espeak runs the espeak-ng program (Debian package espeak-ng), which
// streams its audio as it synthesizes: the first sentence plays while the
// rest is being made.
type Espeak struct {
	// Program is the espeak-ng executable; "" finds espeak-ng on PATH.
	Program string
	// Voice is used when a request names none, e.g. "en-gb" or
	// "en-us+f3" (a voice plus a variant); "" is "en-gb".
	Voice string
	// Speed is in words per minute; 0 is espeak-ng's default (175).
	Speed int
	// Pitch is 0 to 99; 0 is espeak-ng's default (50).
	Pitch int
}

// Name identifies the engine and the settings that change its sound.
func (e *Espeak) Name() string {
	n := "espeak-ng"
	if e.Speed > 0 {
		n += ",s=" + strconv.Itoa(e.Speed)
	}
	if e.Pitch > 0 {
		n += ",p=" + strconv.Itoa(e.Pitch)
	}
	return n
}

// Synthesize starts espeak-ng for req and returns its stream at once.
func (e *Espeak) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	if strings.TrimSpace(req.Text) == "" {
		return nil, tts.ErrEmptyText
	}
	voice := req.Voice
	if voice == "" {
		voice = e.Voice
	}
	if voice == "" {
		voice = "en-gb"
	}
	if !validVoice(voice) {
		return nil, &VoiceError{Engine: "espeak-ng", Voice: voice}
	}
	prog := e.Program
	if prog == "" {
		p, err := lookPath("espeak-ng", "espeak-ng")
		if err != nil {
			return nil, err
		}
		prog = p
	}
	args := []string{prog, "--stdout", "--stdin", "-b", "1", "-v", voice}
	if e.Speed > 0 {
		args = append(args, "-s", strconv.Itoa(e.Speed))
	}
	if e.Pitch > 0 {
		args = append(args, "-p", strconv.Itoa(e.Pitch))
	}
	rate := req.Rate
	if rate <= 0 {
		rate = espeakRate
	}
	j := newJob(ctx, rate)
	go j.run([]string{req.Text}, func(string) []string { return args }, true)
	return j.pipe, nil
}

// VoiceError reports a voice name an engine does not have or will not
// pass to its program.
type VoiceError struct {
	Engine, Voice string
}

func (e *VoiceError) Error() string {
	return "tts/embedded: " + e.Engine + " has no voice " + strconv.Quote(e.Voice)
}

// validVoice accepts names of voices and variants, never an option.
func validVoice(v string) bool {
	if v == "" || len(v) > 64 || v[0] == '-' {
		return false
	}
	for _, c := range v {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' || c == '_' || c == '+' || c == '.':
		default:
			return false
		}
	}
	return true
}

var _ tts.Synthesizer = (*Espeak)(nil)

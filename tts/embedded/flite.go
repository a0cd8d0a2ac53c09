package embedded

import (
	"context"
	"os/exec"
	"strings"

	"github.com/openivr/ivr/tts"
)

// fliteVoices are the voices Debian's flite package builds in, with the
// rate each is made at, in Hz.
var fliteVoices = map[string]int{
	"kal": 8000, "kal16": 16000, "awb": 16000, "rms": 16000, "slt": 16000, "awb_time": 16000,
}

// voicePrograms are Debian's single-voice flite programs (package flite):
// the same synthesis as "flite -voice v", sample for sample, with one voice
// linked in instead of all of them, so they start about twice as fast.
var voicePrograms = map[string]string{
	"kal": "flite_cmu_us_kal", "kal16": "flite_cmu_us_kal16", "awb": "flite_cmu_us_awb",
	"rms": "flite_cmu_us_rms", "slt": "flite_cmu_us_slt", "awb_time": "flite_cmu_time_awb",
}

// cleanText makes text safe to hand to flite as a C string or an argument:
// control characters (NUL among them) become spaces.
func cleanText(text string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, text)
}

// Flite speaks with flite (Debian packages flite, flite1-dev). In a cgo
// build the library is linked into the process and streams: the first
// audio of a clause comes as soon as flite's waveform synthesis makes it,
// with no program to start and no voice to load per request. Without cgo,
// or with Program or Subprocess set, it runs the flite program, which
// writes its audio only when a whole text is done, so Synthesize runs it
// once per clause: the first plays while the next is made. The program is
// the voice's own (flite_cmu_us_kal16...) when Debian has it, else flite.
type Flite struct {
	// Program is the flite executable; "" finds flite on PATH. Setting it
	// selects the program over the linked library.
	Program string
	// Voice is used when a request names none: kal, kal16, awb, rms or
	// slt; "" is kal16, the embedded engine's default.
	Voice string
	// Subprocess runs the flite program even when the library is linked
	// in (for comparison, or to keep synthesis out of the server process).
	Subprocess bool

	lib *fliteLib // nil: the process's shared library handle
}

// InProcess reports whether f synthesizes voice (a flite voice name, ""
// for the default) with the library linked into the process rather than
// the flite program.
func (f *Flite) InProcess(voice string) bool {
	if voice == "" {
		voice = f.defaultVoice()
	}
	return fliteLibBuilt && !f.Subprocess && f.Program == "" && f.library().hasVoice(voice)
}

func (f *Flite) library() *fliteLib {
	if f.lib != nil {
		return f.lib
	}
	return defaultLib()
}

func (f *Flite) defaultVoice() string {
	if f.Voice != "" {
		return f.Voice
	}
	return "kal16"
}

// Warm loads voice ("" for the default) ahead of the first request when
// it is synthesized in-process; it does nothing for the program.
func (f *Flite) Warm(voice string) error {
	if voice == "" {
		voice = f.defaultVoice()
	}
	if !f.InProcess(voice) {
		return nil
	}
	return f.library().warm(voice)
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
		voice = f.defaultVoice()
	}
	native, ok := fliteVoices[voice]
	if !ok {
		// flite quietly uses its default voice for a name it lacks.
		return nil, &VoiceError{Engine: "flite", Voice: voice}
	}
	rate := req.Rate
	if rate <= 0 {
		rate = native
	}
	if f.InProcess(voice) {
		ctx, cancel := context.WithCancel(ctx)
		pipe := tts.NewPipe(rate, cancel)
		go func() {
			defer cancel()
			f.library().speak(ctx, voice, sentences(cleanText(req.Text)), pipe)
		}()
		return pipe, nil
	}
	prog, opts := f.Program, []string{"-voice", voice}
	if prog == "" {
		if p, err := exec.LookPath(voicePrograms[voice]); err == nil {
			prog, opts = p, nil
		} else if p, err := lookPath("flite", "flite"); err == nil {
			prog = p
		} else {
			return nil, err
		}
	}
	j := newJob(ctx, rate)
	argv := func(chunk string) []string {
		return append(append([]string{prog}, opts...), "-t", chunk, "-o", "/dev/stdout")
	}
	go j.run(sentences(cleanText(req.Text)), argv, false)
	return j.pipe, nil
}

var _ tts.Synthesizer = (*Flite)(nil)

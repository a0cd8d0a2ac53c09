package tts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/tts/sayas"
)

// Prompt is one thing the line says, as config describes it.
type Prompt struct {
	// Name identifies the prompt; a recording named Name + ".wav" in the
	// prompts directory overrides synthesis. "" never has a recording.
	Name string
	// Text is what to say, with say-as markup allowed; for a recorded
	// prompt it is the transcript (captions, journey tests).
	Text string
	// Voice is the synthesizer voice; "" is the line's default.
	Voice string
}

// Prompts resolves a line's prompts to audio: recordings first, then the
// prompt cache, then streaming synthesis for dynamic text. Recordings of
// any common WAV format are converted to the call rate once, when
// Prepare loads them.
//
// Prompts is safe for concurrent use; Prepare may run (on reload) while
// calls play prompts.
type Prompts struct {
	dir   string
	rate  int
	voice string
	cache *Cache

	mu       sync.RWMutex
	recorded map[string]audio.Clip // prompt name -> clip at rate
}

// NewPrompts returns prompts for a line: recordings from dir ("" for none),
// audio at rate Hz (the call's), voice as the default voice, synthesis
// through c.
func NewPrompts(dir string, rate int, voice string, c *Cache) *Prompts {
	return &Prompts{dir: dir, rate: rate, voice: voice, cache: c, recorded: map[string]audio.Clip{}}
}

// ErrBadPromptName reports a prompt name that cannot name a file in the
// prompts directory.
var ErrBadPromptName = errors.New("tts: bad prompt name")

// RecordingPath is where the recording of prompt name lives in dir, and
// whether a file is there.
func RecordingPath(dir, name string) (string, bool, error) {
	if dir == "" || name == "" {
		return "", false, nil
	}
	if name != filepath.Base(name) || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return "", false, fmt.Errorf("%w: %q", ErrBadPromptName, name)
	}
	p := filepath.Join(dir, name+".wav")
	st, err := os.Stat(p)
	if err != nil || !st.Mode().IsRegular() {
		return p, false, nil
	}
	return p, true, nil
}

// Prepare loads the recordings of prompts and renders the others into the
// cache, so static prompts play at once. Call it at config load and on
// reload with every static prompt of the line; it replaces the previous
// set. All failures are returned together; what loaded is kept.
func (p *Prompts) Prepare(ctx context.Context, prompts []Prompt) error {
	var errs []error
	recorded := map[string]audio.Clip{}
	var reqs []Request
	for _, pr := range prompts {
		path, ok, err := RecordingPath(p.dir, pr.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			clip, err := audio.ReadWAVFile(path)
			if err == nil && len(clip.Samples) == 0 {
				err = fmt.Errorf("%s: no audio", path)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("prompt %q: %w", pr.Name, err))
				continue
			}
			if clip.Rate != p.rate {
				clip = audio.Clip{Rate: p.rate, Samples: audio.Resample(clip.Samples, clip.Rate, p.rate)}
			}
			recorded[pr.Name] = clip
			continue
		}
		req, err := p.request(pr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		reqs = append(reqs, req)
	}
	p.mu.Lock()
	p.recorded = recorded
	p.mu.Unlock()
	if err := p.cache.Prepare(ctx, reqs); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// request turns a prompt into a synthesis request: markup expanded, voice
// defaulted, rate the call's.
func (p *Prompts) request(pr Prompt) (Request, error) {
	text, err := sayas.Expand(pr.Text)
	if err != nil {
		return Request{}, fmt.Errorf("prompt %q: %w", pr.Name, err)
	}
	if strings.TrimSpace(text) == "" {
		return Request{}, fmt.Errorf("prompt %q: %w and no recording", pr.Name, ErrEmptyText)
	}
	voice := pr.Voice
	if voice == "" {
		voice = p.voice
	}
	return Request{Text: text, Voice: voice, Rate: p.rate}, nil
}

// Play returns the audio of a prompt: its recording if Prepare loaded one,
// else cached synthesis, else (dynamic text) a stream that starts as soon
// as the engine has the first audio.
func (p *Prompts) Play(ctx context.Context, pr Prompt) (Stream, error) {
	p.mu.RLock()
	clip, ok := p.recorded[pr.Name]
	p.mu.RUnlock()
	if ok && pr.Name != "" {
		return ClipStream(clip), nil
	}
	req, err := p.request(pr)
	if err != nil {
		return nil, err
	}
	return p.cache.Stream(ctx, req)
}

// Recorded reports whether prompt name plays a recording.
func (p *Prompts) Recorded(name string) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	_, ok := p.recorded[name]
	return ok
}

// Warning is a finding for config validation about one prompt, or about
// the line when Prompt is "".
type Warning struct {
	Prompt string
	Msg    string
}

func (w Warning) String() string {
	if w.Prompt == "" {
		return w.Msg
	}
	return fmt.Sprintf("prompt %q: %s", w.Prompt, w.Msg)
}

// CheckPrompts lints a line's prompts for the validator: markup that does
// not parse, prompts with neither recording nor text, unreadable
// recordings, and a line that does not speak with one voice (recorded
// prompts mixed with synthesized ones, or several synthesized voices).
// dir is the prompts directory and voice the line's default voice.
func CheckPrompts(dir, voice string, prompts []Prompt) []Warning {
	var ws []Warning
	var rec, synth []string
	voices := map[string][]string{}
	for _, pr := range prompts {
		label := pr.Name
		if label == "" {
			label = clipText(pr.Text)
		}
		path, ok, err := RecordingPath(dir, pr.Name)
		if err != nil {
			ws = append(ws, Warning{label, err.Error()})
			continue
		}
		if ok {
			if c, err := audio.ReadWAVFile(path); err != nil {
				ws = append(ws, Warning{label, "recording unreadable: " + err.Error()})
			} else if len(c.Samples) == 0 {
				ws = append(ws, Warning{label, "recording " + path + " has no audio"})
			}
			rec = append(rec, label)
			continue
		}
		text, err := sayas.Expand(pr.Text)
		switch {
		case err != nil:
			ws = append(ws, Warning{label, err.Error()})
		case strings.TrimSpace(text) == "":
			ws = append(ws, Warning{label, "no recording in " + dir + " and no text to synthesize"})
			continue
		}
		v := pr.Voice
		if v == "" {
			v = voice
		}
		synth = append(synth, label)
		voices[v] = append(voices[v], label)
	}
	if len(rec) > 0 && len(synth) > 0 {
		ws = append(ws, Warning{"", fmt.Sprintf("the line mixes %d recorded prompts (%s) with %d synthesized ones (%s): callers hear two voices; record the rest or synthesize all",
			len(rec), list(rec), len(synth), list(synth))})
	}
	if len(voices) > 1 {
		names := make([]string, 0, len(voices))
		for v := range voices {
			names = append(names, v)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, v := range names {
			if v == "" {
				parts[i] = fmt.Sprintf("the default voice (%s)", list(voices[v]))
			} else {
				parts[i] = fmt.Sprintf("%s (%s)", v, list(voices[v]))
			}
		}
		ws = append(ws, Warning{"", fmt.Sprintf("the line speaks with %d voices: %s; use one voice for every prompt", len(names), strings.Join(parts, ", "))})
	}
	return ws
}

// list names up to five prompts.
func list(names []string) string {
	if len(names) > 5 {
		return strings.Join(names[:5], ", ") + fmt.Sprintf(" and %d more", len(names)-5)
	}
	return strings.Join(names, ", ")
}

func clipText(s string) string {
	if len(s) > 30 {
		return s[:30] + "..."
	}
	return s
}

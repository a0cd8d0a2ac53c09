// Package prompt resolves a line's prompts by name into audio at a call's
// sample rate. Recordings are read and converted once, when the config
// loads; prompts with only a text are rendered by a synthesizer (through
// its cache) when one is configured.
package prompt

import (
	"context"
	"fmt"
	"sync"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
)

// Renderer synthesizes text to a clip at a rate (a TTS cache).
type Renderer interface {
	Render(ctx context.Context, text string, rate int) (audio.Clip, error)
}

// Set is the prompts of one config. It is safe for concurrent use.
type Set struct {
	items map[string]config.Prompt
	tts   Renderer

	mu    sync.Mutex
	clips map[key]audio.Clip // by name and rate
	// dynamic prompts say {{variables}}; they have no fixed audio.
	dynamic map[string]bool
}

type key struct {
	name string
	rate int
}

// Load reads every recorded prompt of c, converted to each of rates, so no
// call waits for disk or resampling. tts renders text-only prompts; it may
// be nil when every prompt has a recording.
func Load(ctx context.Context, c *config.Config, tts Renderer, rates ...int) (*Set, error) {
	s := &Set{items: c.Prompts.Items, tts: tts, clips: map[key]audio.Clip{}}
	s.dynamic = map[string]bool{}
	for name, p := range c.Prompts.Items {
		if c.PromptTemplate(name) != nil {
			// It says call variables: the dialog renders it per call.
			s.dynamic[name] = true
			continue
		}
		if p.File == "" {
			if tts == nil {
				return nil, fmt.Errorf("prompt %q has only text and no speech synthesizer is available", name)
			}
			for _, r := range rates {
				clip, err := tts.Render(ctx, p.Text, r)
				if err != nil {
					return nil, fmt.Errorf("prompt %q: synthesize: %w", name, err)
				}
				s.clips[key{name, r}] = clip
			}
			continue
		}
		clip, err := audio.ReadWAVFile(c.PromptPath(name))
		if err != nil {
			return nil, fmt.Errorf("prompt %q: %w", name, err)
		}
		for _, r := range rates {
			s.clips[key{name, r}] = audio.Clip{Rate: r, Samples: audio.Resample(clip.Samples, clip.Rate, r)}
		}
	}
	return s, nil
}

// Clip returns a prompt's audio at rate.
func (s *Set) Clip(ctx context.Context, name string, rate int) (audio.Clip, error) {
	s.mu.Lock()
	c, ok := s.clips[key{name, rate}]
	s.mu.Unlock()
	if ok {
		return c, nil
	}
	p, ok := s.items[name]
	if !ok {
		return audio.Clip{}, fmt.Errorf("prompt %q is not defined", name)
	}
	if s.dynamic[name] {
		return audio.Clip{}, fmt.Errorf("prompt %q says variables: render its text per call", name)
	}
	// A rate not prepared at load: convert (or synthesize) once, keep it.
	var clip audio.Clip
	if p.File == "" {
		if s.tts == nil {
			return audio.Clip{}, fmt.Errorf("prompt %q has only text and no speech synthesizer is available", name)
		}
		var err error
		if clip, err = s.tts.Render(ctx, p.Text, rate); err != nil {
			return audio.Clip{}, err
		}
	} else {
		var src audio.Clip
		found := false
		s.mu.Lock()
		for k, v := range s.clips {
			if k.name == name {
				src, found = v, true
				break
			}
		}
		s.mu.Unlock()
		if !found {
			return audio.Clip{}, fmt.Errorf("prompt %q was not loaded", name)
		}
		clip = audio.Clip{Rate: rate, Samples: audio.Resample(src.Samples, src.Rate, rate)}
	}
	s.mu.Lock()
	s.clips[key{name, rate}] = clip
	s.mu.Unlock()
	return clip, nil
}

// Text is a prompt's words ("" when it has none), for captions and records.
func (s *Set) Text(name string) string { return s.items[name].Text }

// Sayer is a Renderer that can also render text a call generates without
// storing it on disk (see tts.Cache.Speak).
type Sayer interface {
	Say(ctx context.Context, text string, rate int) (audio.Clip, error)
}

// Say renders text the flow generates (option lists, confirmations,
// read-backs) with the synthesizer. Such text can carry a caller's data,
// so a synthesizer that can (a Sayer) keeps it in memory only.
func (s *Set) Say(ctx context.Context, text string, rate int) (audio.Clip, error) {
	if s.tts == nil {
		return audio.Clip{}, fmt.Errorf("no speech synthesizer to say %q", text)
	}
	if sy, ok := s.tts.(Sayer); ok {
		return sy.Say(ctx, text, rate)
	}
	return s.tts.Render(ctx, text, rate)
}

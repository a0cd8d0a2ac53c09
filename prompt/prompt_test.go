package prompt

import (
	"context"
	"testing"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
)

// renderer records which path rendered each text.
type renderer struct{ rendered, said []string }

func (r *renderer) Render(_ context.Context, text string, rate int) (audio.Clip, error) {
	r.rendered = append(r.rendered, text)
	return audio.Clip{Rate: rate, Samples: make([]int16, 160)}, nil
}

type sayer struct{ renderer }

func (s *sayer) Say(_ context.Context, text string, rate int) (audio.Clip, error) {
	s.said = append(s.said, text)
	return audio.Clip{Rate: rate, Samples: make([]int16, 160)}, nil
}

// TestSayKeepsGeneratedTextApart: configured prompts are rendered (and so
// stored by a cache); text a call generates goes to Say when the
// synthesizer has it, so a caller's data is not stored.
func TestSayKeepsGeneratedTextApart(t *testing.T) {
	cfg := &config.Config{Prompts: config.Prompts{Items: map[string]config.Prompt{"welcome": {Text: "Welcome"}}}}
	s := &sayer{}
	set, err := Load(context.Background(), cfg, s, 8000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.Say(context.Background(), "your balance is 5 pounds", 8000); err != nil {
		t.Fatal(err)
	}
	if len(s.rendered) != 1 || s.rendered[0] != "Welcome" || len(s.said) != 1 || s.said[0] != "your balance is 5 pounds" {
		t.Errorf("rendered %q, said %q", s.rendered, s.said)
	}
	// A plain renderer still serves generated text.
	r := &renderer{}
	set, err = Load(context.Background(), cfg, r, 8000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.Say(context.Background(), "hello", 8000); err != nil || len(r.rendered) != 2 {
		t.Errorf("plain renderer: %v, rendered %q", err, r.rendered)
	}
}

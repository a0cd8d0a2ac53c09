package tts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openivr/ivr/audio"
)

func TestPrompts(t *testing.T) {
	dir := t.TempDir()
	// A studio recording at 16 kHz: one second of tone.
	if err := audio.WriteWAVFile(filepath.Join(dir, "welcome.wav"), audio.Clip{Rate: 16000, Samples: tone(16000, 440, 16000)}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.wav"), []byte("RIFF nonsense"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &toneSynth{name: "tone"}
	c, _ := NewCache(t.TempDir(), s)
	p := NewPrompts(dir, 8000, "slt", c)
	err := p.Prepare(context.Background(), []Prompt{
		{Name: "welcome", Text: "Welcome to the parcel line."},
		{Name: "menu", Text: "Say track, or {digits:1} to track a parcel."},
		{Name: "broken", Text: "Thanks."},
		{Name: "../etc/passwd", Text: "x"},
		{Name: "badmarkup", Text: "{amount:lots}"},
	})
	if err == nil {
		t.Fatal("Prepare hid the broken recording, bad name and bad markup")
	}
	for _, want := range []string{"broken", "bad prompt name", "say-as"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Prepare error lacks %q: %v", want, err)
		}
	}
	if !p.Recorded("welcome") || p.Recorded("menu") || p.Recorded("broken") {
		t.Fatal("wrong recorded set")
	}
	if n := s.calls.Load(); n != 1 {
		t.Fatalf("%d syntheses at load, want 1 (menu)", n)
	}
	s.mu.Lock()
	if s.texts[0] != "Say track, or one to track a parcel." {
		t.Fatalf("synthesized %q: markup not expanded", s.texts[0])
	}
	s.mu.Unlock()

	// The recording plays at the call rate.
	st, err := p.Play(context.Background(), Prompt{Name: "welcome", Text: "ignored"})
	if err != nil {
		t.Fatal(err)
	}
	clip, err := ReadAll(context.Background(), st)
	if err != nil || clip.Rate != 8000 || len(clip.Samples) != 8000 {
		t.Fatalf("recording: %d samples at %d Hz, %v", len(clip.Samples), clip.Rate, err)
	}
	// The static prompt plays from the cache: no synthesis.
	st, err = p.Play(context.Background(), Prompt{Name: "menu", Text: "Say track, or {digits:1} to track a parcel."})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if n := s.calls.Load(); n != 1 {
		t.Fatalf("cached prompt synthesized again (%d calls)", n)
	}
	// Dynamic text streams, expanded.
	st, err = p.Play(context.Background(), Prompt{Name: "balance", Text: "Your balance is {amount:112.40 GBP}."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAll(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	last := s.texts[len(s.texts)-1]
	s.mu.Unlock()
	if last != "Your balance is one hundred and twelve pounds forty." {
		t.Fatalf("dynamic text %q", last)
	}
	if _, err := p.Play(context.Background(), Prompt{Name: "x", Text: "{oops"}); err == nil {
		t.Fatal("bad markup played")
	}
	if _, err := p.Play(context.Background(), Prompt{Name: "x", Text: " "}); !errors.Is(err, ErrEmptyText) {
		t.Fatalf("empty prompt: %v", err)
	}
	// A reload without the recording drops it.
	if err := p.Prepare(context.Background(), []Prompt{{Name: "menu", Text: "Say track."}}); err != nil {
		t.Fatal(err)
	}
	if p.Recorded("welcome") {
		t.Fatal("reload kept a recording no longer configured")
	}
}

func TestCheckPrompts(t *testing.T) {
	dir := t.TempDir()
	if err := audio.WriteWAVFile(filepath.Join(dir, "welcome.wav"), audio.Clip{Rate: 8000, Samples: tone(8000, 440, 800)}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.wav"), []byte("not a wav"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		prompts []Prompt
		want    []string // substrings, one per warning, in order
	}{
		{"one synthesized voice", []Prompt{{Name: "a", Text: "Hello."}, {Name: "b", Text: "Bye.", Voice: "slt"}}, nil},
		{"all recorded", []Prompt{{Name: "welcome"}}, nil},
		{"mixed", []Prompt{{Name: "welcome"}, {Name: "menu", Text: "Say track."}}, []string{"mixes 1 recorded prompts (welcome) with 1 synthesized ones (menu)"}},
		{"two voices", []Prompt{{Name: "a", Text: "Hello."}, {Name: "b", Text: "Bye.", Voice: "kal"}}, []string{"2 voices: kal (b), slt (a)"}},
		{"markup", []Prompt{{Name: "a", Text: "{amount:x}"}}, []string{"say-as markup at byte 0"}},
		{"nothing to say", []Prompt{{Name: "gone"}}, []string{"no recording"}},
		{"unreadable", []Prompt{{Name: "bad", Text: "x"}}, []string{"recording unreadable"}},
		{"bad name", []Prompt{{Name: "a/b", Text: "x"}}, []string{"bad prompt name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := CheckPrompts(dir, "slt", tt.prompts)
			if len(ws) != len(tt.want) {
				t.Fatalf("warnings %v, want %d", ws, len(tt.want))
			}
			for i, w := range ws {
				if !strings.Contains(w.String(), tt.want[i]) {
					t.Errorf("warning %q lacks %q", w, tt.want[i])
				}
			}
		})
	}
}

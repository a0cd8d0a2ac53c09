package moonshine

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openivr/ivr/asr"
)

func TestDigitString(t *testing.T) {
	esc := []string{"agent", "customer service"}
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"One, two, three.", "one two three", true},
		{"123", "one two three", true},
		{"Twenty.", "two zero", true},
		{"Oh four seven.", "zero four seven", true},
		{"Double five.", "five five", true},
		{"Agent.", "agent", true},
		{"I want customer service", "customer service", true},
		{"Hello there.", "", false},
		{"", "", false},
	} {
		got, ok := digitString(c.in, esc)
		if got != c.want || ok != c.ok {
			t.Errorf("digitString(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestSurfaceForms(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"five", []string{"Five.", "Five"}},
		{"i lost my card", []string{"I lost my card.", "I lost my card"}},
		{"can i get my pin", []string{"Can I get my pin.", "Can I get my pin"}},
		{"i'm here", []string{"I'm here.", "I'm here"}},
		{"", nil},
	} {
		if got := surfaceForms(c.in); !slices.Equal(got, c.want) {
			t.Errorf("surfaceForms(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestGrammarPhrases(t *testing.T) {
	ps := grammarPhrases(asr.Hints{Grammar: asr.GrammarDigit, EscapeWords: []string{"Agent", "agent", "oh"}})
	if len(ps) != len(digitWords)+1 || ps[len(ps)-1] != "agent" {
		t.Errorf("digit grammar phrases %q", ps)
	}
	if ps := grammarPhrases(asr.Hints{Grammar: asr.GrammarYesNo}); !slices.Contains(ps, "that's right") || !slices.Contains(ps, "no thank you") {
		t.Errorf("yes/no phrases %q", ps)
	}
	for _, g := range []string{"", asr.GrammarDigits} {
		if ps := grammarPhrases(asr.Hints{Grammar: g, Phrases: []string{"x"}}); ps != nil {
			t.Errorf("grammar %q: closed set %q", g, ps)
		}
	}
}

func TestPrepare(t *testing.T) {
	s := make([]int16, modelRate) // 1 s: silence, a 200 ms burst, silence
	for i := 8000; i < 11200; i++ {
		s[i] = int16(1000 * (1 - 2*(i%2)))
	}
	x := prepare(s, Conditioning{PeakTarget: 0.5})
	if len(x) != len(s) || x[8000] < 0.49 || x[8000] > 0.51 {
		t.Fatalf("peak normalisation: len %d, x[8000] = %v", len(x), x[8000])
	}
	x = prepare(s, Conditioning{TrimBelowDB: 30, TrimPad: 100 * time.Millisecond})
	if want := 3200 + 2*1600; len(x) != want {
		t.Errorf("trimmed to %d samples, want %d", len(x), want)
	}
	x = prepare(s, Conditioning{TargetDB: -20, PadLead: 50 * time.Millisecond})
	if len(x) != len(s)+800 || x[0] != 0 {
		t.Errorf("padding: %d samples", len(x))
	}
	var peak float32
	for _, v := range x {
		peak = max(peak, v, -v)
	}
	if peak > 1 || peak < 0.09 {
		t.Errorf("level -20 dBFS: peak %v", peak)
	}
	if x := prepare(make([]int16, 100), DefaultConditioning); len(x) != 100 {
		t.Errorf("silence: %d", len(x))
	}
}

// FuzzDigitString: the digit-string mapping never panics and gives only
// digit words or one escape word.
func FuzzDigitString(f *testing.F) {
	for _, s := range []string{"One, two, three.", "123", "twenty-five", "double oh seven", "agent please", "\xff9"} {
		f.Add(s)
	}
	esc := []string{"agent", "customer service"}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := digitString(s, esc)
		if !ok {
			if got != "" {
				t.Fatalf("digitString(%q) = %q, false", s, got)
			}
			return
		}
		if slices.Contains(esc, got) {
			return
		}
		for _, w := range strings.Fields(got) {
			if !slices.Contains(asr.DigitWords[:], w) {
				t.Fatalf("digitString(%q) = %q: %q is no digit", s, got, w)
			}
		}
	})
}

package sphinx

import (
	"math"

	"github.com/openivr/ivr/asr"
	"strings"
	"testing"
)

func TestLetterToSound(t *testing.T) {
	for _, c := range []struct{ w, want string }{
		{"zorbcard", "Z AO R B K AA R D"},
		{"kate", "K EY T"},
		{"phone", "F OW N"},
		{"nation", "N AE SH AH N"},
		{"qqqzx", ""},
		{"a1", ""},
	} {
		if got := letterToSound(c.w); got != c.want {
			t.Errorf("letterToSound(%q) = %q, want %q", c.w, got, c.want)
		}
	}
	// Every phone must be one the model knows.
	valid := " AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH "
	for _, r := range ltsRules {
		for _, p := range strings.Fields(r.p) {
			if !strings.Contains(valid, " "+p+" ") {
				t.Errorf("rule %q: unknown phone %q", r.g, p)
			}
		}
	}
}

func TestDictFallbacks(t *testing.T) {
	d := &pronDict{m: map[string][]string{"color": {"K AH L ER"}, "post": {"P OW S T"}, "code": {"K OW D"}}}
	if p := d.prons("colour"); len(p) != 1 || p[0] != "K AH L ER" {
		t.Errorf("colour: %v", p)
	}
	if p := d.prons("postcode"); len(p) != 1 || p[0] != "P OW S T K OW D" {
		t.Errorf("postcode: %v", p)
	}
	if !d.known("blorp") || d.known("xkcd") {
		t.Error("letter to sound fallback: want blorp known, xkcd not")
	}
}

func TestPosteriors(t *testing.T) {
	// Two paths say "five" (they differ in silences), one says "nine"
	// 10 nats lower after scaling: five keeps nearly all the mass.
	res := posteriors("five", []string{"five", "nine", "five"}, []int{-100, -110, -100}, 1, 4, true)
	if res.Text != "five" || res.Confidence < 0.99 || len(res.Alternatives) != 1 || res.Alternatives[0].Text != "nine" {
		t.Fatalf("%+v", res)
	}
	// Equal scores: the mass splits by paths.
	res = posteriors("one", []string{"one", "two", "one", "two"}, []int{5, 5, 5, 5}, 1, 4, true)
	if math.Abs(res.Confidence-0.5) > 1e-9 || math.Abs(res.Alternatives[0].Confidence-0.5) > 1e-9 {
		t.Fatalf("%+v", res)
	}
	// The lattice lost the decoder's best path (a grammar decode of a
	// wideband "four" gave the single lattice path "oh"): the best path
	// counts as well as the top path, never as 0 against an alternative's 1.
	res = posteriors("four", []string{"oh"}, []int{-1235}, 1, 4, true)
	if res.Text != "four" || math.Abs(res.Confidence-0.5) > 1e-9 || len(res.Alternatives) != 1 || res.Alternatives[0].Confidence > res.Confidence {
		t.Fatalf("lost best path: %+v", res)
	}
	// Several paths of another text outweigh the single best path: the
	// reported text is the most probable one, so no alternative is more
	// confident than the text.
	res = posteriors("eight", []string{"eight", "six", "six", "six"}, []int{-100, -101, -101, -101}, 1, 4, true)
	if res.Text != "six" || res.Confidence < 0.5 || res.Alternatives[0].Text != "eight" || res.Alternatives[0].Confidence >= res.Confidence {
		t.Fatalf("most probable text: %+v", res)
	}
	for _, r := range []asr.Result{
		posteriors("a", []string{"b", "a", "", "c"}, []int{-3, -5, -1, -2}, 0.7, 4, true),
		posteriors("a", []string{"", ""}, []int{-3, -5}, 0.7, 4, true),
	} {
		for _, a := range r.Alternatives {
			if a.Confidence > r.Confidence {
				t.Errorf("alternative %q (%.2f) above the text %q (%.2f)", a.Text, a.Confidence, r.Text, r.Confidence)
			}
		}
		if r.Text != "a" && r.Text != "c" {
			t.Errorf("text %q", r.Text)
		}
	}
	// Without pick (language models) the best path keeps the text and is
	// as probable as the most probable other text.
	res = posteriors("eight", []string{"eight", "six", "six", "six"}, []int{-100, -101, -101, -101}, 1, 4, false)
	if res.Text != "eight" || math.Abs(res.Confidence-res.Alternatives[0].Confidence) > 1e-9 {
		t.Fatalf("best path kept: %+v", res)
	}
	if res := posteriors("", nil, nil, 1, 4, true); res.Confidence != 0 || !res.Final {
		t.Fatalf("empty: %+v", res)
	}
}

func TestAverageResults(t *testing.T) {
	res := averageResults([]asr.Result{
		{Text: "eight", Confidence: 0.6, Alternatives: []asr.Alternative{{Text: "six", Confidence: 0.4}}},
		{Text: "six", Confidence: 0.9, Alternatives: []asr.Alternative{{Text: "eight", Confidence: 0.1}}},
	}, 4)
	if res.Text != "six" || math.Abs(res.Confidence-0.65) > 1e-9 || len(res.Alternatives) != 1 || math.Abs(res.Alternatives[0].Confidence-0.35) > 1e-9 || !res.Final {
		t.Fatalf("%+v", res)
	}
	if res := averageResults([]asr.Result{{}, {}}, 4); res.Text != "" || res.Confidence != 0 {
		t.Fatalf("empty: %+v", res)
	}
}

package sphinx

import (
	"math"
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
	res := posteriors("five", []string{"five", "nine", "five"}, []int{-100, -110, -100}, 1, 4)
	if res.Text != "five" || res.Confidence < 0.99 || len(res.Alternatives) != 1 || res.Alternatives[0].Text != "nine" {
		t.Fatalf("%+v", res)
	}
	// Equal scores: the mass splits by paths.
	res = posteriors("one", []string{"one", "two", "one", "two"}, []int{5, 5, 5, 5}, 1, 4)
	if math.Abs(res.Confidence-0.5) > 1e-9 || math.Abs(res.Alternatives[0].Confidence-0.5) > 1e-9 {
		t.Fatalf("%+v", res)
	}
	if res := posteriors("", nil, nil, 1, 4); res.Confidence != 0 || !res.Final {
		t.Fatalf("empty: %+v", res)
	}
}

//go:build cgo

package moonshine

import (
	"testing"
)

// TestBiaser: tokens that spell a hint word (3 letters or more of it) get
// the bonus, at a word's start and continuing one; other words, short
// prefixes and punctuation do not.
func TestBiaser(t *testing.T) {
	r := recognizer(t)
	tok := r.m.tok
	b := newBiaser(r.m.bias, []string{"check my balance", "agent"}, 3)
	if b == nil {
		t.Fatal("no biaser for hint phrases")
	}
	id := func(piece string) int {
		t.Helper()
		v, ok := tok.ids[piece]
		if !ok {
			t.Fatalf("piece %q not in the vocabulary", piece)
		}
		return int(v)
	}
	row := make([]float32, tok.Size())
	b.apply(row, nil)
	for _, p := range []string{"▁bal", "▁Bal", "▁balance", "▁agent", "▁check"} {
		if row[id(p)] != 3 {
			t.Errorf("word start %q: bonus %v, want 3", p, row[id(p)])
		}
	}
	for _, p := range []string{"▁my", "▁b", "▁mel", "▁the", ".", "▁ba"} {
		if row[id(p)] != 0 {
			t.Errorf("%q: bonus %v, want none", p, row[id(p)])
		}
	}
	// After "▁bal", "ance" completes "balance"; after "▁mel" it does not.
	row = make([]float32, tok.Size())
	b.apply(row, []int{id("▁bal")})
	if row[id("ance")] != 3 {
		t.Errorf("continuation of bal: bonus %v", row[id("ance")])
	}
	row = make([]float32, tok.Size())
	b.apply(row, []int{id("▁mel")})
	if row[id("ance")] != 0 {
		t.Errorf("continuation of mel: bonus %v, want none", row[id("ance")])
	}
	if newBiaser(r.m.bias, []string{"a an"}, 3) != nil || newBiaser(r.m.bias, []string{"balance"}, 0) != nil {
		t.Error("a biaser for nothing to favour")
	}
}

package asr

import "testing"

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Check my balance!", "I'd like 2 cards", "'quoted'", "  ", "Ünïcode wörds 9"} {
		f.Add(s, "check my balance")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		n := Normalize(a)
		if Normalize(n) != n {
			t.Fatalf("Normalize not idempotent: %q -> %q -> %q", a, n, Normalize(n))
		}
		if e, _ := WordErrors(a, a); e != 0 {
			t.Fatalf("WordErrors(%q, itself) = %d", a, e)
		}
		e, w := WordErrors(a, b)
		if e < 0 || w < 0 || e < abs(w-len(fieldsOf(b))) {
			t.Fatalf("WordErrors(%q, %q) = %d, %d", a, b, e, w)
		}
	})
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func fieldsOf(s string) []string {
	var out []string
	w := ""
	for _, r := range Normalize(s) + " " {
		if r == ' ' {
			if w != "" {
				out = append(out, w)
			}
			w = ""
			continue
		}
		w += string(r)
	}
	return out
}

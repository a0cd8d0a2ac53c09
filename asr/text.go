package asr

import (
	"strings"
	"unicode"
)

// Normalize lower-cases s, replaces punctuation with spaces (keeping
// apostrophes inside words), spells out single digits and collapses
// white space, so that transcripts from different engines compare equal.
func Normalize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || r == '\'':
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			b.WriteByte(' ')
			b.WriteString(DigitWords[r-'0'])
			b.WriteByte(' ')
		default:
			b.WriteByte(' ')
		}
	}
	f := strings.Fields(b.String())
	for i, w := range f {
		f[i] = strings.Trim(w, "'")
	}
	out := f[:0]
	for _, w := range f {
		if w != "" {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

// DigitWords spells the digits 0-9.
var DigitWords = [10]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

// WordErrors returns the word-level edit distance between a reference and
// a hypothesis (both normalized with Normalize) and the reference length,
// so WER over a set is sum(errors)/sum(words).
func WordErrors(ref, hyp string) (errs, words int) {
	r := strings.Fields(Normalize(ref))
	h := strings.Fields(Normalize(hyp))
	prev := make([]int, len(h)+1)
	cur := make([]int, len(h)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(r); i++ {
		cur[0] = i
		for j := 1; j <= len(h); j++ {
			sub := prev[j-1]
			if r[i-1] != h[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(h)], len(r)
}

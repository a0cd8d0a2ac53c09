package asr

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/openivr/ivr/internal/numwords"
)

// Normalize lower-cases s, replaces punctuation with spaces (keeping
// apostrophes inside words), spells out numbers as callers say them (0-999
// as words, "24" as "twenty four"; longer or zero-led strings digit by
// digit, the way the intent classifier does) and collapses white space,
// so that transcripts from different engines compare equal.
func Normalize(s string) string {
	var b strings.Builder
	s = strings.ToLower(s)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r >= '0' && r <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			b.WriteByte(' ')
			b.Write(numwords.AppendCardinal(nil, s[i:j]))
			b.WriteByte(' ')
			i = j
			continue
		case unicode.IsLetter(r) || r == '\'':
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
		i += size
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

// Package entity extracts typed values from what a caller said or keyed:
// digit strings, numbers, amounts, dates, times, yes/no, ordinals and
// custom lists. Extractors take recognizer output (lowercase words, digits
// written as words, no punctuation) as well as typed text, never panic,
// and report whether they found anything.
package entity

import (
	"strings"
	"unicode"
)

// MaxWords bounds the words an extractor looks at.
const MaxWords = 256

// Words splits text into lowercase words. Letters and digits make words;
// apostrophes are dropped ("o'clock" is "oclock"); a decimal point or a
// comma between digits is kept ("2.50", "1,000"); every other character
// separates words. Only the first MaxWords words are returned: no caller
// says more in one turn, and it bounds the extractors' work.
func Words(text string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 && len(out) < MaxWords {
			out = append(out, b.String())
			b.Reset()
		}
	}
	rs := []rune(text)
	for i, r := range rs {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		case r == '\'' || r == '\u2019':
		case (r == '.' || r == ',' || r == ':') && i > 0 && i+1 < len(rs) && unicode.IsDigit(rs[i-1]) && unicode.IsDigit(rs[i+1]):
			b.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	return out
}

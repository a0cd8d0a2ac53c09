package nlu

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Normalize lowercases text, drops apostrophes ("what's" becomes
// "whats"), turns every other run of non-letter, non-digit characters into
// one space and trims the result. Recognizers and keyboards disagree on
// case and punctuation, so both training examples and caller utterances
// go through it before features are taken.
func Normalize(text string) string {
	return string(appendNormalized(nil, text))
}

// appendTokens appends the space-separated words of normalized text to dst.
func appendTokens(dst []string, normalized string) []string {
	for len(normalized) > 0 {
		i := strings.IndexByte(normalized, ' ')
		if i < 0 {
			return append(dst, normalized)
		}
		if i > 0 {
			dst = append(dst, normalized[:i])
		}
		normalized = normalized[i+1:]
	}
	return dst
}

// appendNormalized is Normalize appending to a byte slice, so the hot
// path does not allocate.
func appendNormalized(dst []byte, text string) []byte {
	space := false
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '\'':
			case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
				dst = appendSpaced(dst, space)
				space = false
				dst = append(dst, c)
			case 'A' <= c && c <= 'Z':
				dst = appendSpaced(dst, space)
				space = false
				dst = append(dst, c+'a'-'A')
			default:
				space = true
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		switch {
		case r == '\u2019':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			dst = appendSpaced(dst, space)
			space = false
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		default:
			space = true
		}
	}
	return dst
}

func appendSpaced(dst []byte, space bool) []byte {
	if space && len(dst) > 0 {
		dst = append(dst, ' ')
	}
	return dst
}

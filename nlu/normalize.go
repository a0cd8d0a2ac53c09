package nlu

import (
	"bytes"
	"github.com/openivr/ivr/internal/numwords"
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
			case '0' <= c && c <= '9' && (space || len(dst) == 0 || dst[len(dst)-1] == ' '):
				// A number standing alone is spelled as a recognizer
				// writes what the caller says ("option 2" and "option
				// two" are one request).
				if out, next, ok := appendSpelledNumber(appendSpaced(dst, space), text, i-1); ok {
					dst, i, space = out, next, false
					continue
				}
				dst = appendSpaced(dst, space)
				space = false
				dst = append(dst, c)
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

// appendSpelledNumber spells the number token that starts at text[i] (a
// digit at the start of a token) when the token is all digits, or an
// ordinal up to 999th: 0-999 as words ("24" becomes
// "twenty four"), longer or zero-led strings digit by digit ("0800" becomes
// "zero eight zero zero"), the way callers say them. It returns ok false,
// appending nothing, for tokens that mix digits and letters otherwise
// ("4g", "mp3").
func appendSpelledNumber(dst []byte, text string, i int) ([]byte, int, bool) {
	j := i
	for j < len(text) && '0' <= text[j] && text[j] <= '9' {
		j++
	}
	k := j
	for k < len(text) && isWordByte(text[k]) {
		k++
	}
	if k > j {
		// An ordinal (1st, 22nd, 103rd): the cardinal's last word
		// becomes its ordinal.
		suffix := strings.ToLower(text[j:k])
		if k < len(text) && text[k] >= utf8.RuneSelf || j-i > 3 || text[i] == '0' ||
			suffix != "st" && suffix != "nd" && suffix != "rd" && suffix != "th" {
			return dst, i, false
		}
		start := len(dst)
		dst = numwords.AppendCardinal(dst, text[i:j])
		last := bytes.LastIndexByte(dst[start:], ' ') + start + 1
		word := string(dst[last:])
		dst = dst[:last]
		return append(dst, numwords.Ordinal(word)...), k, true
	}
	if j < len(text) && text[j] >= utf8.RuneSelf {
		return dst, i, false // a letter or digit beyond ASCII follows
	}
	return numwords.AppendCardinal(dst, text[i:j]), j, true
}

// isWordByte reports an ASCII letter or digit, or an apostrophe (which
// normalization drops inside a word).
func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '\''
}

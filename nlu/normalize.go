package nlu

import (
	"bytes"
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

var (
	numOnes = [...]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
		"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
	numTens = [...]string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
	// The irregular ordinals (the rest add "th", "-y" becomes "-ieth").
	numOrdinals = map[string]string{"one": "first", "two": "second", "three": "third", "five": "fifth",
		"eight": "eighth", "nine": "ninth", "twelve": "twelfth"}
)

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
		dst = appendCardinal(dst, text[i:j])
		last := bytes.LastIndexByte(dst[start:], ' ') + start + 1
		word := string(dst[last:])
		dst = dst[:last]
		if o, ok := numOrdinals[word]; ok {
			return append(dst, o...), k, true
		}
		if strings.HasSuffix(word, "y") {
			return append(append(dst, word[:len(word)-1]...), "ieth"...), k, true
		}
		return append(append(dst, word...), "th"...), k, true
	}
	if j < len(text) && text[j] >= utf8.RuneSelf {
		return dst, i, false // a letter or digit beyond ASCII follows
	}
	return appendCardinal(dst, text[i:j]), j, true
}

// appendCardinal spells a string of 1-3 digits with no leading zero as
// words, and any other digit string digit by digit.
func appendCardinal(dst []byte, digits string) []byte {
	if len(digits) > 3 || len(digits) > 1 && digits[0] == '0' {
		for n := 0; n < len(digits); n++ {
			if n > 0 {
				dst = append(dst, ' ')
			}
			dst = append(dst, numOnes[digits[n]-'0']...)
		}
		return dst
	}
	v := 0
	for n := 0; n < len(digits); n++ {
		v = v*10 + int(digits[n]-'0')
	}
	if v >= 100 {
		dst = append(append(dst, numOnes[v/100]...), " hundred"...)
		if v %= 100; v == 0 {
			return dst
		}
		dst = append(dst, ' ')
	}
	switch {
	case v < 20:
		dst = append(dst, numOnes[v]...)
	default:
		dst = append(dst, numTens[v/10]...)
		if v%10 != 0 {
			dst = append(append(dst, ' '), numOnes[v%10]...)
		}
	}
	return dst
}

// isWordByte reports an ASCII letter or digit, or an apostrophe (which
// normalization drops inside a word).
func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '\''
}

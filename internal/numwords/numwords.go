// Package numwords spells numbers the way callers say them and
// recognizers write them, so that "press 2", "option two" and a
// recognizer's "two" compare equal wherever text is matched (intent
// examples, recognizer hints, word error rates).
package numwords

var (
	ones = [...]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
		"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
	tens = [...]string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
	// The irregular ordinals (the rest add "th", "-y" becomes "-ieth").
	ordinals = map[string]string{"one": "first", "two": "second", "three": "third", "five": "fifth",
		"eight": "eighth", "nine": "ninth", "twelve": "twelfth"}
)

// AppendCardinal spells a string of 1-3 digits with no leading zero as
// words, and any other digit string digit by digit.
func AppendCardinal(dst []byte, digits string) []byte {
	if len(digits) > 3 || len(digits) > 1 && digits[0] == '0' {
		for n := 0; n < len(digits); n++ {
			if n > 0 {
				dst = append(dst, ' ')
			}
			dst = append(dst, ones[digits[n]-'0']...)
		}
		return dst
	}
	v := 0
	for n := 0; n < len(digits); n++ {
		v = v*10 + int(digits[n]-'0')
	}
	if v >= 100 {
		dst = append(append(dst, ones[v/100]...), " hundred"...)
		if v %= 100; v == 0 {
			return dst
		}
		dst = append(dst, ' ')
	}
	switch {
	case v < 20:
		dst = append(dst, ones[v]...)
	default:
		dst = append(dst, tens[v/10]...)
		if v%10 != 0 {
			dst = append(append(dst, ' '), ones[v%10]...)
		}
	}
	return dst
}

// Ordinal turns the last word of a spelled cardinal into its ordinal
// ("one" becomes "first", "twenty" "twentieth", "four" "fourth").
func Ordinal(word string) string {
	if o, ok := ordinals[word]; ok {
		return o
	}
	if n := len(word); n > 0 && word[n-1] == 'y' {
		return word[:n-1] + "ieth"
	}
	return word + "th"
}

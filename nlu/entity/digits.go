package entity

import "strings"

// digitWords are the words for single digits in a digit string, including
// "oh" and "o" for zero.
var digitWords = map[string]byte{
	"zero": '0', "oh": '0', "o": '0', "nought": '0', "naught": '0', "nil": '0',
	"one": '1', "two": '2', "three": '3', "four": '4', "five": '5',
	"six": '6', "seven": '7', "eight": '8', "nine": '9', "niner": '9',
}

// soundAlikes are words a recognizer writes for a digit ("for" for four);
// they count only next to another digit.
var soundAlikes = map[string]byte{
	"for": '4', "fore": '4', "to": '2', "too": '2', "ate": '8', "won": '1', "tree": '3',
}

var repeatWords = map[string]int{"double": 2, "triple": 3, "treble": 3}

// Digits returns the digit string in text, keyed ("4271", "42-71") or
// spoken ("four two seven one"), with the spoken forms callers use: "oh"
// for zero, "double five" for 55, "triple seven", grouped numbers ("forty
// two" is 42, "nineteen" is 19, "five hundred" is 500, "one eight hundred"
// is 1800) and words a recognizer writes for digits ("for", "to") when they
// stand next to other digits. Other words ("my number is", "uh") are
// skipped. It reports false when text holds no digit.
func Digits(text string) (string, bool) {
	words := Words(text)
	var out []byte
	isDigitAt := func(i int) bool {
		if i < 0 || i >= len(words) {
			return false
		}
		w := words[i]
		if _, ok := digitWords[w]; ok && w != "o" {
			return true
		}
		if _, ok := unitWords[w]; ok {
			return true
		}
		if _, ok := tensWords[w]; ok {
			return true
		}
		if _, ok := repeatWords[w]; ok {
			return true
		}
		return allDigits(w)
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		repeat := 1
		if r, ok := repeatWords[w]; ok && i+1 < len(words) {
			if grp, _, ok := digitGroup(words, i+1, true, isDigitAt); ok && len(grp) == 1 {
				repeat = r
				i++
				w = words[i]
			}
		}
		grp, next, ok := digitGroup(words, i, true, isDigitAt)
		if !ok {
			continue
		}
		for range repeat {
			out = append(out, grp...)
		}
		i = next - 1
	}
	if len(out) == 0 {
		return "", false
	}
	return string(out), true
}

// digitGroup reads the digits that start at words[i] and returns them with
// the index after the last word used.
func digitGroup(words []string, i int, inString bool, isDigitAt func(int) bool) ([]byte, int, bool) {
	w := words[i]
	switch {
	case allDigits(strings.ReplaceAll(strings.ReplaceAll(w, ",", ""), ".", "")) && w != "":
		return []byte(strings.ReplaceAll(strings.ReplaceAll(w, ",", ""), ".", "")), i + 1, true
	case w == "o":
		if isDigitAt(i-1) || isDigitAt(i+1) {
			return []byte{'0'}, i + 1, true
		}
		return nil, i, false
	}
	if d, ok := soundAlikes[w]; ok {
		if inString && (isDigitAt(i-1) || isDigitAt(i+1)) {
			return []byte{d}, i + 1, true
		}
		return nil, i, false
	}
	if t, ok := tensWords[w]; ok {
		if i+1 < len(words) {
			if u, ok := unitWords[words[i+1]]; ok && u >= 1 && u <= 9 {
				return []byte{byte('0' + t/10), byte('0' + u)}, i + 2, true
			}
		}
		return []byte{byte('0' + t/10), '0'}, i + 1, true
	}
	var grp []byte
	if d, ok := digitWords[w]; ok {
		grp = []byte{d}
	} else if u, ok := unitWords[w]; ok { // ten..nineteen
		grp = []byte{'1', byte('0' + u - 10)}
	} else {
		return nil, i, false
	}
	next := i + 1
	// "five hundred", "five hundred and twelve", "one eight hundred".
	if next < len(words) && (words[next] == "hundred" || words[next] == "thousand") && len(grp) == 1 {
		zeros := 2
		if words[next] == "thousand" {
			zeros = 3
		}
		next++
		k := next
		if k < len(words) && words[k] == "and" {
			k++
		}
		if k < len(words) {
			if v, end, ok := spokenNumber(words, k); ok && v == float64(int(v)) && v >= 1 && int(v) < pow10(zeros) {
				return append(grp, padDigits(int(v), zeros)...), end, true
			}
		}
		for range zeros {
			grp = append(grp, '0')
		}
	}
	return grp, next, true
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

// padDigits writes v with at least width digits.
func padDigits(v, width int) []byte {
	var b []byte
	for v > 0 || len(b) < width {
		b = append([]byte{byte('0' + v%10)}, b...)
		v /= 10
	}
	return b
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

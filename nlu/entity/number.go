package entity

import (
	"math"
	"strconv"
	"strings"
)

var unitWords = map[string]int{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
	"seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
	"thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
	"seventeen": 17, "eighteen": 18, "nineteen": 19,
}

var tensWords = map[string]int{
	"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50,
	"sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}

var scaleWords = map[string]float64{
	"thousand": 1e3, "million": 1e6, "billion": 1e9,
}

// numeral parses a token written with digits ("42", "1,250", "2.5",
// "3rd" is not one). Thousands commas must group by three.
func numeral(tok string) (float64, bool) {
	if tok == "" || tok[0] < '0' || tok[0] > '9' {
		return 0, false
	}
	clean := tok
	if strings.Contains(tok, ",") {
		parts := strings.Split(tok, ",")
		for i, p := range parts {
			if i > 0 && len(p) < 3 {
				return 0, false
			}
		}
		clean = strings.ReplaceAll(tok, ",", "")
	}
	v, err := strconv.ParseFloat(clean, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

// isNumberWord reports whether w can be part of a spoken number.
func isNumberWord(w string) bool {
	_, u := unitWords[w]
	_, t := tensWords[w]
	_, s := scaleWords[w]
	return u || t || s || w == "hundred"
}

// spokenNumber parses the spoken number that starts at words[i]: "two
// hundred and fifty three thousand", "a hundred", "one point five",
// "two and a half", "minus four". It returns the value and the index after
// the last word used. Consecutive single digits ("one two") end the number
// after the first, so a digit string is not summed.
func spokenNumber(words []string, i int) (v float64, next int, ok bool) {
	neg := false
	if i < len(words) && (words[i] == "minus" || words[i] == "negative") {
		neg = true
		i++
	}
	if i+1 < len(words) && words[i] == "a" && (words[i+1] == "hundred" || scaleWords[words[i+1]] > 0) {
		words = append(append([]string{}, words[:i]...), append([]string{"one"}, words[i+1:]...)...)
	}
	var total, current float64
	const (
		none = iota
		unit
		teen
		tens
		hundred
		scale
	)
	last := none
	j := i
	for j < len(words) {
		w := words[j]
		if n, isNum := numeral(w); isNum && last == none {
			current, last = n, unit
			if n >= 10 {
				last = teen
			}
			j++
			continue
		}
		if u, isUnit := unitWords[w]; isUnit {
			if last == unit || last == teen || (last == tens && u >= 10) {
				break
			}
			current += float64(u)
			last = unit
			if u >= 10 {
				last = teen
			}
			j++
			continue
		}
		if t, isTens := tensWords[w]; isTens {
			if last == unit || last == teen || last == tens {
				break
			}
			current += float64(t)
			last = tens
			j++
			continue
		}
		if w == "hundred" && last != none && last != hundred {
			current = math.Max(current, 1) * 100
			last = hundred
			j++
			continue
		}
		if s, isScale := scaleWords[w]; isScale && last != none && last != scale {
			total += math.Max(current, 1) * s
			current = 0
			last = scale
			j++
			continue
		}
		if w == "and" && last != none && j+1 < len(words) {
			if isNumberWord(words[j+1]) && (last == hundred || last == scale) {
				j++
				continue
			}
			if j+2 < len(words) && words[j+1] == "a" && words[j+2] == "half" {
				current += 0.5
				j += 3
				break
			}
		}
		if w == "point" && last != none && j+1 < len(words) {
			frac, scaleF, k := 0.0, 0.1, j+1
			for ; k < len(words); k++ {
				d, isUnit := unitWords[words[k]]
				if words[k] == "oh" {
					d, isUnit = 0, true
				}
				if !isUnit || d > 9 {
					break
				}
				frac += float64(d) * scaleF
				scaleF /= 10
			}
			if k > j+1 {
				current += frac
				j = k
			}
			break
		}
		break
	}
	if last == none {
		return 0, i, false
	}
	v = total + current
	if neg {
		v = -v
	}
	return v, j, true
}

// Number finds the first number in text, written ("1,250", "2.5", "-3")
// or spoken ("two hundred and fifty", "one point five", "two and a half",
// "a thousand", "minus four"), and returns its value.
func Number(text string) (float64, bool) {
	words := Words(markMinus(text))
	for i := range words {
		if i > 0 && words[i-1] == "minus" && isNumberStart(words, i) {
			continue // parsed with its sign from i-1
		}
		if isNumberStart(words, i) || (words[i] == "minus" || words[i] == "negative") && i+1 < len(words) && isNumberStart(words, i+1) {
			if v, _, ok := spokenNumber(words, i); ok {
				return v, true
			}
		}
	}
	return 0, false
}

// isNumberStart reports whether a number can start at words[i].
func isNumberStart(words []string, i int) bool {
	w := words[i]
	if _, ok := numeral(w); ok {
		return true
	}
	if _, ok := unitWords[w]; ok {
		return true
	}
	if _, ok := tensWords[w]; ok {
		return true
	}
	return w == "a" && i+1 < len(words) && (words[i+1] == "hundred" || scaleWords[words[i+1]] > 0)
}

// markMinus spells out a minus sign that starts a written number ("-3"),
// so that Words, which drops punctuation, keeps it; other hyphens
// ("twenty-five") only separate words.
func markMinus(text string) string {
	if !strings.Contains(text, "-") {
		return text
	}
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '-' && i+1 < len(text) && text[i+1] >= '0' && text[i+1] <= '9' && (i == 0 || text[i-1] == ' ') {
			b.WriteString(" minus ")
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

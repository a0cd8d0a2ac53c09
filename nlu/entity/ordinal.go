package entity

import "strings"

var ordinalUnits = map[string]int{
	"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
	"seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11,
	"twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
	"sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
}

var ordinalTens = map[string]int{
	"twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50,
	"sixtieth": 60, "seventieth": 70, "eightieth": 80, "ninetieth": 90,
}

// ordinalAt parses the ordinal that starts at words[i] ("third", "twenty
// first", "21st") and returns it with the index after it.
func ordinalAt(words []string, i int) (int, int, bool) {
	w := words[i]
	if v, ok := ordinalUnits[w]; ok {
		return v, i + 1, true
	}
	if v, ok := ordinalTens[w]; ok {
		return v, i + 1, true
	}
	if t, ok := tensWords[w]; ok && i+1 < len(words) {
		if u, ok := ordinalUnits[words[i+1]]; ok && u < 10 {
			return t + u, i + 2, true
		}
	}
	for _, suf := range []string{"st", "nd", "rd", "th"} {
		if n := strings.TrimSuffix(w, suf); n != w && allDigits(n) && len(n) <= 6 {
			v := 0
			for _, c := range n {
				v = v*10 + int(c-'0')
			}
			if v > 0 {
				return v, i + 1, true
			}
		}
	}
	return 0, i, false
}

// Ordinal finds the first ordinal in text ("the second one", "twenty
// first", "3rd") and returns its value; "last" is not an ordinal here.
func Ordinal(text string) (int, bool) {
	words := Words(text)
	for i := range words {
		if v, _, ok := ordinalAt(words, i); ok {
			return v, true
		}
	}
	return 0, false
}

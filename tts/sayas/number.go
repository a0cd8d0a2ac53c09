// Package sayas turns numbers, amounts, dates, times and codes into the
// words a caller should hear, in British English ("one hundred and twelve
// pounds forty"), and expands the say-as markup that prompts in config may
// carry: {amount:112.40 GBP} or <say-as interpret-as="digits">4271</say-as>.
//
// Engines read digits and symbols inconsistently ("4271" as "four thousand
// two hundred..."), so what matters to a caller is spelled out here, once,
// the same way for every voice.
package sayas

import (
	"strings"
)

var ones = [...]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
	"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}

var tens = [...]string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}

var scales = [...]string{"", "thousand", "million", "billion", "trillion", "quadrillion", "quintillion"}

// Number reads n as a cardinal number the British way: 112 is "one hundred
// and twelve", 1005 "one thousand and five", -3 "minus three".
func Number(n int64) string {
	var b strings.Builder
	if n < 0 {
		b.WriteString("minus ")
	}
	u := uint64(n)
	if n < 0 {
		u = uint64(-(n + 1)) + 1 // no overflow at math.MinInt64
	}
	writeCardinal(&b, u)
	return b.String()
}

// writeCardinal writes u in words.
func writeCardinal(b *strings.Builder, u uint64) {
	if u == 0 {
		b.WriteString("zero")
		return
	}
	var groups []uint64 // thousands groups, least significant first
	for v := u; v > 0; v /= 1000 {
		groups = append(groups, v%1000)
	}
	first := true
	for i := len(groups) - 1; i >= 0; i-- {
		g := groups[i]
		if g == 0 {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		// "one thousand and five": the last group gets "and" when it has
		// no hundreds and something bigger came before it.
		if i == 0 && !first && g < 100 {
			b.WriteString("and ")
		}
		writeHundreds(b, int(g))
		if i > 0 {
			b.WriteByte(' ')
			b.WriteString(scales[i])
		}
		first = false
	}
}

// writeHundreds writes 1..999.
func writeHundreds(b *strings.Builder, g int) {
	h, r := g/100, g%100
	if h > 0 {
		b.WriteString(ones[h])
		b.WriteString(" hundred")
		if r == 0 {
			return
		}
		b.WriteString(" and ")
	}
	switch {
	case r < 20:
		b.WriteString(ones[r])
	default:
		b.WriteString(tens[r/10])
		if r%10 != 0 {
			b.WriteByte(' ')
			b.WriteString(ones[r%10])
		}
	}
}

// ordinalWord maps the last word of a cardinal to its ordinal.
var ordinalWord = map[string]string{
	"one": "first", "two": "second", "three": "third", "five": "fifth",
	"eight": "eighth", "nine": "ninth", "twelve": "twelfth",
}

// Ordinal reads n as an ordinal: 1 "first", 21 "twenty first", 112 "one
// hundred and twelfth", 0 "zeroth".
func Ordinal(n int64) string {
	c := Number(n)
	i := strings.LastIndexByte(c, ' ')
	last := c[i+1:]
	switch {
	case ordinalWord[last] != "":
		last = ordinalWord[last]
	case strings.HasSuffix(last, "y"):
		last = last[:len(last)-1] + "ieth"
	default:
		last += "th"
	}
	return c[:i+1] + last
}

// Decimal reads a decimal numeral such as "3.05" or "-1,200.5" as "three
// point zero five". It reports false for text that is not one.
func Decimal(s string) (string, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	neg := false
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		neg = s[0] == '-'
		s = s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" && !hasFrac || !allDigits(whole) || (hasFrac && (frac == "" || !allDigits(frac))) {
		return "", false
	}
	var b strings.Builder
	if neg {
		b.WriteString("minus ")
	}
	if whole == "" {
		b.WriteString("zero")
	} else {
		u, ok := parseUint(whole)
		if !ok {
			return "", false
		}
		writeCardinal(&b, u)
	}
	if hasFrac {
		b.WriteString(" point")
		for _, r := range frac {
			b.WriteByte(' ')
			b.WriteString(ones[r-'0'])
		}
	}
	return b.String(), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseUint parses decimal digits, rejecting values past 18 digits (a
// quintillion is more than any prompt needs).
func parseUint(s string) (uint64, bool) {
	s = strings.TrimLeft(s, "0")
	if len(s) > 18 {
		return 0, false
	}
	var u uint64
	for i := 0; i < len(s); i++ {
		u = u*10 + uint64(s[i]-'0')
	}
	return u, true
}

package sayas

import (
	"errors"
	"fmt"
	"strings"
)

// currency is how one currency is read.
type currency struct {
	major, majors string // "pound", "pounds"
	minor, minors string // "penny", "pence"; "" when there is no minor unit
	digits        int    // minor digits: 2, or 0 for the yen
	short         bool   // "twelve pounds forty" rather than "... and forty cents"
	symbol        string // "£", or "" when it is not a unique prefix
}

// currencies holds the currencies Amount reads by name; others are read as
// a number followed by the spelled code.
var currencies = map[string]currency{
	"GBP": {"pound", "pounds", "penny", "pence", 2, true, "£"},
	"USD": {"dollar", "dollars", "cent", "cents", 2, false, "$"},
	"EUR": {"euro", "euros", "cent", "cents", 2, false, "€"},
	"CAD": {"Canadian dollar", "Canadian dollars", "cent", "cents", 2, false, ""},
	"AUD": {"Australian dollar", "Australian dollars", "cent", "cents", 2, false, ""},
	"NZD": {"New Zealand dollar", "New Zealand dollars", "cent", "cents", 2, false, ""},
	"CHF": {"Swiss franc", "Swiss francs", "centime", "centimes", 2, false, ""},
	"JPY": {"yen", "yen", "", "", 0, false, "¥"},
	"INR": {"rupee", "rupees", "paisa", "paise", 2, false, "₹"},
	"ZAR": {"rand", "rand", "cent", "cents", 2, false, ""},
	"SEK": {"Swedish krona", "Swedish kronor", "öre", "öre", 2, false, ""},
	"NOK": {"Norwegian krone", "Norwegian kroner", "øre", "øre", 2, false, ""},
	"DKK": {"Danish krone", "Danish kroner", "øre", "øre", 2, false, ""},
}

// MinorDigits is how many minor-unit digits currency code has (2 for GBP,
// 0 for JPY); unknown codes have 2.
func MinorDigits(code string) int {
	if c, ok := currencies[strings.ToUpper(code)]; ok {
		return c.digits
	}
	return 2
}

// Amount reads minor units of a currency (ISO 4217 code) as money:
// Amount(11240, "GBP") is "one hundred and twelve pounds forty",
// Amount(1, "GBP") "one penny", Amount(1250, "USD") "twelve dollars and
// fifty cents". An unknown code is read as the number followed by the
// code's letters.
func Amount(minor int64, code string) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	c, ok := currencies[code]
	if !ok {
		c = currency{digits: 2}
	}
	var b strings.Builder
	u := uint64(minor)
	if minor < 0 {
		b.WriteString("minus ")
		u = uint64(-(minor + 1)) + 1
	}
	scale := uint64(1)
	for i := 0; i < c.digits; i++ {
		scale *= 10
	}
	maj, min := u/scale, u%scale
	if !ok {
		writeCardinal(&b, maj)
		if min > 0 {
			fmt.Fprintf(&b, " point %s", Digits(fmt.Sprintf("%0*d", c.digits, min)))
		}
		if code != "" {
			b.WriteString(", ")
			b.WriteString(Digits(code))
		}
		return b.String()
	}
	if maj > 0 || min == 0 {
		writeCardinal(&b, maj)
		b.WriteByte(' ')
		b.WriteString(plural(maj, c.major, c.majors))
	}
	if min > 0 {
		switch {
		case maj == 0:
			writeCardinal(&b, min)
			b.WriteByte(' ')
			b.WriteString(plural(min, c.minor, c.minors))
		case c.short:
			b.WriteByte(' ')
			writeCardinal(&b, min)
		default:
			b.WriteString(" and ")
			writeCardinal(&b, min)
			b.WriteByte(' ')
			b.WriteString(plural(min, c.minor, c.minors))
		}
	}
	return b.String()
}

func plural(n uint64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ErrAmount reports text that ParseAmount cannot read.
var ErrAmount = errors.New("not an amount")

// ParseAmount reads an amount written in a prompt: "112.40 GBP", "GBP
// 112.40", "£112.40", "-3 EUR", "1,200 USD". It returns minor units and the
// currency code; a bare number takes defaultCode.
func ParseAmount(s, defaultCode string) (minor int64, code string, err error) {
	s = strings.TrimSpace(s)
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, strings.TrimSpace(s[1:])
	}
	for k, c := range currencies {
		if c.symbol != "" && strings.HasPrefix(s, c.symbol) {
			code, s = k, strings.TrimSpace(s[len(c.symbol):])
			break
		}
	}
	if code == "" {
		f := strings.Fields(s)
		switch {
		case len(f) == 2 && isCode(f[0]):
			code, s = strings.ToUpper(f[0]), f[1]
		case len(f) == 2 && isCode(f[1]):
			code, s = strings.ToUpper(f[1]), f[0]
		case len(f) == 1:
			code = strings.ToUpper(defaultCode)
		default:
			return 0, "", fmt.Errorf("%w: %q", ErrAmount, s)
		}
	}
	if strings.HasPrefix(s, "-") && !neg {
		neg, s = true, s[1:]
	}
	s = strings.ReplaceAll(s, ",", "")
	whole, frac, _ := strings.Cut(s, ".")
	digits := MinorDigits(code)
	if whole == "" || !allDigits(whole) || !allDigits(frac) || len(frac) > digits {
		return 0, "", fmt.Errorf("%w: %q (at most %d decimals for %s)", ErrAmount, s, digits, code)
	}
	frac += strings.Repeat("0", digits-len(frac))
	w, ok := parseUint(whole + frac)
	if !ok || w > 1<<62 {
		return 0, "", fmt.Errorf("%w: %q is too large", ErrAmount, s)
	}
	minor = int64(w)
	if neg {
		minor = -minor
	}
	return minor, code, nil
}

func isCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

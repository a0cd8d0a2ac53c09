package entity

import "math"

// Money is a sum of money.
type Money struct {
	// Cents is the value in minor units (cents, pence).
	Cents int64
	// Currency is the ISO 4217 code when one was said or written ("USD",
	// "GBP", "EUR"), else "".
	Currency string
}

// Value returns the sum in major units (dollars, pounds).
func (m Money) Value() float64 { return float64(m.Cents) / 100 }

var majorWords = map[string]string{
	"dollar": "USD", "dollars": "USD", "buck": "USD", "bucks": "USD", "usd": "USD",
	"pound": "GBP", "pounds": "GBP", "quid": "GBP", "gbp": "GBP", "sterling": "GBP",
	"euro": "EUR", "euros": "EUR", "eur": "EUR",
}

// minorWords map to the currency they imply ("" when several use it).
var minorWords = map[string]string{
	"cent": "", "cents": "", "penny": "GBP", "pence": "GBP", "p": "GBP",
}

var currencySymbols = map[rune]string{'$': "USD", '£': "GBP", '€': "EUR"}

// maxCents bounds amounts so the conversion to int64 cannot overflow.
const maxCents = 1e15

// Amount finds a sum of money in text: "$25.50", "£10", "twenty five
// dollars and fifty cents", "ten euros", "fifty cents", "25 pounds 30",
// "two hundred". A currency symbol or word sets Currency; a bare number is
// a sum without a currency. Fractions of a cent are rounded; negative and
// absurdly large sums are not amounts.
func Amount(text string) (Money, bool) {
	currency := ""
	for _, r := range text {
		if c, ok := currencySymbols[r]; ok {
			currency = c
			break
		}
	}
	words := Words(text)
	for i := 0; i < len(words); i++ {
		if !isNumberStart(words, i) {
			continue
		}
		major, next, ok := spokenNumber(words, i)
		if !ok || major < 0 || major*100 > maxCents {
			return Money{}, false
		}
		cents := int64(math.Round(major * 100))
		if next < len(words) {
			w := words[next]
			if c, ok := majorWords[w]; ok {
				currency = c
				k := next + 1
				if k < len(words) && words[k] == "and" {
					k++
				}
				if k < len(words) && isNumberStart(words, k) {
					if minor, _, ok := spokenNumber(words, k); ok && minor >= 0 && minor < 100 && minor == math.Trunc(minor) {
						cents += int64(minor)
					}
				}
			} else if c, ok := minorWords[w]; ok && major == math.Trunc(major) {
				cents = int64(major)
				if currency == "" {
					currency = c
				}
			}
		}
		return Money{Cents: cents, Currency: currency}, true
	}
	return Money{}, false
}

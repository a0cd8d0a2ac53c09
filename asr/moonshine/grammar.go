package moonshine

import (
	"strings"
	"unicode"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/nlu/entity"
)

// digitWords are what callers say for digits, with "oh" for zero, as in
// asr/sphinx's grammars: a digit grammar reports the word heard ("oh"
// stays "oh"; the digit entity reads it as 0).
var digitWords = []string{"zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

// yesPhrases and noPhrases are the answers a yes/no grammar accepts, as
// in asr/sphinx.
var (
	yesPhrases = []string{"yes", "yeah", "yep", "yes please", "correct", "that's right", "that is right", "right", "sure", "okay", "ok"}
	noPhrases  = []string{"no", "nope", "no thanks", "no thank you", "not really", "wrong", "that's wrong", "incorrect"}
)

// grammarPhrases returns the closed set of texts a grammar allows (in
// Normalize form, deduplicated), escape words included; nil for open
// grammars ("" and GrammarDigits, which decode freely).
func grammarPhrases(h asr.Hints) []string {
	var ps []string
	switch h.Grammar {
	case asr.GrammarDigit:
		ps = append(ps, digitWords...)
	case asr.GrammarYesNo:
		ps = append(append(ps, yesPhrases...), noPhrases...)
	default:
		return nil
	}
	return uniqNorm(append(ps, h.EscapeWords...))
}

// uniqNorm normalizes each phrase and drops empty and repeated ones.
func uniqNorm(ps []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range ps {
		n := asr.Normalize(p)
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// surfaceForms returns the ways the model may write a normalized phrase:
// Moonshine transcribes in sentence case with final punctuation ("Five.",
// "Yes, please."), so a phrase is scored as the model would print it.
func surfaceForms(p string) []string {
	if p == "" {
		return nil
	}
	r := []rune(p)
	r[0] = unicode.ToUpper(r[0])
	c := string(r)
	c = strings.ReplaceAll(c+" ", " i ", " I ")
	c = strings.TrimSuffix(strings.ReplaceAll(c, " i'", " I'"), " ")
	return []string{c + ".", c}
}

// digitString maps a free decode to the form a digit-string grammar
// reports: one digit word per digit. Digits are read the way the digit
// entity reads them ("12", "one two", "twelve", "double five", "oh"; see
// entity.Digits), so "twenty" is "two zero". Without digits, an escape
// word alone is kept, as a digits-or-escape grammar allows. ok is false
// when neither is there.
func digitString(text string, escape []string) (string, bool) {
	if d, ok := entity.Digits(text); ok {
		w := make([]string, 0, len(d))
		for _, c := range d {
			if c >= '0' && c <= '9' {
				w = append(w, asr.DigitWords[c-'0'])
			}
		}
		if len(w) > 0 {
			return strings.Join(w, " "), true
		}
	}
	words := strings.Fields(asr.Normalize(text))
	for _, e := range uniqNorm(escape) {
		for i := range words {
			if strings.Join(words[i:min(len(words), i+len(strings.Fields(e)))], " ") == e {
				return e, true
			}
		}
	}
	return "", false
}

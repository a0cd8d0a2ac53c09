package moonshine

import (
	"strings"
	"unicode"
)

// biasIndex maps the vocabulary's word pieces by their lower-case letters,
// built once per model: which tokens start a word with given letters and
// which continue one.
type biasIndex struct {
	start map[string][]int // "bal" -> ids of "▁bal", "▁Bal"
	cont  map[string][]int // "ance" -> ids of "ance"
	// frag is each id's letters and whether it starts a word; ok is false
	// for pieces with anything but letters and apostrophes.
	frag  []string
	begin []bool
	ok    []bool
}

// newBiasIndex indexes the tokenizer's pieces.
func newBiasIndex(t *Tokenizer) *biasIndex {
	bi := &biasIndex{start: map[string][]int{}, cont: map[string][]int{},
		frag: make([]string, t.Size()), begin: make([]bool, t.Size()), ok: make([]bool, t.Size())}
	for id := 3; id < t.Size(); id++ {
		p := t.Piece(id)
		begin := strings.HasPrefix(p, "▁")
		p = strings.TrimPrefix(p, "▁")
		if p == "" || t.isByte[id] || strings.IndexFunc(p, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' }) >= 0 {
			continue
		}
		l := strings.ToLower(p)
		bi.frag[id], bi.begin[id], bi.ok[id] = l, begin, true
		if begin {
			bi.start[l] = append(bi.start[l], id)
		} else {
			bi.cont[l] = append(bi.cont[l], id)
		}
	}
	return bi
}

// biaser raises the scores of tokens that spell the hint phrases' words
// (contextual biasing): a token whose word so far is a prefix, at least
// minBiasLetters long, of a hint word gets bonus nats. Callers who use
// the line's own words are heard in them ("balance", not "melons"), and
// a decode of other words is left alone.
type biaser struct {
	bi    *biasIndex
	bonus float32
	// start lists the ids that begin a word with a hint-word prefix;
	// cont, by the word's letters so far, the ids that extend it to one.
	start []int
	cont  map[string][]int
}

// minBiasLetters: prefixes shorter than this are too common to favour.
const minBiasLetters = 3

// newBiaser returns nil when there is nothing to favour.
func newBiaser(bi *biasIndex, phrases []string, bonus float64) *biaser {
	if bi == nil || bonus <= 0 || len(phrases) == 0 {
		return nil
	}
	prefixes := map[string]bool{}
	for _, p := range phrases {
		for _, w := range strings.FieldsFunc(strings.ToLower(p), func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' }) {
			if len(w) < minBiasLetters {
				continue
			}
			for i := minBiasLetters; i <= len(w); i++ {
				prefixes[w[:i]] = true
			}
		}
	}
	if len(prefixes) == 0 {
		return nil
	}
	b := &biaser{bi: bi, bonus: float32(bonus), cont: map[string][]int{}}
	for w := range prefixes {
		b.start = append(b.start, bi.start[w]...)
		for i := 1; i < len(w); i++ {
			if ids := bi.cont[w[i:]]; len(ids) > 0 {
				b.cont[w[:i]] = append(b.cont[w[:i]], ids...)
			}
		}
	}
	return b
}

// word is the letters of the word the hypothesis ids ends in ("" after a
// space, punctuation or a non-letter piece).
func (b *biaser) word(ids []int) string {
	var parts []string
	for i := len(ids) - 1; i >= 0; i-- {
		id := ids[i]
		if id < 0 || id >= len(b.bi.ok) || !b.bi.ok[id] {
			return ""
		}
		parts = append(parts, b.bi.frag[id])
		if b.bi.begin[id] {
			break
		}
	}
	var sb strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		sb.WriteString(parts[i])
	}
	return sb.String()
}

// apply adds the bonus to row (one step's logits) for the tokens that
// extend the hypothesis ids toward a hint word.
func (b *biaser) apply(row []float32, ids []int) {
	for _, id := range b.start {
		row[id] += b.bonus
	}
	if w := b.word(ids); w != "" {
		for _, id := range b.cont[w] {
			row[id] += b.bonus
		}
	}
}

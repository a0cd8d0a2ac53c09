package sphinx

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/openivr/ivr/asr"
)

// Search kinds a set of hints compiles to.
const (
	kindJSGF = "jsgf"
	kindLM   = "lm"
)

// search is a compiled set of hints: a JSGF grammar or an ARPA language
// model, plus the words it uses, named by a hash of its content so that
// each decoder loads it once.
type search struct {
	name  string
	kind  string
	text  string   // JSGF source or ARPA text
	words []string // vocabulary, for dictionary checks
	wip   float64  // word insertion penalty for a grammar; 0 keeps the decoder's
}

// digitWords are what callers say for digits, with "oh" for zero.
var digitWords = []string{"zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

// yesWords and noWords are the answers a yes/no grammar accepts.
var (
	yesPhrases = []string{"yes", "yeah", "yep", "yes please", "correct", "that's right", "that is right", "right", "sure", "okay", "ok"}
	noPhrases  = []string{"no", "nope", "no thanks", "no thank you", "not really", "wrong", "that's wrong", "incorrect"}
)

// words splits a phrase into normalized dictionary words.
func words(p string) []string { return strings.Fields(asr.Normalize(p)) }

// inVocab reports whether every word of p passes known.
func inVocab(p []string, known func(string) bool) bool {
	for _, w := range p {
		if !known(w) {
			return false
		}
	}
	return len(p) > 0
}

// compileGrammar builds a JSGF search for a closed grammar (digits,
// yes/no) or for the exact hint phrases. Words the dictionary does not know
// are dropped phrase by phrase; it returns an error when nothing is left.
func compileGrammar(h asr.Hints, known func(string) bool) (search, error) {
	var alts []string
	var vocab []string
	add := func(p []string) {
		if inVocab(p, known) {
			alts = append(alts, strings.Join(p, " "))
			vocab = append(vocab, p...)
		}
	}
	var rules strings.Builder
	switch h.Grammar {
	case asr.GrammarDigits:
		rules.WriteString("<digit> = " + strings.Join(digitWords, " | ") + ";\n")
		alts = append(alts, "<digit>+")
		vocab = append(vocab, digitWords...)
	case asr.GrammarDigit:
		for _, w := range digitWords {
			add([]string{w})
		}
	case asr.GrammarYesNo:
		for _, p := range yesPhrases {
			add(words(p))
		}
		for _, p := range noPhrases {
			add(words(p))
		}
	case "":
		for _, p := range h.Phrases {
			add(words(p))
		}
	default:
		return search{}, fmt.Errorf("sphinx: unknown grammar %q", h.Grammar)
	}
	for _, e := range h.EscapeWords {
		add(words(e))
	}
	if len(alts) == 0 {
		return search{}, fmt.Errorf("sphinx: no hint phrase is in the dictionary")
	}
	alts = uniq(alts)
	var b strings.Builder
	b.WriteString("#JSGF V1.0;\ngrammar hints;\n")
	b.WriteString("public <utt> = " + strings.Join(alts, " | ") + ";\n")
	b.WriteString(rules.String())
	s := search{kind: kindJSGF, text: b.String(), words: uniq(vocab)}
	s.name = hashName(s.kind, s.text)
	return s, nil
}

// LMConfig shapes the domain language model built from hint phrases.
type LMConfig struct {
	// Discount is the absolute discount taken from each seen bigram and
	// given to the unigram back-off, 0..1.
	Discount float64
	// UniformWeight mixes a uniform distribution over the vocabulary into
	// the unigrams, so that words can follow each other in orders the
	// examples never showed (paraphrases), 0..1.
	UniformWeight float64
	// ExtraWords are always in the vocabulary (common function words that
	// paraphrases use), when the dictionary knows them.
	ExtraWords []string
}

// CommonWords are very frequent English words (function words, pronouns,
// auxiliaries, politeness), from general word-frequency knowledge, not
// from any evaluation set. In the phrase language model they give the
// decoder somewhere to put the carrier words of a paraphrase ("I'd like
// to", "could you") instead of forcing them onto domain words.
var CommonWords = []string{
	"i", "i'd", "i'm", "i've", "i'll", "me", "my", "you", "your", "we", "our", "it", "it's", "that", "this", "there",
	"the", "a", "an", "some", "any", "to", "of", "for", "on", "in", "at", "with", "from", "about", "and", "or", "but",
	"is", "are", "was", "be", "been", "have", "has", "had", "do", "does", "did", "don't", "can", "can't", "could",
	"would", "will", "won't", "should", "need", "want", "like", "know", "get", "got", "make", "tell", "please",
	"thanks", "thank", "hello", "hi", "yes", "no", "not", "just", "now", "today", "what", "what's", "how", "when",
	"where", "why", "who", "which", "um", "uh",
}

// DefaultLM is the language model shape tuned on the dev split.
var DefaultLM = LMConfig{Discount: 0.5, UniformWeight: 0.3, ExtraWords: CommonWords}

// compileLM builds a bigram ARPA model from the hint phrases and escape
// words. Unknown words are dropped from the phrases that use them (the
// rest of the phrase still counts).
func compileLM(h asr.Hints, cfg LMConfig, known func(string) bool) (search, error) {
	uni := map[string]float64{}
	bi := map[[2]string]float64{}
	ctx := map[string]float64{} // count of bigrams starting with w
	var sents [][]string
	for _, p := range append(append([]string{}, h.Phrases...), h.EscapeWords...) {
		var s []string
		for _, w := range words(p) {
			if known(w) {
				s = append(s, w)
			}
		}
		if len(s) > 0 {
			sents = append(sents, s)
		}
	}
	if len(sents) == 0 {
		return search{}, fmt.Errorf("sphinx: no hint phrase is in the dictionary")
	}
	for _, w := range cfg.ExtraWords {
		for _, x := range words(w) {
			if known(x) {
				sents = append(sents, []string{x})
			}
		}
	}
	total := 0.0
	for _, s := range sents {
		seq := append(append([]string{"<s>"}, s...), "</s>")
		for i, w := range seq {
			if i > 0 {
				uni[w]++
				total++
				bi[[2]string{seq[i-1], w}]++
				ctx[seq[i-1]]++
			}
		}
	}
	vocab := make([]string, 0, len(uni))
	for w := range uni {
		vocab = append(vocab, w)
	}
	sort.Strings(vocab)
	V := float64(len(vocab))
	pu := map[string]float64{}
	for _, w := range vocab {
		pu[w] = (1-cfg.UniformWeight)*uni[w]/total + cfg.UniformWeight/V
	}
	// Bigrams: absolute discounting; the freed mass goes to the unigram
	// distribution through the back-off weight.
	type big struct {
		v, w string
		p    float64
	}
	var bigs []big
	bow := map[string]float64{}
	seenMass := map[string]float64{}
	freed := map[string]float64{}
	keys := make([][2]string, 0, len(bi))
	for k := range bi {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		c := bi[k]
		p := (c - cfg.Discount) / ctx[k[0]]
		if p <= 0 {
			continue
		}
		bigs = append(bigs, big{k[0], k[1], p})
		seenMass[k[0]] += pu[k[1]]
		freed[k[0]] += cfg.Discount / ctx[k[0]]
	}
	for v := range ctx {
		rest := 1 - seenMass[v]
		if rest <= 1e-9 {
			bow[v] = 1e-9
			continue
		}
		bow[v] = freed[v] / rest
	}
	var b strings.Builder
	b.WriteString("\\data\\\n")
	fmt.Fprintf(&b, "ngram 1=%d\nngram 2=%d\n\n\\1-grams:\n", len(vocab)+1, len(bigs))
	fmt.Fprintf(&b, "-99.0000 <s> %.4f\n", log10(bow["<s>"]))
	for _, w := range vocab {
		if bw, ok := bow[w]; ok && w != "</s>" {
			fmt.Fprintf(&b, "%.4f %s %.4f\n", log10(pu[w]), w, log10(bw))
		} else {
			fmt.Fprintf(&b, "%.4f %s\n", log10(pu[w]), w)
		}
	}
	b.WriteString("\n\\2-grams:\n")
	for _, g := range bigs {
		fmt.Fprintf(&b, "%.4f %s %s\n", log10(g.p), g.v, g.w)
	}
	b.WriteString("\n\\end\\\n")
	var vw []string
	for _, w := range vocab {
		if w != "</s>" {
			vw = append(vw, w)
		}
	}
	s := search{kind: kindLM, text: b.String(), words: vw}
	s.name = hashName(s.kind, s.text)
	return s, nil
}

func log10(x float64) float64 {
	if x <= 0 {
		return -99
	}
	return math.Log10(x)
}

func hashName(kind, text string) string {
	sum := sha256.Sum256([]byte(text))
	return kind + "-" + hex.EncodeToString(sum[:8])
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	out := s[:0:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// cleanHyp drops filler tokens (<sil>, [noise], ++garbage++) and
// alternative-pronunciation markers ("word(2)").
func cleanHyp(h string) string {
	f := strings.Fields(h)
	out := f[:0]
	for _, w := range f {
		if strings.HasPrefix(w, "<") || strings.HasPrefix(w, "[") || strings.HasPrefix(w, "+") {
			continue
		}
		if i := strings.IndexByte(w, '('); i > 0 {
			w = w[:i]
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

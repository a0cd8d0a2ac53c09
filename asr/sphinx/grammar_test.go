package sphinx

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/openivr/ivr/asr"
)

func knowAllBut(unknown ...string) func(string) bool {
	return func(w string) bool {
		for _, u := range unknown {
			if w == u {
				return false
			}
		}
		return true
	}
}

func TestCompileGrammar(t *testing.T) {
	s, err := compileGrammar(asr.Hints{Grammar: asr.GrammarDigits, EscapeWords: []string{"agent"}}, knowAllBut())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.text, "public <utt> = <digit>+ | agent;") || !strings.Contains(s.text, "<digit> = zero | oh | one") {
		t.Errorf("digits grammar:\n%s", s.text)
	}
	s2, err := compileGrammar(asr.Hints{Phrases: []string{"Check my balance!", "lost my zorbcard", "check my balance"}}, knowAllBut("zorbcard"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s2.text, "public <utt> = check my balance;") {
		t.Errorf("phrase grammar should keep the known phrase once and drop the unknown one:\n%s", s2.text)
	}
	if s.name == s2.name || !strings.HasPrefix(s.name, kindJSGF+"-") {
		t.Errorf("names %q %q", s.name, s2.name)
	}
	if _, err := compileGrammar(asr.Hints{Phrases: []string{"zorbcard"}}, knowAllBut("zorbcard")); err == nil {
		t.Error("no known phrase: want an error")
	}
	if _, err := compileGrammar(asr.Hints{Grammar: "colours"}, knowAllBut()); err == nil {
		t.Error("unknown grammar: want an error")
	}
}

// parseARPA reads the unigram and bigram log10 probabilities and back-offs.
func parseARPA(t *testing.T, text string) (uni, bow map[string]float64, bi map[[2]string]float64) {
	uni, bow, bi = map[string]float64{}, map[string]float64{}, map[[2]string]float64{}
	sec := 0
	for _, line := range strings.Split(text, "\n") {
		switch {
		case line == "\\1-grams:":
			sec = 1
			continue
		case line == "\\2-grams:":
			sec = 2
			continue
		case line == "" || strings.HasPrefix(line, "\\") || strings.HasPrefix(line, "ngram"):
			continue
		}
		f := strings.Fields(line)
		p, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			t.Fatalf("bad line %q", line)
		}
		switch sec {
		case 1:
			uni[f[1]] = p
			if len(f) == 3 {
				b, _ := strconv.ParseFloat(f[2], 64)
				bow[f[1]] = b
			}
		case 2:
			bi[[2]string{f[1], f[2]}] = p
		}
	}
	return
}

func TestCompileLMIsNormalized(t *testing.T) {
	h := asr.Hints{Phrases: []string{"check my balance", "check my card", "lost my card"}, EscapeWords: []string{"agent"}}
	s, err := compileLM(h, DefaultLM, knowAllBut())
	if err != nil {
		t.Fatal(err)
	}
	uni, bow, bi := parseARPA(t, s.text)
	var sum float64
	for w, p := range uni {
		if w != "<s>" {
			sum += math.Pow(10, p)
		}
	}
	if math.Abs(sum-1) > 1e-3 {
		t.Errorf("unigrams sum to %.4f", sum)
	}
	// For every history, seen bigrams plus backed-off unigrams sum to 1.
	for _, v := range []string{"<s>", "check", "my"} {
		var total float64
		for w, p := range uni {
			if w == "<s>" {
				continue
			}
			if bp, ok := bi[[2]string{v, w}]; ok {
				total += math.Pow(10, bp)
			} else {
				total += math.Pow(10, bow[v]+p)
			}
		}
		if math.Abs(total-1) > 1e-3 {
			t.Errorf("P(.|%s) sums to %.4f", v, total)
		}
	}
	if uni["agent"] == 0 || bi[[2]string{"my", "card"}] <= bi[[2]string{"my", "balance"}] {
		t.Errorf("want agent in the vocabulary and P(card|my) > P(balance|my): %v", bi)
	}
	if _, err := compileLM(asr.Hints{Phrases: []string{"zzz"}}, DefaultLM, knowAllBut("zzz")); err == nil {
		t.Error("no known word: want an error")
	}
}

func TestCleanHyp(t *testing.T) {
	if got := cleanHyp("<s> check(2) [NOISE] my <sil> balance ++um++ </s>"); got != "check my balance" {
		t.Errorf("got %q", got)
	}
}

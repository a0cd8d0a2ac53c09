package sphinx

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"sync"
)

// pronDict is the pronunciation dictionary (CMUdict) held in Go memory.
// Decoders start with a small dictionary and are given the words of each
// search when it is loaded: pocketsphinx maps every dictionary word into
// each language model through a hash table sized for the model, which took
// ~18 s per model with the 134k-word CMUdict and ~1 ms with a few hundred
// words.
type pronDict struct {
	m map[string][]string // word -> pronunciations (space-separated phones)
}

var (
	dictMu    sync.Mutex
	dictCache = map[string]*pronDict{}
)

// loadDict reads a CMUdict-format file once per process.
func loadDict(path string) (*pronDict, error) {
	dictMu.Lock()
	defer dictMu.Unlock()
	if d, ok := dictCache[path]; ok {
		return d, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sphinx: dictionary (apt-get install pocketsphinx-en-us): %w", err)
	}
	defer f.Close()
	d := &pronDict{m: make(map[string][]string, 140000)}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		i := strings.IndexByte(line, ' ')
		if i <= 0 {
			continue
		}
		w, phones := line[:i], strings.TrimSpace(line[i+1:])
		if j := strings.IndexByte(w, '('); j > 0 {
			w = w[:j]
		}
		d.m[w] = append(d.m[w], phones)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("sphinx: read dictionary: %w", err)
	}
	dictCache[path] = d
	return d, nil
}

// prons returns the pronunciations of w: the dictionary's, or for a word
// it does not have, one guessed from the spelling (British spellings
// mapped to American ones, compounds of two known words, then letter to
// sound rules). It returns nil for words it cannot pronounce.
func (d *pronDict) prons(w string) []string {
	if p, ok := d.m[w]; ok {
		return p
	}
	for _, v := range spellingVariants(w) {
		if p, ok := d.m[v]; ok {
			return p
		}
	}
	for i := 2; i <= len(w)-2; i++ {
		a, b := d.m[w[:i]], d.m[w[i:]]
		if len(a) > 0 && len(b) > 0 && len(w[:i]) > 2 && len(w[i:]) > 2 {
			return []string{a[0] + " " + b[0]}
		}
	}
	if p := letterToSound(w); p != "" {
		return []string{p}
	}
	return nil
}

// known reports whether w can be pronounced.
func (d *pronDict) known(w string) bool { return len(d.prons(w)) > 0 }

// spellingVariants maps common British spellings to American ones.
func spellingVariants(w string) []string {
	var out []string
	for _, r := range [][2]string{{"our", "or"}, {"ise", "ize"}, {"isation", "ization"}, {"tre", "ter"}, {"ogue", "og"}, {"ll", "l"}} {
		if strings.Contains(w, r[0]) {
			out = append(out, strings.Replace(w, r[0], r[1], 1))
		}
	}
	return out
}

// letterToSound is a small rule-based grapheme to phoneme converter for
// words no dictionary has (names, brands). It is crude, but a word with an
// approximate pronunciation can still be recognized and keeps its
// phrase in the grammar, where a missing word would drop the phrase.
func letterToSound(w string) string {
	hasVowel := false
	for _, r := range w {
		if r < 'a' || r > 'z' {
			if r != '\'' {
				return ""
			}
			continue
		}
		if strings.ContainsRune("aeiouy", r) {
			hasVowel = true
		}
	}
	if !hasVowel {
		return ""
	}
	w = strings.ReplaceAll(w, "'", "")
	var ph []string
	vowel := func(b byte) bool { return strings.IndexByte("aeiou", b) >= 0 }
	for i := 0; i < len(w); {
		rest := w[i:]
		matched := false
		for _, r := range ltsRules {
			if strings.HasPrefix(rest, r.g) {
				// Silent final e after a consonant.
				if r.g == "e" && i == len(w)-1 && i > 1 && !vowel(w[i-1]) {
					matched = true
					i++
					break
				}
				p := r.p
				// Long vowel before consonant + final e ("made", "note").
				if len(r.g) == 1 && vowel(r.g[0]) && i+2 == len(w)-1 && w[len(w)-1] == 'e' && !vowel(w[i+1]) {
					p = longVowel[r.g[0]]
				}
				// c and g soften before e, i, y.
				if (r.g == "c" || r.g == "g") && i+1 < len(w) && strings.IndexByte("eiy", w[i+1]) >= 0 {
					if r.g == "c" {
						p = "S"
					} else {
						p = "JH"
					}
				}
				if r.g == "y" {
					if i == 0 {
						p = "Y"
					} else if i == len(w)-1 {
						p = "IY"
					}
				}
				if p != "" && (len(ph) == 0 || ph[len(ph)-1] != p || !strings.Contains(consonants, " "+p+" ")) {
					ph = append(ph, strings.Fields(p)...)
				}
				i += len(r.g)
				matched = true
				break
			}
		}
		if !matched {
			i++
		}
	}
	return strings.Join(ph, " ")
}

const consonants = " B CH D DH F G HH JH K L M N NG P R S SH T TH V W Y Z ZH "

var longVowel = map[byte]string{'a': "EY", 'e': "IY", 'i': "AY", 'o': "OW", 'u': "UW"}

// ltsRules are tried in order at each position; longer graphemes first.
var ltsRules = []struct{ g, p string }{
	{"tion", "SH AH N"}, {"sion", "ZH AH N"}, {"ough", "AO"}, {"igh", "AY"}, {"tch", "CH"},
	{"ch", "CH"}, {"sh", "SH"}, {"th", "TH"}, {"ph", "F"}, {"ck", "K"}, {"ng", "NG"},
	{"qu", "K W"}, {"wh", "W"}, {"wr", "R"}, {"kn", "N"},
	{"ee", "IY"}, {"ea", "IY"}, {"oo", "UW"}, {"ou", "AW"}, {"ow", "OW"}, {"ai", "EY"},
	{"ay", "EY"}, {"oi", "OY"}, {"oy", "OY"}, {"au", "AO"}, {"aw", "AO"}, {"ie", "IY"},
	{"ey", "IY"}, {"er", "ER"}, {"ir", "ER"}, {"ur", "ER"}, {"ar", "AA R"}, {"or", "AO R"},
	{"a", "AE"}, {"e", "EH"}, {"i", "IH"}, {"o", "AA"}, {"u", "AH"}, {"y", "IH"},
	{"b", "B"}, {"c", "K"}, {"d", "D"}, {"f", "F"}, {"g", "G"}, {"h", "HH"}, {"j", "JH"},
	{"k", "K"}, {"l", "L"}, {"m", "M"}, {"n", "N"}, {"p", "P"}, {"r", "R"}, {"s", "S"},
	{"t", "T"}, {"v", "V"}, {"w", "W"}, {"x", "K S"}, {"z", "Z"},
}

package nlu

import (
	"math"
	"strings"
	"sync"
)

// augmentSpec configures training-data augmentation by word vectors: each
// example is repeated with one of its rarer words replaced by that word's
// nearest neighbour among the most frequent words. Measured as a
// validation variant only (off in defaultConfig): on top of the sentence
// vectors it stayed within noise on CLINC150 val and HWU64 valid and
// tripled the training CPU (BENCHMARKS.md). The variants are appended
// after the examples, so cross-validation folds would see a variant of a
// held-out example: turn it on only with calibration on held-out data.
type augmentSpec struct {
	variants int     // extra phrases per example; 0 turns augmentation off
	minCos   float32 // least cosine of a replacement
	minRank  int     // words more frequent than this are never replaced
}

// neighbourVocab is the number of most frequent words searched for
// replacements.
const neighbourVocab = 10000

type unitVectors struct {
	words []string
	vecs  []float32 // neighbourVocab x dims, unit length
}

var loadUnitVectors = sync.OnceValues(func() (*unitVectors, error) {
	wv, err := loadWordVectors()
	if err != nil {
		return nil, err
	}
	n := min(neighbourVocab, len(wv.index))
	u := &unitVectors{words: make([]string, n), vecs: make([]float32, n*wv.dims)}
	for w, r := range wv.index {
		if int(r) < n {
			u.words[r] = w
		}
	}
	for r, w := range u.words {
		v := u.vecs[r*wv.dims : (r+1)*wv.dims]
		wv.addTo(v, w, 1)
		normalize32(v)
	}
	return u, nil
})

func normalize32(v []float32) {
	s := 0.0
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s > 0 {
		inv := float32(1 / math.Sqrt(s))
		for i := range v {
			v[i] *= inv
		}
	}
}

// augment returns texts and labels with the neighbour-swapped variants
// appended (labels below inScope only; the rejection class is left as it
// is).
func augment(texts []string, labels []int, inScope int, spec augmentSpec) ([]string, []int) {
	if spec.variants <= 0 {
		return texts, labels
	}
	wv, err1 := loadWordVectors()
	u, err2 := loadUnitVectors()
	if err1 != nil || err2 != nil {
		return texts, labels
	}
	d := wv.dims
	near := map[string]string{} // word -> replacement, "" for none
	buf := make([]float32, d)
	neighbour := func(w string) string {
		if n, ok := near[w]; ok {
			return n
		}
		near[w] = ""
		r, ok := wv.rank(w)
		if !ok || r < spec.minRank {
			return ""
		}
		wv.vector(buf, w)
		normalize32(buf)
		best, bestCos := -1, spec.minCos
		for j := range u.words {
			if j == r {
				continue
			}
			row := u.vecs[j*d : (j+1)*d]
			var c float32
			for k, x := range buf {
				c += x * row[k]
			}
			if c > bestCos {
				best, bestCos = j, c
			}
		}
		if best >= 0 {
			near[w] = u.words[best]
		}
		return near[w]
	}
	n := len(texts)
	seen := map[string]bool{}
	for _, t := range texts {
		seen[t] = true
	}
	for i := range n {
		if labels[i] >= inScope {
			continue
		}
		words := strings.Fields(texts[i])
		// Rarest words first: the highest rank.
		type cand struct {
			at   int
			rank int
		}
		var cands []cand
		for k, w := range words {
			if r, ok := wv.rank(w); ok && r >= spec.minRank && neighbour(w) != "" {
				cands = append(cands, cand{k, r})
			}
		}
		for a := 1; a < len(cands); a++ {
			for b := a; b > 0 && cands[b].rank > cands[b-1].rank; b-- {
				cands[b], cands[b-1] = cands[b-1], cands[b]
			}
		}
		for _, c := range cands[:min(len(cands), spec.variants)] {
			alt := append([]string(nil), words...)
			alt[c.at] = near[words[c.at]]
			s := strings.Join(alt, " ")
			if !seen[s] {
				seen[s] = true
				texts = append(texts, s)
				labels = append(labels, labels[i])
			}
		}
	}
	return texts, labels
}

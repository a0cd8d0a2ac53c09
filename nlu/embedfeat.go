package nlu

import "math"

// embedWeighting says how the word vectors of an utterance are averaged.
type embedWeighting int

const (
	embedIDF     embedWeighting = iota // by the word's IDF in the training examples
	embedSIF                           // a/(a+p(w)), p from the word's frequency rank (Arora et al. 2017)
	embedUniform                       // plain mean
)

// embedSpec configures the dense sentence-vector features appended after
// the sparse columns: the weighted mean of the utterance's word vectors,
// scaled to unit length and then by weight.
type embedSpec struct {
	weight    float32 // 0 turns the features off
	weighting embedWeighting
	sifA      float64 // SIF's smoothing constant; 0 means defaultSIFA
	// both appends a second block of columns with the plain mean after
	// the weighting's block.
	both bool
}

// wordKey is the feature key of a word unigram (as appendFeatures makes it).
func wordKey(t string) uint64 {
	return featureKey(groupWord, hashString(hashByte(fnvOffset, 'w'), t))
}

// defaultSIFA is SIF's smoothing constant; word probabilities come from
// Zipf's law on the vectors' frequency ranks, p(r) = 0.1/(r+1).
const defaultSIFA = 1e-3

// embedDims returns the number of dense columns (0 when off).
func (v *vocabulary) embedDims() int {
	if v.wv == nil {
		return 0
	}
	if v.embed.both {
		return 2 * v.wv.dims
	}
	return v.wv.dims
}

// dim returns the number of columns of the vectors.
func (v *vocabulary) dim() int { return len(v.idf) + v.embedDims() }

// sentenceVector writes the unit-length weighted mean of the tokens'
// word vectors into buf (len embedDims) and reports whether any word had
// a vector (else buf is zero).
func (v *vocabulary) sentenceVector(tokens []string, buf []float32) bool {
	return v.weightedVector(tokens, buf[:v.wv.dims], v.embed.weighting)
}

func (v *vocabulary) weightedVector(tokens []string, buf []float32, weighting embedWeighting) bool {
	clear(buf)
	known := false
	for _, t := range tokens {
		w := float32(1)
		switch weighting {
		case embedIDF:
			w = v.maxIDF
			if c, ok := v.columns[wordKey(t)]; ok {
				w = v.idf[c]
			}
		case embedSIF:
			r, ok := v.wv.rank(t)
			if !ok {
				continue
			}
			a := v.embed.sifA
			if a == 0 {
				a = defaultSIFA
			}
			w = float32(a / (a + 0.1/float64(r+1)))
		}
		if v.wv.addTo(buf, t, w) {
			known = true
		}
	}
	if !known {
		return false
	}
	n := 0.0
	for _, x := range buf {
		n += float64(x) * float64(x)
	}
	if n == 0 {
		return false
	}
	inv := float32(1 / math.Sqrt(n))
	for k := range buf {
		buf[k] *= inv
	}
	return true
}

// appendEmbedding appends the dense sentence-vector columns of tokens to
// out (after every sparse column, so out stays sorted), scaled by the
// spec's weight. buf is scratch of len embedDims and is left holding the
// unit-length sentence vector. Nothing is appended when no word has a
// vector.
func (v *vocabulary) appendEmbedding(out sparse, tokens []string, buf []float32) sparse {
	if v.wv == nil || !v.sentenceVector(tokens, buf) {
		return out
	}
	base := int32(len(v.idf))
	d := v.wv.dims
	for k, x := range buf[:d] {
		out.idx = append(out.idx, base+int32(k))
		out.val = append(out.val, x*v.embed.weight)
	}
	if v.embed.both && v.weightedVector(tokens, buf[d:2*d], embedUniform) {
		for k, x := range buf[d : 2*d] {
			out.idx = append(out.idx, base+int32(d+k))
			out.val = append(out.val, x*v.embed.weight)
		}
	}
	return out
}

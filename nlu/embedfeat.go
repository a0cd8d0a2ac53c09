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
}

// wordKey is the feature key of a word unigram (as appendFeatures makes it).
func wordKey(t string) uint64 {
	return featureKey(groupWord, hashString(hashByte(fnvOffset, 'w'), t))
}

// sifA is SIF's smoothing constant; word probabilities come from Zipf's
// law on the vectors' frequency ranks, p(r) = 0.1/(r+1).
const sifA = 1e-3

// embedDims returns the number of dense columns (0 when off).
func (v *vocabulary) embedDims() int {
	if v.wv == nil {
		return 0
	}
	return v.wv.dims
}

// dim returns the number of columns of the vectors.
func (v *vocabulary) dim() int { return len(v.idf) + v.embedDims() }

// appendEmbedding appends the dense sentence-vector columns of tokens to
// out (after every sparse column, so out stays sorted). buf is scratch of
// len embedDims. Nothing is appended when no word has a vector.
func (v *vocabulary) appendEmbedding(out sparse, tokens []string, buf []float32) sparse {
	if v.wv == nil {
		return out
	}
	clear(buf)
	known := false
	for _, t := range tokens {
		w := float32(1)
		switch v.embed.weighting {
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
			w = float32(sifA / (sifA + 0.1/float64(r+1)))
		}
		if v.wv.addTo(buf, t, w) {
			known = true
		}
	}
	if !known {
		return out
	}
	n := 0.0
	for _, x := range buf {
		n += float64(x) * float64(x)
	}
	if n == 0 {
		return out
	}
	scale := v.embed.weight / float32(math.Sqrt(n))
	base := int32(len(v.idf))
	for k, x := range buf {
		out.idx = append(out.idx, base+int32(k))
		out.val = append(out.val, x*scale)
	}
	return out
}

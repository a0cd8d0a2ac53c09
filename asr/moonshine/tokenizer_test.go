package moonshine

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

var (
	tokOnce sync.Once
	tokVal  *Tokenizer
	tokErr  error
)

// realTokenizer loads the installed vocabulary, skipping when the model
// directory is absent.
func realTokenizer(t testing.TB) *Tokenizer {
	t.Helper()
	p := filepath.Join(ResolveModelDir(""), TokenizerFile)
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s absent: run scripts/fetch-speech-model.sh to test the tokenizer", p)
	}
	tokOnce.Do(func() { tokVal, tokErr = LoadTokenizer(p) })
	if tokErr != nil {
		t.Fatal(tokErr)
	}
	return tokVal
}

// TestEncodeKnownIDs checks ids that llama-tokenizer-js gives (without
// its leading start token 1).
func TestEncodeKnownIDs(t *testing.T) {
	tk := realTokenizer(t)
	if tk.Size() != 32000 {
		t.Fatalf("vocabulary of %d pieces, want 32000", tk.Size())
	}
	for _, c := range []struct {
		text string
		want []int
	}{
		{"Five.", []int{22853, 29889}},
		{" five", []int{29871, 5320}},
		{"grabbed", []int{2646, 1327, 287}},
		{" grabbed", []int{29871, 2646, 1327, 287}},
		{"           grabbed", []int{9651, 2646, 1327, 287}},
		{"\n", []int{29871, 13}},
		{" \n", []int{259, 13}},
		{"ax\n####\nboo", []int{4853, 13, 4136, 13, 833, 29877}},
		{"镇", []int{29871, 30411}},
		{"🦙", []int{29871, 243, 162, 169, 156}},
	} {
		got := tk.Encode(c.text)
		if !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
		if back := tk.Decode(got); back != c.text {
			t.Errorf("Decode(Encode(%q)) = %q", c.text, back)
		}
	}
}

func TestDecodePieces(t *testing.T) {
	tk := realTokenizer(t)
	for _, c := range []struct {
		ids  []int
		want string
	}{
		{[]int{1, 22853, 29889, 2}, "Five."},
		{[]int{2646, 1327, 287}, "grabbed"},
		{[]int{29871, 243, 162, 169, 156}, "🦙"},
		{[]int{243, 162}, "\uFFFD"}, // a cut UTF-8 sequence
		{[]int{-5, 40000, 0}, ""},
		{nil, ""},
	} {
		if got := tk.Decode(c.ids); got != c.want {
			t.Errorf("Decode(%v) = %q, want %q", c.ids, got, c.want)
		}
	}
}

// TestRoundTrip: Decode(Encode(s)) is s for ordinary transcripts.
func TestRoundTrip(t *testing.T) {
	tk := realTokenizer(t)
	for _, s := range []string{
		"Let me speak to an agent.", "I'd like to check my balance, please.", "What's the status of parcel 42?",
		"Yes, please.", "Nine.", "Oh.", "café au lait", "tab\there", "two  spaces",
	} {
		ids := tk.Encode(s)
		if len(ids) == 0 || len(ids) >= len(s)+2 {
			t.Errorf("Encode(%q) = %v: no merges applied", s, ids)
		}
		if got := tk.Decode(ids); got != s {
			t.Errorf("Decode(Encode(%q)) = %q", s, got)
		}
	}
}

// tinyTokenizer is a synthetic vocabulary: specials, the byte pieces, a
// few letters and merges.
func tinyTokenizer(t testing.TB) *Tokenizer {
	pieces := []string{"<unk>", "<s>", "</s>"}
	for b := range 256 {
		pieces = append(pieces, "<0x"+strings.ToUpper(hex2(byte(b)))+">")
	}
	pieces = append(pieces, space, "a", "b", space+"a", "ab", space+"ab")
	id := func(p string) int { return slices.Index(pieces, p) }
	var merges []byte
	for _, m := range [][2]string{{space, "a"}, {"a", "b"}, {space + "a", "b"}} {
		a, b := id(m[0]), id(m[1])
		merges = append(merges, byte(a), byte(a>>8), byte(b), byte(b>>8))
	}
	tk, err := NewTokenizer(pieces, merges)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func hex2(b byte) string {
	const h = "0123456789abcdef"
	return string([]byte{h[b>>4], h[b&15]})
}

func TestTinyTokenizer(t *testing.T) {
	tk := tinyTokenizer(t)
	got := tk.Encode("ab ab")
	// "▁ab" twice: ▁+a first (rank 0), then ▁a+b (rank 2).
	want := []int{int(tk.ids[space+"ab"]), int(tk.ids[space+"ab"])}
	if !slices.Equal(got, want) {
		t.Fatalf("Encode = %v, want %v", got, want)
	}
	if s := tk.Decode(got); s != "ab ab" {
		t.Fatalf("Decode = %q", s)
	}
	// "c" is not a piece: byte fallback.
	got = tk.Encode("c")
	want = []int{int(tk.ids[space]), int(tk.ids["<0x63>"])}
	if !slices.Equal(got, want) {
		t.Fatalf("Encode(c) = %v, want %v", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, src := range []string{
		"",
		`const llama_vocab_base64 = "AAAA`,
		`const llama_vocab_base64 = "!!!"; const llama_merges_binary = ""`,
		`const llama_vocab_base64 = "YQpi"; const llama_merges_binary = ""`,             // 2 pieces
		`const llama_vocab_base64 = "YQpiCmMKZA=="; const llama_merges_binary = "AAA="`, // odd merges
		`const llama_vocab_base64 = "YQpiCmMKZA=="; const llama_merges_binary = "AAAJAA=="`,
	} {
		if _, err := ParseTokenizerJS([]byte(src)); err == nil {
			t.Errorf("ParseTokenizerJS(%q) accepted", src)
		}
	}
	ok := `const llama_vocab_base64 = "` + base64.StdEncoding.EncodeToString([]byte("<unk>\n<s>\n</s>\na\nb\nab")) +
		`"; const llama_merges_binary = "` + base64.StdEncoding.EncodeToString([]byte{3, 0, 4, 0}) + `"`
	tk, err := ParseTokenizerJS([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	// No ▁ and no byte pieces: the space is three <unk>, then "ab".
	if got := tk.Encode("ab"); !slices.Equal(got, []int{0, 0, 0, 5}) {
		t.Errorf("Encode(ab) = %v, want [0 0 0 5]", got)
	}
}

// FuzzTokenizer: encoding never panics, gives ids in range, and decodes
// back to the (valid UTF-8) text for the real vocabulary.
func FuzzTokenizer(f *testing.F) {
	for _, s := range []string{"Five.", " five", "🦙Ꙋ", "a\x80b", "   ", "ab ab", "\n\t"} {
		f.Add(s)
	}
	tiny := tinyTokenizer(f)
	var real *Tokenizer
	if _, err := os.Stat(filepath.Join(ResolveModelDir(""), TokenizerFile)); err == nil {
		real = realTokenizer(f)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tk := range []*Tokenizer{tiny, real} {
			if tk == nil {
				continue
			}
			ids := tk.Encode(s)
			for _, id := range ids {
				if id < 0 || id >= tk.Size() {
					t.Fatalf("Encode(%q): id %d out of range", s, id)
				}
			}
			got := tk.Decode(ids)
			if !utf8.ValidString(got) {
				t.Fatalf("Decode gave invalid UTF-8 %q", got)
			}
			if want := strings.ToValidUTF8(s, "\uFFFD"); tk == real && !strings.Contains(s, space) && got != want {
				t.Fatalf("Decode(Encode(%q)) = %q", s, got)
			}
		}
	})
}

// FuzzParse: the vocabulary parser never panics on arbitrary files and
// what it accepts can encode and decode.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`const llama_vocab_base64 = "PHVuaz4KPHM+Cjwvcz4KYQpiCmFi"; const llama_merges_binary = "AwAEAA=="`), "ab")
	f.Add([]byte(`llama_vocab_base64 = ""`), "x")
	f.Fuzz(func(t *testing.T, src []byte, s string) {
		tk, err := ParseTokenizerJS(src)
		if err != nil {
			return
		}
		ids := tk.Encode(s)
		_ = tk.Decode(ids)
		_ = tk.Decode([]int{-1, 0, 1, 2, 3, 1 << 20})
	})
}

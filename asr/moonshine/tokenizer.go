package moonshine

import (
	"bytes"
	"container/heap"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"
)

// Special token ids of the Llama SentencePiece vocabulary Moonshine uses.
const (
	tokUnk = 0
	tokBOS = 1 // also the decoder's start token
	tokEOS = 2
)

// space is the piece character SentencePiece writes for a space.
const space = "▁"

// Tokenizer maps between text and the 32000 token ids of the Llama
// SentencePiece vocabulary: Decode turns model output into text, Encode
// turns candidate texts into the ids the decoder scores. Encode applies the
// byte-pair merges in their rank order (lowest first, leftmost on ties),
// with byte pieces (<0xNN>) for characters the vocabulary lacks. A
// Tokenizer is read-only after parsing and safe for concurrent use.
type Tokenizer struct {
	pieces  []string         // by id
	ids     map[string]int32 // piece -> id
	merges  map[[2]int32]int32
	byteTok [256]int32 // id of <0xNN>, -1 when absent
	isByte  []bool     // by id: the piece is <0xNN>
}

// Vocabulary and merges are stored in llama-tokenizer.js (the MIT package
// llama-tokenizer-js) as two base64 string constants: the pieces as
// newline-separated UTF-8, and the merges as little-endian uint16 id
// pairs, two pairs (left, right) per merge, in rank order.
const (
	vocabConst  = "llama_vocab_base64"
	mergesConst = "llama_merges_binary"
)

// LoadTokenizer reads the vocabulary and merges from a llama-tokenizer.js
// file.
func LoadTokenizer(path string) (*Tokenizer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := ParseTokenizerJS(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// jsString returns the double-quoted string literal assigned to the
// constant name ("name = \"...\"") in src.
func jsString(src []byte, name string) ([]byte, error) {
	i := bytes.Index(src, []byte(name+" = \""))
	if i < 0 {
		return nil, fmt.Errorf("no %s string in the tokenizer file", name)
	}
	s := src[i+len(name)+4:]
	j := bytes.IndexByte(s, '"')
	if j < 0 {
		return nil, fmt.Errorf("%s: unterminated string", name)
	}
	return s[:j], nil
}

// ParseTokenizerJS parses the llama-tokenizer.js source.
func ParseTokenizerJS(src []byte) (*Tokenizer, error) {
	v64, err := jsString(src, vocabConst)
	if err != nil {
		return nil, err
	}
	m64, err := jsString(src, mergesConst)
	if err != nil {
		return nil, err
	}
	vocab, err := base64.StdEncoding.DecodeString(string(v64))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", vocabConst, err)
	}
	merges, err := base64.StdEncoding.DecodeString(string(m64))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mergesConst, err)
	}
	return NewTokenizer(strings.Split(string(vocab), "\n"), merges)
}

// maxVocab bounds the vocabulary: merges name pieces with 16-bit ids.
const maxVocab = 1 << 16

// NewTokenizer builds a tokenizer from the pieces (index = id) and the
// merges as little-endian uint16 ids, (left, right) per merge, best first.
func NewTokenizer(pieces []string, merges []byte) (*Tokenizer, error) {
	if len(pieces) <= tokEOS {
		return nil, errors.New("vocabulary too small")
	}
	if len(pieces) > maxVocab {
		return nil, fmt.Errorf("vocabulary of %d pieces, at most %d", len(pieces), maxVocab)
	}
	if len(merges)%4 != 0 {
		return nil, fmt.Errorf("merges: %d bytes, not whole id pairs", len(merges))
	}
	t := &Tokenizer{
		pieces: pieces,
		ids:    make(map[string]int32, len(pieces)),
		merges: make(map[[2]int32]int32, len(merges)/4),
		isByte: make([]bool, len(pieces)),
	}
	for i := range t.byteTok {
		t.byteTok[i] = -1
	}
	for id, p := range pieces {
		if !utf8.ValidString(p) {
			return nil, fmt.Errorf("piece %d is not UTF-8", id)
		}
		t.ids[p] = int32(id) // the last of duplicates, as llama-tokenizer-js
		if b, ok := bytePiece(p); ok {
			t.isByte[id] = true
			t.byteTok[b] = int32(id)
		}
	}
	for i := 0; i < len(merges); i += 4 {
		a := int32(merges[i]) | int32(merges[i+1])<<8
		b := int32(merges[i+2]) | int32(merges[i+3])<<8
		if int(a) >= len(pieces) || int(b) >= len(pieces) {
			return nil, fmt.Errorf("merge %d names id %d or %d beyond the vocabulary", i/4, a, b)
		}
		if _, ok := t.ids[pieces[a]+pieces[b]]; !ok {
			continue // a merge whose result is no piece can never apply
		}
		t.merges[[2]int32{a, b}] = int32(i / 4)
	}
	return t, nil
}

// bytePiece parses "<0xNN>".
func bytePiece(p string) (byte, bool) {
	if len(p) != 6 || p[:3] != "<0x" || p[5] != '>' {
		return 0, false
	}
	hi, ok1 := hexVal(p[3])
	lo, ok2 := hexVal(p[4])
	return hi<<4 | lo, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// Size is the number of pieces.
func (t *Tokenizer) Size() int { return len(t.pieces) }

// Piece returns the piece of id, "" when out of range.
func (t *Tokenizer) Piece(id int) string {
	if id < 0 || id >= len(t.pieces) {
		return ""
	}
	return t.pieces[id]
}

// Decode turns token ids into text: byte pieces become their bytes, ▁
// becomes a space and the space SentencePiece puts before the first word
// is dropped. The special tokens (<unk>, <s>, </s>) and ids out of range
// are skipped; invalid UTF-8 from byte pieces becomes U+FFFD.
func (t *Tokenizer) Decode(ids []int) string {
	var b []byte
	for _, id := range ids {
		if id <= tokEOS || id >= len(t.pieces) {
			continue
		}
		if t.isByte[id] {
			v, _ := bytePiece(t.pieces[id])
			b = append(b, v)
			continue
		}
		b = append(b, t.pieces[id]...)
	}
	s := strings.ReplaceAll(strings.ToValidUTF8(string(b), "\uFFFD"), space, " ")
	return strings.TrimPrefix(s, " ")
}

// Encode returns the token ids of text, without the start token, the way
// SentencePiece writes it: a space before the text, every space as ▁,
// then byte-pair merges.
func (t *Tokenizer) Encode(text string) []int {
	if text == "" {
		return nil
	}
	s := strings.ReplaceAll(" "+strings.ToValidUTF8(text, "\uFFFD"), " ", space)
	// A doubly linked list of symbols; merges form a min-heap of
	// candidate pairs keyed by (rank, position).
	type sym struct {
		id         int32
		prev, next int
		alive      bool
	}
	syms := make([]sym, 0, len(s))
	for _, r := range s {
		if id, ok := t.ids[string(r)]; ok {
			syms = append(syms, sym{id: id})
			continue
		}
		var buf [utf8.UTFMax]byte
		n := utf8.EncodeRune(buf[:], r)
		for _, c := range buf[:n] {
			id := t.byteTok[c]
			if id < 0 {
				id = tokUnk
			}
			syms = append(syms, sym{id: id})
		}
	}
	for i := range syms {
		syms[i].prev, syms[i].next, syms[i].alive = i-1, i+1, true
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	h := &pairHeap{}
	push := func(l int) {
		r := syms[l].next
		if r < 0 {
			return
		}
		if rank, ok := t.merges[[2]int32{syms[l].id, syms[r].id}]; ok {
			heap.Push(h, pair{rank: rank, left: l, lid: syms[l].id, rid: syms[r].id})
		}
	}
	for i := range syms {
		push(i)
	}
	for h.Len() > 0 {
		p := heap.Pop(h).(pair)
		l := &syms[p.left]
		// Skip pairs that earlier merges changed.
		if !l.alive || l.id != p.lid || l.next < 0 || syms[l.next].id != p.rid || !syms[l.next].alive {
			continue
		}
		r := l.next
		l.id = t.ids[t.pieces[p.lid]+t.pieces[p.rid]]
		syms[r].alive = false
		l.next = syms[r].next
		if l.next >= 0 {
			syms[l.next].prev = p.left
		}
		if l.prev >= 0 {
			push(l.prev)
		}
		push(p.left)
	}
	out := make([]int, 0, len(syms))
	for i := 0; i >= 0 && i < len(syms); i = syms[i].next {
		out = append(out, int(syms[i].id))
	}
	return out
}

// pair is a possible merge of the symbol at left with its right neighbour,
// whose ids were lid and rid when it was queued.
type pair struct {
	rank     int32
	left     int
	lid, rid int32
}

type pairHeap []pair

func (h pairHeap) Len() int { return len(h) }
func (h pairHeap) Less(i, j int) bool {
	if h[i].rank != h[j].rank {
		return h[i].rank < h[j].rank
	}
	return h[i].left < h[j].left
}
func (h pairHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pairHeap) Push(x any)   { *h = append(*h, x.(pair)) }
func (h *pairHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

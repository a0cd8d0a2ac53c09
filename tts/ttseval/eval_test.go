package main

import (
	"math"
	"math/cmplx"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEditDistance(t *testing.T) {
	w := strings.Fields
	tests := []struct {
		ref, hyp string
		want     int
	}{
		{"a b c", "a b c", 0},
		{"a b c", "a x c", 1},
		{"a b c", "a c", 1},
		{"a b c", "a b c d e", 2},
		{"a b c", "", 3},
		{"", "a", 1},
	}
	for _, tt := range tests {
		if got := editDistance(w(tt.ref), w(tt.hyp)); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.ref, tt.hyp, got, tt.want)
		}
	}
}

func TestReferences(t *testing.T) {
	refs, err := references()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(refs[0].words, " "); got != "your balance is one hundred and twelve pounds forty" {
		t.Fatalf("first reference %q", got)
	}
	if got := normalize("Hello, A.M. it's 5!"); strings.Join(got, "|") != "hello|a|m|it's" {
		t.Fatalf("normalize: %q", got)
	}
}

func TestParseHyp(t *testing.T) {
	p := filepath.Join(t.TempDir(), "h")
	os.WriteFile(p, []byte("your balance is (v-00 -1234)\n (v-01 0)\ngarbage\n"), 0o644)
	f, _ := os.Open(p)
	defer f.Close()
	h, err := parseHyp(f)
	if err != nil || h["v-00"] != "your balance is" || h["v-01"] != "" || len(h) != 2 {
		t.Fatalf("parseHyp = %q, %v", h, err)
	}
}

// band measures the energy fraction of pcm (16 kHz) above 4.2 kHz with a
// plain DFT over one block.
func highFraction(pcm []int16) float64 {
	const n = 1024
	var lo, hi float64
	for k := 1; k < n/2; k++ {
		var s complex128
		for i := 0; i < n; i++ {
			s += complex(float64(pcm[i]), 0) * cmplx.Exp(complex(0, -2*math.Pi*float64(k*i)/n))
		}
		e := real(s)*real(s) + imag(s)*imag(s)
		if float64(k)*16000/n > 4200 {
			hi += e
		} else {
			lo += e
		}
	}
	return hi / (lo + hi)
}

func TestTelephoneChannel(t *testing.T) {
	// A 1 kHz tone at 8 kHz comes out at 16 kHz, with the fill above
	// 4.2 kHz and at the asked level.
	tone := make([]int16, 8000)
	for i := range tone {
		tone[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	bare := telephone(tone, 0)
	if len(bare) != 16000 || highFraction(bare[4000:]) > 1e-3 {
		t.Fatalf("bare channel: %d samples, high fraction %g", len(bare), highFraction(bare[4000:]))
	}
	silence := make([]int16, 16000)
	noise := addHighBand(silence, -60, 1)
	var sum float64
	for _, v := range noise {
		sum += float64(v) * float64(v)
	}
	db := 20 * math.Log10(math.Sqrt(sum/float64(len(noise)))/32768)
	if db < -62 || db > -58 {
		t.Fatalf("fill level %.1f dBFS, want -60", db)
	}
	if f := highFraction(noise[4000:]); f < 0.95 {
		t.Fatalf("fill has %.2f of its energy above 4.2 kHz", f)
	}
}

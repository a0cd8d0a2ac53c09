package dtmf

import (
	"path/filepath"
	"strings"
	"testing"
)

// isSubsequence reports whether every digit of got appears in want in order.
func isSubsequence(got, want string) bool {
	j := 0
	for i := 0; i < len(got); i++ {
		for j < len(want) && want[j] != got[i] {
			j++
		}
		if j == len(want) {
			return false
		}
		j++
	}
	return true
}

// radioAtLeast is the number of digits the detector finds in each talk
// radio overlay.
var radioAtLeast = map[string]int{
	"0123456789psABCD--0db.wav":    16,
	"0123456789psABCD--min7db.wav": 11,
}

func TestLabelledRecordings(t *testing.T) {
	files, err := filepath.Glob("../../shared/data/dtmf/tonedetect/*/*.wav")
	if err != nil || len(files) == 0 {
		t.Fatalf("no labelled recordings under ../../shared/data/dtmf/tonedetect (%v)", err)
	}
	for _, f := range files {
		want := KeysFromFileName(f)
		got, err := DetectFile(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if strings.Contains(f, "RadioOverlay") {
			// Talk radio mixed over the tones at random levels, up to
			// clipping: a detector that keeps talk-off at zero on speech
			// and music cannot take every digit here. It must not invent
			// or reorder digits.
			if !isSubsequence(got, want) {
				t.Errorf("%s: got %q, not a subsequence of %q", f, got, want)
			}
			// What the weak-tone path reaches today (BENCHMARKS.md, DTMF):
			// a regression guard, not a target.
			if least := radioAtLeast[filepath.Base(f)]; len(got) < least {
				t.Errorf("%s: %d digits (%q), fewer than the %d found before", f, len(got), got, least)
			}
			t.Logf("%s: %d of %d digits (%q)", filepath.Base(f), len(got), len(want), got)
			continue
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", f, got, want)
		}
	}
}

func TestKeysFromFileName(t *testing.T) {
	for name, want := range map[string]string{
		"x/0123456789PpsPABCD.wav":       "0123456789#*ABCD",
		"x/AAAABBBB.wav":                 "AAAABBBB",
		"x/0123456789psABCD--min7db.wav": "0123456789#*ABCD",
		"x/12d3.wav":                     "123",
		"x/ABCD":                         "ABCD",
		"x/0--x.WAV":                     "0",
		"x/q1.wav":                       "",
	} {
		if got := KeysFromFileName(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

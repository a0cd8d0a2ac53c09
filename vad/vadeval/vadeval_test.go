package vadeval

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const speechDir = "../../../shared/data/speech"

func TestROCAUC(t *testing.T) {
	tests := []struct {
		name   string
		scores []float32
		labels []bool
		want   float64
	}{
		{"perfect", []float32{0.1, 0.2, 0.8, 0.9}, []bool{false, false, true, true}, 1},
		{"inverted", []float32{0.9, 0.8, 0.2, 0.1}, []bool{false, false, true, true}, 0},
		{"all tied", []float32{0.5, 0.5, 0.5, 0.5}, []bool{false, true, false, true}, 0.5},
		// Pairs (pos, neg): (0.6 vs 0.1, 0.7) -> 1 + 0; (0.9 vs both) -> 2: 3 of 4.
		{"mixed", []float32{0.1, 0.6, 0.7, 0.9}, []bool{false, true, false, true}, 0.75},
		{"tie across classes", []float32{0.3, 0.5, 0.5}, []bool{false, false, true}, 0.75},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ROCAUC(tc.scores, tc.labels); math.Abs(got-tc.want) > 1e-12 {
				t.Fatalf("AUC %v, want %v", got, tc.want)
			}
		})
	}
	if !math.IsNaN(ROCAUC([]float32{1, 2}, []bool{true, true})) {
		t.Fatal("AUC with one class must be NaN")
	}
}

func TestThresholdCounts(t *testing.T) {
	c := Threshold([]float32{0.9, 0.6, 0.4, 0.2, 0.7}, []bool{true, false, true, false, true}, 0.5)
	if c != (Counts{TP: 2, FP: 1, TN: 1, FN: 1}) {
		t.Fatalf("counts %+v", c)
	}
	if c.Precision() != 2.0/3 || c.Recall() != 2.0/3 || c.FalsePositiveRate() != 0.5 || c.Accuracy() != 0.6 {
		t.Fatalf("P %v R %v FPR %v Acc %v", c.Precision(), c.Recall(), c.FalsePositiveRate(), c.Accuracy())
	}
	if !math.IsNaN((Counts{}).Precision()) {
		t.Fatal("precision without predictions must be NaN")
	}
}

func TestSegments(t *testing.T) {
	got := Segments([]bool{false, true, true, false, true, false, false, true})
	want := [][2]int{{1, 3}, {4, 5}, {7, 8}}
	if !slices.Equal(got, want) {
		t.Fatalf("segments %v, want %v", got, want)
	}
}

func TestActiveHopsOnRealSpeech(t *testing.T) {
	c, err := readWAV(DefaultSoundsDir + "/agent-pass.wav")
	if err != nil {
		t.Fatalf("%v (apt-get install asterisk-core-sounds-en-wav)", err)
	}
	// Half a second of silence, the prompt, half a second of silence.
	s := append(append(make([]int16, 4000), c.Samples...), make([]int16, 4000)...)
	act := activeHops(s, 160)
	for h := 0; h < 20; h++ {
		if act[h] || act[len(act)-1-h] {
			t.Fatalf("hop %d of the silent edges labelled speech", h)
		}
	}
	n := 0
	for _, a := range act {
		if a {
			n++
		}
	}
	if n < len(c.Samples)/160/2 {
		t.Fatalf("only %d of %d prompt hops labelled speech", n, len(c.Samples)/160)
	}
}

func TestGenerateDeterministicAndLabelled(t *testing.T) {
	if raceEnabled {
		t.Skip("loads every source recording: slow under -race")
	}
	cfg := Config{Split: Test, Rate: 8000, Items: 12, Seed: 3, SpeechDir: speechDir}
	a, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var speech, hops int
	for i := range a {
		if !slices.Equal(a[i].Samples, b[i].Samples) || !slices.Equal(a[i].Speech, b[i].Speech) {
			t.Fatalf("item %d differs between runs with one seed", i)
		}
		if len(a[i].Speech)*160 != len(a[i].Samples) {
			t.Fatalf("item %d: %d labels for %d samples", i, len(a[i].Speech), len(a[i].Samples))
		}
		for _, l := range a[i].Speech {
			hops++
			if l {
				speech++
			}
		}
	}
	if f := float64(speech) / float64(hops); f < 0.15 || f > 0.7 {
		t.Fatalf("speech fraction %.2f", f)
	}
}

func TestSplitsShareNoRecordings(t *testing.T) {
	if raceEnabled {
		t.Skip("loads every source recording: slow under -race")
	}
	base := Config{Rate: 8000, SoundsDir: DefaultSoundsDir, MOHDir: DefaultMOHDir, SpeechDir: speechDir}
	tr := base
	tr.Split = Train
	te := base
	te.Split = Test
	a, err := loadSources(tr)
	if err != nil {
		t.Fatal(err)
	}
	b, err := loadSources(te)
	if err != nil {
		t.Fatal(err)
	}
	names := func(s *sources) map[string]bool {
		m := map[string]bool{}
		for _, l := range [][]source{s.prompts, s.words, s.music, s.noises} {
			for _, x := range l {
				m[x.name] = true
			}
		}
		return m
	}
	na, nb := names(a), names(b)
	for n := range nb {
		if na[n] {
			t.Fatalf("%s in both splits", n)
		}
	}
	speaker := func(n string) string {
		i := strings.Index(n, "_nohash_")
		if !strings.HasPrefix(n, "word:") || i < 0 {
			return ""
		}
		s := n[:i]
		return s[strings.LastIndex(s, "_")+1:]
	}
	spk := map[string]bool{}
	for n := range na {
		spk[speaker(n)] = true
	}
	for n := range nb {
		if s := speaker(n); s != "" && spk[s] {
			t.Fatalf("speaker %s in both splits", s)
		}
	}
	t.Logf("train: %d prompts %d words %d music; test: %d prompts %d words %d music",
		len(a.prompts), len(a.words), len(a.music), len(b.prompts), len(b.words), len(b.music))
}

func TestWriteAndReadDir(t *testing.T) {
	items, err := Generate(Config{Split: Test, Rate: 16000, Items: 3, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	items[0].Speech = make([]bool, len(items[0].Speech)) // one clip without speech
	dir := t.TempDir()
	if err := WriteDir(dir, items); err != nil {
		t.Fatal(err)
	}
	back, err := ReadLabels(dir + "/" + LabelsFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(items) {
		t.Fatalf("%d items back, want %d", len(back), len(items))
	}
	for i := range items {
		if back[i].Name != items[i].Name || back[i].Rate != 16000 || back[i].Background != items[i].Background {
			t.Fatalf("item %d: %s %d %q", i, back[i].Name, back[i].Rate, back[i].Background)
		}
		if !slices.Equal(back[i].Speech, items[i].Speech) || !slices.Equal(back[i].Samples, items[i].Samples) {
			t.Fatalf("item %d: labels or samples differ after the round trip", i)
		}
	}
}

func TestBackgroundKind(t *testing.T) {
	for bg, want := range map[string]string{"silence": "silence", "white -50 dBFS": "noise", "pink -60 dBFS": "noise",
		"hum 50 Hz -40 dBFS": "hum", "noise:_silence_/1.wav": "room", "music:x -20 dBFS": "music", "dtmf": "dtmf",
		"ringback": "tones", "dial tone": "tones", "busy": "tones", "": "unknown", "x": "other"} {
		if got := BackgroundKind(bg); got != want {
			t.Errorf("BackgroundKind(%q) = %q, want %q", bg, got, want)
		}
	}
}

// FuzzReadLabels parses arbitrary label files: errors are fine, panics and
// labels outside the audio are not.
func FuzzReadLabels(f *testing.F) {
	dir := f.TempDir()
	if err := WriteDir(dir, []Item{{Name: "a", Rate: 8000, Samples: make([]int16, 8000), Speech: make([]bool, 50)}}); err != nil {
		f.Fatal(err)
	}
	f.Add("file,start,end\na.wav,0.1,0.5\n")
	f.Add("file,start,end\na.wav,,\n")
	f.Add("file,start,end,background,channel\na.wav,0.5,0.1,x,y\n")
	f.Add("file,start\n")
	f.Add("file,start,end\na.wav,NaN,Inf\n")
	f.Fuzz(func(t *testing.T, csv string) {
		p := filepath.Join(t.TempDir(), LabelsFile)
		if err := os.WriteFile(p, []byte(csv), 0o644); err != nil {
			t.Fatal(err)
		}
		// Point relative names at the real WAV.
		if err := os.Symlink(filepath.Join(dir, "a.wav"), filepath.Join(filepath.Dir(p), "a.wav")); err != nil {
			t.Fatal(err)
		}
		items, err := ReadLabels(p)
		if err != nil {
			return
		}
		for _, it := range items {
			if len(it.Speech)*it.Rate*HopMs/1000 != len(it.Samples) {
				t.Fatalf("%d labels for %d samples", len(it.Speech), len(it.Samples))
			}
		}
	})
}

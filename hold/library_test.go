package hold

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
)

func TestLibraryDecodesOncePerFileAndRate(t *testing.T) {
	dir := t.TempDir()
	path := writeWAV(t, dir, "a.wav", r8, tone(r8, 440, 6000, time.Second))
	lib := NewLibrary(nil)
	var wg sync.WaitGroup
	got := make([]*Track, 20)
	for i := range got {
		wg.Go(func() {
			tr, err := lib.Load(path, r8)
			if err != nil {
				t.Error(err)
			}
			got[i] = tr
		})
	}
	wg.Wait()
	for _, tr := range got {
		if tr != got[0] {
			t.Fatal("concurrent loads decoded the file more than once")
		}
	}
	t16, err := lib.Load(path, audio.Rate16k)
	if err != nil || t16 == got[0] || t16.Rate != audio.Rate16k || len(t16.Samples) != 2*len(got[0].Samples) {
		t.Fatalf("16 kHz copy: %v, %d samples", err, len(t16.Samples))
	}
	// A changed file is decoded again; the old copy stays intact for
	// the players that have it.
	writeWAV(t, dir, "a.wav", r8, tone(r8, 660, 6000, 2*time.Second))
	tr, err := lib.Load(path, r8)
	if err != nil || tr == got[0] || len(tr.Samples) != 2*r8 || len(got[0].Samples) != r8 {
		t.Fatalf("after a change: %v, %d samples (old copy %d)", err, len(tr.Samples), len(got[0].Samples))
	}
}

func TestBrokenFilesAreSkipped(t *testing.T) {
	dir := t.TempDir()
	a := tone(r8, 440, 6000, time.Second)
	b := tone(r8, 660, 6000, 1500*time.Millisecond)
	broken := filepath.Join(dir, "broken.wav")
	if err := os.WriteFile(broken, []byte("RIFF\x24\x00\x00\x00WAVEnot a wav file at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "text.wav")
	if err := os.WriteFile(text, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	paths := []string{
		writeWAV(t, dir, "a.wav", r8, a),
		broken,
		writeWAV(t, dir, "silent.wav", r8, make([]int16, 2*r8)),
		filepath.Join(dir, "missing.wav"),
		text,
		dir,
		writeWAV(t, dir, "b.wav", r8, b),
	}
	var logs bytes.Buffer
	lib := NewLibrary(slog.New(slog.NewTextHandler(&logs, nil)))
	for _, start := range []int{1, 0} { // start on a broken file, then on a good one
		if errs := lib.Preload(paths, r8); len(errs) != 5 {
			t.Fatalf("%d errors, want 5: %v", len(errs), errs)
		}
		p := NewPlayer(lib, paths, r8, start, patient)
		if p.Pattern() {
			t.Fatal("two good files, yet the pattern plays")
		}
		want := append(append(append([]int16{}, a...), b...), a...)
		if start == 1 {
			want = append(append(append([]int16{}, b...), a...), b...)
		}
		if i := firstDiff(read(t, p, len(want), 160), want); i >= 0 {
			t.Fatalf("start %d: output is not the good files in turn (differs at %d)", start, i)
		}
		skipped := p.Skipped()
		var msgs []string
		for _, err := range skipped {
			msgs = append(msgs, err.Error())
		}
		all := strings.Join(msgs, "\n")
		for _, name := range []string{"broken.wav", "silent.wav", "missing.wav", "text.wav", filepath.Base(dir)} {
			if !strings.Contains(all, name) {
				t.Errorf("start %d: skipped files do not name %s:\n%s", start, name, all)
			}
		}
		if !errors.Is(errors.Join(skipped...), ErrEmpty) {
			t.Errorf("silent file not reported as ErrEmpty")
		}
	}
	// One warning per broken file, however many calls use it.
	if n := strings.Count(logs.String(), "file skipped"); n != 3 {
		t.Errorf("%d warnings logged, want 3 (broken, silent, text):\n%s", n, logs.String())
	}
}

func TestTrackNotDecodedYetIsPassedOver(t *testing.T) {
	dir := t.TempDir()
	a := tone(r8, 440, 6000, time.Second)
	b := tone(r8, 660, 6000, time.Second)
	pa, pb := writeWAV(t, dir, "a.wav", r8, a), writeWAV(t, dir, "b.wav", r8, b)
	lib := NewLibrary(nil)
	if _, err := lib.Load(pa, r8); err != nil {
		t.Fatal(err)
	}
	// b's decoding is still under way (an entry whose ready is open).
	st, _ := os.Stat(pb)
	slow := &entry{ready: make(chan struct{}), size: st.Size(), modTime: st.ModTime()}
	lib.tracks[trackKey{pb, r8}] = slow
	p := NewPlayer(lib, []string{pa, pb}, r8, 0, patient) // waits for a only
	// a, then a again (b not ready: no gap, no silence), then b once ready.
	if i := firstDiff(read(t, p, 2*r8, 160), append(append([]int16{}, a...), a...)); i >= 0 {
		t.Fatalf("while b decodes, a does not repeat (differs at %d)", i)
	}
	tb, err := decode(pb, r8)
	if err != nil {
		t.Fatal(err)
	}
	slow.t = tb
	close(slow.ready)
	if i := firstDiff(read(t, p, 2*r8, 160), append(append([]int16{}, b...), a...)); i >= 0 {
		t.Fatalf("once b is decoded it does not join the rotation (differs at %d)", i)
	}
}

func TestResampleMatchesAudio(t *testing.T) {
	in := noise(3, 8000, 12345)
	for _, rates := range [][2]int{{8000, 16000}, {16000, 8000}, {44100, 8000}, {8000, 48000}, {11025, 16000}} {
		want := audio.Resample(in, rates[0], rates[1])
		if i := firstDiff(resample(in, rates[0], rates[1]), want); i >= 0 {
			t.Errorf("%d to %d: differs from audio.Resample at %d", rates[0], rates[1], i)
		}
	}
}

func TestPatternUntilTheFirstTrackIsDecoded(t *testing.T) {
	dir := t.TempDir()
	a := tone(r8, 440, 6000, time.Second)
	b := tone(r8, 660, 6000, time.Second)
	pa, pb := writeWAV(t, dir, "a.wav", r8, a), writeWAV(t, dir, "b.wav", r8, b)
	lib := NewLibrary(nil)
	// Both decodings still under way.
	var slow []*entry
	for _, path := range []string{pa, pb} {
		st, _ := os.Stat(path)
		e := &entry{ready: make(chan struct{}), size: st.Size(), modTime: st.ModTime()}
		lib.tracks[trackKey{path, r8}] = e
		slow = append(slow, e)
	}
	t0 := time.Now()
	p := NewPlayer(lib, []string{pa, pb}, r8, 1, WithFirstWait(50*time.Millisecond))
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("NewPlayer waited %v", d)
	}
	if !p.Pattern() {
		t.Fatal("nothing decoded, yet no pattern")
	}
	pat := lib.Pattern(r8).Samples
	if i := firstDiff(read(t, p, len(pat)/2, 160), pat[:len(pat)/2]); i >= 0 {
		t.Fatalf("not the pattern (differs at %d)", i)
	}
	for i, s := range [][]int16{a, b} {
		slow[i].t = newTrack("", r8, s)
		close(slow[i].ready)
	}
	// The pattern finishes its phrase, then the music starts where this
	// caller was to start (b), and the pattern does not come back.
	want := slices.Concat(pat[len(pat)/2:], b, a, b)
	if i := firstDiff(read(t, p, len(want), 160), want); i >= 0 {
		t.Fatalf("pattern, then b, a, b: differs at %d", i)
	}
	if p.Pattern() {
		t.Fatal("still reports the pattern")
	}
}

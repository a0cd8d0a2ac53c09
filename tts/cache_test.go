package tts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestCacheRenderOnceAndPersist(t *testing.T) {
	dir := t.TempDir()
	s := &toneSynth{name: "tone"}
	c, err := NewCache(filepath.Join(dir, "sub"), s)
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Text: "welcome", Voice: "v", Rate: 8000}
	a, err := c.Render(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Render(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if s.calls.Load() != 1 || !equal(a.Samples, b.Samples) || len(a.Samples) != 7*80 {
		t.Fatalf("calls %d, %d and %d samples", s.calls.Load(), len(a.Samples), len(b.Samples))
	}
	if _, err := os.Stat(c.Path(req)); err != nil {
		t.Fatalf("not on disk: %v", err)
	}
	// A new process finds it on disk and never synthesizes.
	s2 := &toneSynth{name: "tone"}
	c2, _ := NewCache(filepath.Join(dir, "sub"), s2)
	got, ok := c2.Lookup(req)
	if !ok || !equal(got.Samples, a.Samples) || got.Rate != 8000 {
		t.Fatalf("Lookup from disk: %v (%d samples)", ok, len(got.Samples))
	}
	st, err := c2.Stream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if s2.calls.Load() != 0 {
		t.Fatalf("cached prompt was synthesized %d times", s2.calls.Load())
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(filepath.Join(dir, "sub"))
	if len(ents) != 1 {
		t.Fatalf("cache dir holds %d files", len(ents))
	}
}

func TestCacheKeys(t *testing.T) {
	c, _ := NewCache("", &toneSynth{name: "a"})
	d, _ := NewCache("", &toneSynth{name: "b"})
	base := Request{Text: "hi", Voice: "v", Rate: 8000}
	keys := map[string]string{
		"base":   c.Key(base),
		"engine": d.Key(base),
		"voice":  c.Key(Request{Text: "hi", Voice: "w", Rate: 8000}),
		"rate":   c.Key(Request{Text: "hi", Voice: "v", Rate: 16000}),
		"text":   c.Key(Request{Text: "ho", Voice: "v", Rate: 8000}),
		"shift":  c.Key(Request{Text: "ihi", Voice: "", Rate: 8000}), // no field-boundary ambiguity
	}
	seen := map[string]string{}
	for name, k := range keys {
		if other, dup := seen[k]; dup {
			t.Errorf("%s and %s share a key", name, other)
		}
		seen[k] = name
	}
	if c.Key(base) != c.Key(base) || c.Path(base) != "" {
		t.Error("keys must be stable; memory caches have no path")
	}
}

func TestCachePrepare(t *testing.T) {
	s := &toneSynth{name: "tone"}
	c, _ := NewCache(t.TempDir(), s)
	reqs := []Request{{Text: "one", Rate: 8000}, {Text: "two", Rate: 8000}, {Text: "three", Rate: 8000}, {Text: "one", Rate: 8000}}
	if err := c.Prepare(context.Background(), reqs); err != nil {
		t.Fatal(err)
	}
	if n := s.calls.Load(); n != 3 {
		t.Fatalf("%d syntheses for 3 distinct prompts", n)
	}
	// Reload with one prompt dropped and one failing.
	reload := []Request{{Text: "one", Rate: 8000}, {Text: "", Rate: 8000}}
	if err := c.Prepare(context.Background(), reload); !errors.Is(err, ErrEmptyText) {
		t.Fatalf("Prepare error: %v", err)
	}
	c.Retain(reload)
	if n := c.Len(); n != 1 {
		t.Fatalf("memory holds %d prompts after reload, want 1", n)
	}
	// Dropped prompts stay on disk.
	if _, ok := c.Lookup(Request{Text: "two", Rate: 8000}); !ok {
		t.Fatal("dropped prompt gone from disk")
	}
}

// TestCacheBoundsGeneratedText: prepared prompts stay in memory; generated
// text beyond maxDynamic leaves memory oldest first but stays on disk.
func TestCacheBoundsGeneratedText(t *testing.T) {
	s := &toneSynth{name: "tone"}
	c, _ := NewCache(t.TempDir(), s)
	if err := c.Prepare(context.Background(), []Request{{Text: "welcome", Rate: 8000}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < maxDynamic+100; i++ {
		if _, err := c.Render(context.Background(), Request{Text: fmt.Sprintf("you are number %d", i), Rate: 8000}); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Len(); n != maxDynamic+1 {
		t.Errorf("memory holds %d clips, want %d generated + 1 prepared", n, maxDynamic)
	}
	c.mu.Lock()
	_, first := c.mem[c.Key(Request{Text: "you are number 0", Rate: 8000})]
	_, welcome := c.mem[c.Key(Request{Text: "welcome", Rate: 8000})]
	c.mu.Unlock()
	if first || !welcome {
		t.Errorf("oldest generated clip in memory %v, prepared prompt in memory %v", first, welcome)
	}
	before := s.calls.Load()
	if _, ok := c.Lookup(Request{Text: "you are number 0", Rate: 8000}); !ok || s.calls.Load() != before {
		t.Error("an evicted clip must come back from disk without synthesis")
	}
}

func TestCacheSingleFlight(t *testing.T) {
	s := &toneSynth{name: "tone", delay: 30 * time.Millisecond}
	c, _ := NewCache(t.TempDir(), s)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Render(context.Background(), Request{Text: "same", Rate: 8000}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := s.calls.Load(); n != 1 {
		t.Fatalf("%d syntheses for one prompt", n)
	}
}

func TestCacheSkipsFallbackAudio(t *testing.T) {
	f := &Fallback{Primary: &toneSynth{name: "cloud", err: errors.New("down")}, Secondary: &toneSynth{name: "local"}}
	c, _ := NewCache(t.TempDir(), f)
	req := Request{Text: "hello", Rate: 8000}
	clip, err := c.Render(context.Background(), req)
	if err != nil || len(clip.Samples) == 0 {
		t.Fatalf("Render: %v", err)
	}
	if _, ok := c.Lookup(req); ok {
		t.Fatal("fallback audio was cached under the primary voice")
	}
}

func TestCacheCorruptFileRerenders(t *testing.T) {
	s := &toneSynth{name: "tone"}
	c, _ := NewCache(t.TempDir(), s)
	req := Request{Text: "hello", Rate: 8000}
	if err := os.WriteFile(c.Path(req), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Lookup(req); ok {
		t.Fatal("garbage file counted as a hit")
	}
	if _, err := c.Render(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	c2, _ := NewCache(filepath.Dir(c.Path(req)), s)
	if _, ok := c2.Lookup(req); !ok {
		t.Fatal("re-render did not replace the bad file")
	}
}

func TestCacheStreamsDynamicText(t *testing.T) {
	s := &toneSynth{name: "tone"}
	c, _ := NewCache(t.TempDir(), s)
	req := Request{Text: "balance 12", Rate: 8000}
	st, err := c.Stream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAll(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Lookup(req); ok {
		t.Fatal("dynamic text was stored")
	}
	if _, err := c.Stream(context.Background(), Request{}); !errors.Is(err, ErrEmptyText) {
		t.Fatalf("empty: %v", err)
	}
}

// BenchmarkCachedFirstAudio is the time from asking for a cached prompt to
// holding its first 20 ms frame: from memory, and from disk (a prompt
// rendered by an earlier process).
func BenchmarkCachedFirstAudio(b *testing.B) {
	dir := b.TempDir()
	s := &toneSynth{name: "tone"}
	c, _ := NewCache(dir, s)
	req := Request{Text: "Thank you for calling. Please say what you are calling about, or say agent.", Rate: 8000}
	if _, err := c.Render(context.Background(), req); err != nil {
		b.Fatal(err)
	}
	frame := make([]int16, 160)
	first := func(b *testing.B, c *Cache) {
		st, err := c.Stream(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := st.ReadPCM(frame); n != 160 || err != nil {
			b.Fatalf("first frame: %d, %v", n, err)
		}
		st.Close()
	}
	b.Run("memory", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			first(b, c)
		}
	})
	b.Run("disk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c2, _ := NewCache(dir, s)
			first(b, c2)
		}
	})
}

// TestCacheSpeakKeepsCallerTextOffDisk: text a call generates (a caller's
// number read back) is synthesized once, replayed from memory, and never
// written to the cache directory; configured prompts still are.
func TestCacheSpeakKeepsCallerTextOffDisk(t *testing.T) {
	s := &toneSynth{name: "tone"}
	dir := t.TempDir()
	c, _ := NewCache(dir, s)
	req := Request{Text: "we will call you back on 5 5 5 0 1 2 3", Rate: 8000}
	for i := 0; i < 2; i++ {
		if clip, err := c.Speak(context.Background(), req); err != nil || len(clip.Samples) == 0 {
			t.Fatalf("speak: %v, %d samples", err, len(clip.Samples))
		}
	}
	if n := s.calls.Load(); n != 1 {
		t.Errorf("synthesized %d times, want once (then from memory)", n)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.wav")); len(files) != 0 {
		t.Errorf("generated caller text written to disk: %v", files)
	}
	if _, err := c.Render(context.Background(), Request{Text: "welcome", Rate: 8000}); err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.wav")); len(files) != 1 {
		t.Errorf("a configured prompt should be on disk: %v", files)
	}
}

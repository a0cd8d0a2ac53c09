// Package anntts measures what a queue's position announcements cost the
// speech synthesizer, through the same path as `ivr serve`: say-as
// expansion, the prompt cache (tts.Cache, on disk in a data directory)
// and the embedded engine (flite/kal16, the default voice), at 8 kHz.
// Each waiting caller's announcement is synthesized for that caller
// (dialog.queueAnnounce calls prompt.Set.Say), and its text differs by
// position, so the first round of a full queue synthesizes one sentence
// per caller; the tests check that the cache makes the later rounds free.
//
//	nice -n 10 go test -run . -bench . -benchtime 200x ./bench/load/anntts
package anntts

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/tts"
	"github.com/openivr/ivr/tts/embedded"
	"github.com/openivr/ivr/tts/sayas"
)

// voice is the default voice of a line (config.TTS.Voice's default).
const voice = "flite/kal16"

// counting counts the syntheses that reach the engine.
type counting struct {
	tts.Synthesizer
	n atomic.Int64
}

func (c *counting) Synthesize(ctx context.Context, req tts.Request) (tts.Stream, error) {
	c.n.Add(1)
	return c.Synthesizer.Synthesize(ctx, req)
}

func newCache(t testing.TB) (*tts.Cache, *counting) {
	t.Helper()
	e := embedded.New()
	e.Voice = voice
	if err := e.Warm(voice); err != nil {
		t.Logf("voice not warmed (program path): %v", err)
	}
	c := &counting{Synthesizer: e}
	cache, err := tts.NewCache(t.TempDir(), c)
	if err != nil {
		t.Fatal(err)
	}
	return cache, c
}

// text is dialog's announcement with no agent signed in (no expected
// wait): textQueuePosition / textQueueNext.
func text(pos int) string {
	if pos == 1 {
		return "You are next in the queue."
	}
	return fmt.Sprintf("You are number %d in the queue.", pos)
}

// say is cmd/ivr's voice.Render: say-as expansion, then the cache.
func say(ctx context.Context, c *tts.Cache, s string) (audio.Clip, error) {
	plain, err := sayas.Expand(s)
	if err != nil {
		return audio.Clip{}, err
	}
	return c.Render(ctx, tts.Request{Text: plain, Voice: voice, Rate: audio.Rate8k})
}

// TestRoundsSynthesizeOncePerPosition: 60 callers, three rounds of
// announcements, eight goroutines at once as in a queue whose callers
// joined together; only the first round synthesizes.
func TestRoundsSynthesizeOncePerPosition(t *testing.T) {
	cache, c := newCache(t)
	ctx := context.Background()
	const callers, rounds = 60, 3
	sizes := map[int]int{}
	for round := 0; round < rounds; round++ {
		var wg sync.WaitGroup
		var mu sync.Mutex
		sem := make(chan struct{}, 8)
		for pos := 1; pos <= callers; pos++ {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				clip, err := say(ctx, cache, text(pos))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if len(clip.Samples) == 0 || clip.Rate != audio.Rate8k {
					t.Errorf("position %d: %d samples at %d Hz", pos, len(clip.Samples), clip.Rate)
				}
				if round > 0 && sizes[pos] != len(clip.Samples) {
					t.Errorf("position %d: round %d gave %d samples, round 0 %d", pos, round, len(clip.Samples), sizes[pos])
				}
				sizes[pos] = len(clip.Samples)
			}()
		}
		wg.Wait()
		if got := c.n.Load(); got != callers {
			t.Fatalf("after round %d: %d syntheses, want %d (one per position)", round, got, callers)
		}
	}
}

// TestSameTextAtOnceSynthesizesOnce: callers asking for one text at the
// same moment share one synthesis.
func TestSameTextAtOnceSynthesizesOnce(t *testing.T) {
	cache, c := newCache(t)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := say(context.Background(), cache, text(7)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := c.n.Load(); got != 1 {
		t.Fatalf("%d syntheses of one text asked 20 times at once, want 1", got)
	}
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAnnouncementFirst is one caller's first announcement: a
// position nobody had before, synthesized and written to the cache.
// cpu-ms/op is the process's CPU (flite is linked in; the program path
// runs flite as a child, whose CPU is not counted), samples/op the
// clip's length at 8 kHz (2 bytes each, kept in memory by the cache).
func BenchmarkAnnouncementFirst(b *testing.B) {
	cache, _ := newCache(b)
	ctx := context.Background()
	var samples int
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuNow()
	for i := range b.N {
		clip, err := say(ctx, cache, text(i+2))
		if err != nil {
			b.Fatal(err)
		}
		samples += len(clip.Samples)
	}
	b.ReportMetric(float64(cpuNow()-cpu)/1e6/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(samples)/float64(b.N), "samples/op")
}

// BenchmarkAnnouncementCached is a later announcement of a position
// already said (500 positions in the cache).
func BenchmarkAnnouncementCached(b *testing.B) {
	cache, c := newCache(b)
	ctx := context.Background()
	const positions = 500
	for pos := 1; pos <= positions; pos++ {
		if _, err := say(ctx, cache, text(pos)); err != nil {
			b.Fatal(err)
		}
	}
	before := c.n.Load()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuNow()
	for i := range b.N {
		if _, err := say(ctx, cache, text(i%positions+1)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuNow()-cpu)/1e3/float64(b.N), "cpu-us/op")
	if n := c.n.Load() - before; n != 0 {
		b.Fatalf("%d syntheses of cached texts", n)
	}
}

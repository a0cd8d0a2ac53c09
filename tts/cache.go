package tts

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/openivr/ivr/audio"
)

// Cache renders prompts once and keeps the audio in memory and on disk,
// keyed by engine, voice, rate and text, so a static prompt plays with no
// synthesis delay, also after a restart. Dynamic text should go through
// Stream, which plays cached audio when there is some and streams fresh
// synthesis otherwise, without storing it.
//
// A Cache is safe for concurrent use.
type Cache struct {
	dir string // "" keeps audio in memory only
	s   Synthesizer

	mu       sync.Mutex
	mem      map[string]audio.Clip    // key -> clip, at the request's rate
	inflight map[string]*renderResult // key -> render under way
	// pinned are the prepared (static) prompts, always in memory; the
	// other clips (generated text: announcements, confirmations) are
	// kept in memory up to maxDynamic, oldest out first (they stay on
	// disk), so a long-running server does not grow without bound.
	pinned  map[string]bool
	dynamic []string
}

// maxDynamic bounds the generated clips kept in memory: about 18 MB at
// 8 kHz (2 s each), twice that at 16 kHz.
const maxDynamic = 512

type renderResult struct {
	done chan struct{}
	clip audio.Clip
	err  error
}

// NewCache returns a cache in dir (created if missing) in front of s. An
// empty dir keeps audio in memory only.
func NewCache(dir string, s Synthesizer) (*Cache, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("tts cache: %w", err)
		}
	}
	return &Cache{dir: dir, s: s, mem: map[string]audio.Clip{}, inflight: map[string]*renderResult{}, pinned: map[string]bool{}}, nil
}

// Synthesizer is the engine behind the cache.
func (c *Cache) Synthesizer() Synthesizer { return c.s }

// Key is the cache key of req: a hex SHA-256 of the engine name, voice,
// rate and text.
func (c *Cache) Key(req Request) string {
	h := sha256.New()
	for _, f := range []string{c.s.Name(), req.Voice, strconv.Itoa(req.Rate), req.Text} {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Path is the file that holds req's audio on disk, or "" for a memory-only
// cache.
func (c *Cache) Path(req Request) string {
	if c.dir == "" {
		return ""
	}
	return filepath.Join(c.dir, c.Key(req)+".wav")
}

// Lookup returns req's audio if it was rendered before, from memory or from
// disk, without synthesizing.
func (c *Cache) Lookup(req Request) (audio.Clip, bool) {
	key := c.Key(req)
	c.mu.Lock()
	clip, ok := c.mem[key]
	c.mu.Unlock()
	if ok {
		return clip, true
	}
	clip, ok = c.load(key, req)
	if ok {
		c.mu.Lock()
		c.rememberLocked(key, clip)
		c.mu.Unlock()
	}
	return clip, ok
}

// rememberLocked keeps clip in memory: for good when pinned, else among
// the newest maxDynamic generated clips.
func (c *Cache) rememberLocked(key string, clip audio.Clip) {
	if _, ok := c.mem[key]; !ok && !c.pinned[key] {
		c.dynamic = append(c.dynamic, key)
		for len(c.dynamic) > maxDynamic {
			old := c.dynamic[0]
			c.dynamic = c.dynamic[1:]
			if !c.pinned[old] {
				delete(c.mem, old)
			}
		}
	}
	c.mem[key] = clip
}

func (c *Cache) load(key string, req Request) (audio.Clip, bool) {
	if c.dir == "" {
		return audio.Clip{}, false
	}
	clip, err := readClip(filepath.Join(c.dir, key+".wav"))
	if err != nil || len(clip.Samples) == 0 || (req.Rate > 0 && clip.Rate != req.Rate) {
		return audio.Clip{}, false // a miss: render again and overwrite
	}
	return clip, true
}

// readClip reads a WAV file the cache wrote; it is several times faster
// than audio.ReadWAVFile, which matters when a restart loads every prompt.
func readClip(path string) (audio.Clip, error) {
	f, err := os.Open(path)
	if err != nil {
		return audio.Clip{}, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	h, err := ReadWAVHeader(r)
	if err != nil {
		return audio.Clip{}, err
	}
	var data []byte
	if st, err := f.Stat(); err != nil || h.DataSize > st.Size() {
		h.DataSize = -1 // a lying header: read what is there
	}
	if h.DataSize >= 0 {
		data = make([]byte, h.DataSize)
		n, err := io.ReadFull(r, data)
		if err != nil && err != io.ErrUnexpectedEOF {
			return audio.Clip{}, err
		}
		data = data[:n]
	} else if data, err = io.ReadAll(r); err != nil {
		return audio.Clip{}, err
	}
	frame := h.Channels * h.Bits / 8
	pcm := decodeFrames(make([]int16, 0, len(data)/frame), data, h)
	return audio.Clip{Rate: h.Rate, Samples: pcm}, nil
}

// Render returns req's audio, synthesizing and storing it on a miss.
// Concurrent renders of one request synthesize once. Audio from a fallback
// engine is returned but not stored, so the intended voice is tried again
// next time.
func (c *Cache) Render(ctx context.Context, req Request) (audio.Clip, error) {
	return c.render1(ctx, req, true)
}

// Speak is Render for text a call generates (confirmations, read-backs,
// answers from a backend): such text can carry a caller's number, account
// or balance, so its audio is kept only among the newest generated clips
// in memory and never written to disk. Audio rendered before (a configured
// prompt with the same words) is used as Render would.
func (c *Cache) Speak(ctx context.Context, req Request) (audio.Clip, error) {
	return c.render1(ctx, req, false)
}

func (c *Cache) render1(ctx context.Context, req Request, disk bool) (audio.Clip, error) {
	if req.Text == "" {
		return audio.Clip{}, ErrEmptyText
	}
	if clip, ok := c.Lookup(req); ok {
		return clip, nil
	}
	key := c.Key(req)
	c.mu.Lock()
	if r, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		select {
		case <-r.done:
			return r.clip, r.err
		case <-ctx.Done():
			return audio.Clip{}, ctx.Err()
		}
	}
	r := &renderResult{done: make(chan struct{})}
	c.inflight[key] = r
	c.mu.Unlock()

	r.clip, r.err = c.render(ctx, key, req, disk)
	c.mu.Lock()
	delete(c.inflight, key)
	c.mu.Unlock()
	close(r.done)
	return r.clip, r.err
}

func (c *Cache) render(ctx context.Context, key string, req Request, disk bool) (audio.Clip, error) {
	st, err := c.s.Synthesize(ctx, req)
	if err != nil {
		return audio.Clip{}, fmt.Errorf("tts cache: %s: %w", c.s.Name(), err)
	}
	clip, err := ReadAll(ctx, st)
	if err != nil {
		return audio.Clip{}, fmt.Errorf("tts cache: %s: %w", c.s.Name(), err)
	}
	if Degraded(st) {
		return clip, nil
	}
	if disk {
		if err := c.store(key, clip); err != nil {
			return clip, err
		}
	}
	c.mu.Lock()
	c.rememberLocked(key, clip)
	c.mu.Unlock()
	return clip, nil
}

// store writes clip to disk atomically: a reader never sees half a file.
func (c *Cache) store(key string, clip audio.Clip) error {
	if c.dir == "" {
		return nil
	}
	f, err := os.CreateTemp(c.dir, ".render-*.wav")
	if err != nil {
		return fmt.Errorf("tts cache: %w", err)
	}
	tmp := f.Name()
	if err := audio.WriteWAV(f, clip); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("tts cache: write %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("tts cache: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, key+".wav")); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("tts cache: %w", err)
	}
	return nil
}

// Prepare renders every request (at config load and reload) so they play
// from the cache. All failures are returned together; the prompts that
// rendered are kept.
func (c *Cache) Prepare(ctx context.Context, reqs []Request) error {
	c.mu.Lock()
	for _, req := range reqs {
		c.pinned[c.Key(req)] = true
	}
	c.mu.Unlock()
	workers := min(runtime.GOMAXPROCS(0), 4)
	jobs := make(chan int)
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if _, err := c.Render(ctx, reqs[i]); err != nil {
					errs[i] = fmt.Errorf("prompt %q: %w", reqs[i].Text, err)
				}
			}
		}()
	}
	for i := range reqs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return errors.Join(errs...)
}

// Retain keeps in memory only the audio of reqs (every static prompt of
// every line, after a reload); the rest stays on disk and loads again on
// use.
func (c *Cache) Retain(reqs []Request) {
	keep := make(map[string]bool, len(reqs))
	for _, req := range reqs {
		keep[c.Key(req)] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.mem {
		if !keep[k] {
			delete(c.mem, k)
		}
	}
	c.pinned = keep
	c.dynamic = nil
}

// Len is how many prompts the cache holds in memory.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.mem)
}

// Stream plays req from the cache when it was rendered before, and
// otherwise streams fresh synthesis (not stored: dynamic text rarely
// repeats).
func (c *Cache) Stream(ctx context.Context, req Request) (Stream, error) {
	if req.Text == "" {
		return nil, ErrEmptyText
	}
	if clip, ok := c.Lookup(req); ok {
		return ClipStream(clip), nil
	}
	return c.s.Synthesize(ctx, req)
}

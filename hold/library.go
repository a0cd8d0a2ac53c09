// Package hold plays music on hold to callers waiting in a queue, with
// announcements (position and wait, an override message) slipped in at
// natural breaks in the music: the end of a track, or a quiet moment the
// music fades out into. The music never stops as if someone answered.
//
// A Library decodes each music file once per process and sample rate; the
// Players of many calls share its samples read-only, so a call costs about
// a kilobyte and a frame a few tens of nanoseconds. A queue node makes one
// Player per waiting call at the call's media rate, hands it to the media
// clock (it is an audio.Source), queues announcements with Announce as
// they come due (each waits for its break; the returned channel says when
// it has played), and calls Stop when the caller leaves the queue.
package hold

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/openivr/ivr/audio"
)

// ErrEmpty reports a music file with no samples (after its leading and
// trailing silence is trimmed).
var ErrEmpty = errors.New("no audio")

// Track is one decoded piece of music at a player's rate. It is shared by
// every Player that plays it and must not be modified.
type Track struct {
	Path    string  // the file, or "" for the generated pattern
	Rate    int     // Hz
	Samples []int16 // mono, leading and trailing silence trimmed to at most keepSilence

	// env is the mean square level of each block of envBlock samples,
	// for finding quiet moments without touching the samples again.
	env      []float32
	envBlock int // samples per env entry (10 ms)
}

// Duration is the playing time of the track.
func (t *Track) Duration() time.Duration {
	return time.Duration(len(t.Samples)) * time.Second / time.Duration(t.Rate)
}

// Library decodes music files and keeps them, one copy per (file, rate),
// for the life of the process. A file that changes on disk (size or
// modification time) is decoded again on its next use; players already
// playing the old copy keep it. Safe for concurrent use.
type Library struct {
	log *slog.Logger

	mu      sync.Mutex
	tracks  map[trackKey]*entry
	pattern map[int]*Track // generated fallback, by rate
	queue   []job          // decodings not started, in order
	working bool           // a worker goroutine is draining queue
}

type trackKey struct {
	path string
	rate int
}

// entry is one file's decoding: ready closes when t or err is set. The
// result is kept with the file's size and time, so a broken file is not
// decoded again for every call, and a fixed or replaced one is.
type entry struct {
	ready   chan struct{}
	size    int64
	modTime time.Time
	t       *Track
	err     error
}

// NewLibrary returns an empty library; log receives one warning per
// unusable file (nil discards them).
func NewLibrary(log *slog.Logger) *Library {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Library{log: log, tracks: map[trackKey]*entry{}, pattern: map[int]*Track{}}
}

// Load returns the file at path decoded at rate (Hz), resampled if the
// file's own rate differs, decoding it only if no current copy is kept.
// Concurrent loads of one file wait for a single decoding.
func (l *Library) Load(path string, rate int) (*Track, error) {
	e, err := l.entry(path, rate)
	if err != nil {
		return nil, err
	}
	<-e.ready
	return e.t, e.err
}

// entry returns the decoding of path at rate, starting it in the
// background if no current one is kept. Only the stat is done here.
func (l *Library) entry(path string, rate int) (*entry, error) {
	if rate < minRate || rate > maxRate {
		return nil, fmt.Errorf("hold: rate %d Hz (want %d-%d)", rate, minRate, maxRate)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err // not cached: a missing file costs a stat
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a directory", path)
	}
	k := trackKey{path, rate}
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.tracks[k]
	if e == nil || e.size != st.Size() || !e.modTime.Equal(st.ModTime()) {
		e = &entry{ready: make(chan struct{}), size: st.Size(), modTime: st.ModTime()}
		l.tracks[k] = e
		l.queue = append(l.queue, job{e, path, rate})
		if !l.working {
			l.working = true
			go l.work()
		}
	}
	return e, nil
}

// job is a decoding waiting for the library's worker.
type job struct {
	e    *entry
	path string
	rate int
}

// work decodes queued files one at a time, in the order asked for, and
// ends when the queue is empty. One at a time: decoding is CPU work that
// live calls share a machine with, and a five-minute file takes tens of
// megabytes while it decodes.
func (l *Library) work() {
	for {
		l.mu.Lock()
		if len(l.queue) == 0 {
			l.working = false
			l.queue = nil
			l.mu.Unlock()
			return
		}
		j := l.queue[0]
		l.queue = l.queue[1:]
		l.mu.Unlock()
		j.e.t, j.e.err = decode(j.path, j.rate)
		if j.e.err != nil {
			l.log.Warn("music on hold: file skipped", "file", j.path, "err", j.e.err)
		}
		close(j.e.ready)
	}
}

// done reports without waiting whether the decoding has finished.
func (e *entry) done() bool {
	select {
	case <-e.ready:
		return true
	default:
		return false
	}
}

// Tracks loads each of paths at rate (decoding them in parallel) and
// returns the usable ones, in order, and one error per file that is not
// (each error names its file).
func (l *Library) Tracks(paths []string, rate int) ([]*Track, []error) {
	var ts []*Track
	var errs []error
	es := make([]*entry, len(paths))
	for i, p := range paths {
		e, err := l.entry(p, rate)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		es[i] = e
	}
	for _, e := range es {
		if e == nil {
			continue
		}
		<-e.ready
		if e.err != nil {
			errs = append(errs, e.err)
			continue
		}
		ts = append(ts, e.t)
	}
	return ts, errs
}

// Preload decodes paths at rate ahead of the first call, so it does not
// wait for the decoding; see Tracks.
func (l *Library) Preload(paths []string, rate int) []error {
	_, errs := l.Tracks(paths, rate)
	return errs
}

// Pattern is the generated music played when a queue has no usable file,
// at rate; made once per rate.
func (l *Library) Pattern(rate int) *Track {
	rate = max(minRate, min(maxRate, rate))
	l.mu.Lock()
	t := l.pattern[rate]
	l.mu.Unlock()
	if t != nil {
		return t
	}
	t = newTrack("", rate, pattern(rate)) // tens of ms: not under the lock
	l.mu.Lock()
	defer l.mu.Unlock()
	if old := l.pattern[rate]; old != nil {
		return old // made meanwhile by another call: share that one
	}
	l.pattern[rate] = t
	return t
}

func decode(path string, rate int) (*Track, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := decodeBytes(b, rate)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.Path = path
	return t, nil
}

// decodeBytes decodes a WAV file's bytes into a track at rate. A decoder
// panic on a malformed file is an error: a broken file must not take the
// server down.
func decodeBytes(b []byte, rate int) (t *Track, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("%w: decoder failed: %v", audio.ErrNotWAV, r)
		}
	}()
	if err := checkChunks(b); err != nil {
		return nil, err
	}
	c, err := audio.ReadWAV(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if c.Rate < minRate || c.Rate > maxRate {
		// A resampler between a wild rate and ours would be enormous.
		return nil, fmt.Errorf("%w: sample rate %d Hz (want %d-%d)", audio.ErrNotWAV, c.Rate, minRate, maxRate)
	}
	s := c.Samples
	if c.Rate != rate {
		s = resample(s, c.Rate, rate)
	}
	s = trimQuiet(s, rate)
	if len(s) < rate/10 {
		return nil, ErrEmpty
	}
	return newTrack("", rate, s), nil
}

// checkChunks walks the RIFF chunks of a WAV file and refuses one that
// claims more bytes than the file has, before the WAV decoder believes
// it: a 44-byte file whose fmt chunk claims 2 GB makes the decoder
// allocate that much. The data chunk may claim more (writers that stream
// leave its size at the maximum).
func checkChunks(b []byte) error {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return audio.ErrNotWAV
	}
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int64(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		if id == "data" {
			return nil
		}
		if size > int64(len(b)-off-8) {
			return fmt.Errorf("%w: %q chunk claims %d bytes, the file has %d after it", audio.ErrNotWAV, id, size, len(b)-off-8)
		}
		off += 8 + int(size) + int(size&1) // chunks are padded to even sizes
	}
	return fmt.Errorf("%w: no data chunk", audio.ErrNotWAV)
}

// resample converts a whole track as audio.Resample does, but in 20 ms
// steps, so the filter's working memory stays small for long files.
func resample(in []int16, from, to int) []int16 {
	r := audio.NewResampler(from, to)
	want := int(int64(len(in)) * int64(to) / int64(from))
	out := make([]int16, 0, want+to/50)
	step := max(1, from/50)
	for i := 0; i < len(in); i += step {
		out = r.Process(out, in[i:min(len(in), i+step)])
	}
	out = r.Flush(out)
	return out[:min(len(out), want)]
}

// The sample rates accepted, of files, announcements and players.
const (
	minRate = 4000
	maxRate = 192000
)

// Silence trimming: music files often open or close on seconds of silence
// or of a fade's last whisper, which in a loop sounds like the line went
// dead.
const (
	quietRMS     = 30                    // a 10 ms block below this RMS is silence (about -61 dBFS)
	silenceLevel = 64                    // a clip's sample below this is silence (about -54 dBFS)
	keepSilence  = 50 * time.Millisecond // of silence kept at each end
)

// trimQuiet removes a track's leading and trailing silence (10 ms blocks
// below quietRMS) beyond keepSilence, and fades the kept margin of a cut
// end to zero so the cut adds no click. It changes s in place.
func trimQuiet(s []int16, rate int) []int16 {
	B := max(1, rate/100)
	quiet := func(i, j int) bool { // the block s[i:j]
		var sum float64
		for _, v := range s[i:j] {
			sum += float64(v) * float64(v)
		}
		return sum < quietRMS*quietRMS*float64(j-i)
	}
	lo := 0 // blocks from the start
	for lo < len(s) && quiet(lo, min(len(s), lo+B)) {
		lo += B
	}
	if lo >= len(s) {
		return nil
	}
	hi := len(s) // blocks from the end
	for hi-B > lo && quiet(hi-B, hi) {
		hi -= B
	}
	keep := int(int64(rate) * int64(keepSilence) / int64(time.Second))
	if lo > 0 {
		lo = max(0, lo-keep)
		for i := 0; i < keep && lo+i < len(s); i++ {
			s[lo+i] = int16(int32(s[lo+i]) * ramp(i, keep) >> 15)
		}
	}
	if hi < len(s) {
		hi = min(len(s), hi+keep)
		for i := 0; i < keep && hi-1-i >= 0; i++ {
			s[hi-1-i] = int16(int32(s[hi-1-i]) * ramp(i, keep) >> 15)
		}
	}
	return s[lo:hi]
}

// trimSilence removes an announcement's leading and trailing silence
// (samples below silenceLevel) beyond keepSilence. The cut falls where the
// signal is already near zero, so it adds no click; s is not changed.
func trimSilence(s []int16, rate int) []int16 {
	keep := int(int64(rate) * int64(keepSilence) / int64(time.Second))
	lo, hi := 0, len(s)
	for lo < hi && abs16(s[lo]) < silenceLevel {
		lo++
	}
	for hi > lo && abs16(s[hi-1]) < silenceLevel {
		hi--
	}
	if lo == hi {
		return nil
	}
	return s[max(0, lo-keep):min(len(s), hi+keep)]
}

func abs16(v int16) int32 {
	if v < 0 {
		return -int32(v)
	}
	return int32(v)
}

func newTrack(path string, rate int, s []int16) *Track {
	t := &Track{Path: path, Rate: rate, Samples: s, envBlock: max(1, rate/100)}
	t.env = make([]float32, (len(s)+t.envBlock-1)/t.envBlock)
	for i := range t.env {
		blk := s[i*t.envBlock : min(len(s), (i+1)*t.envBlock)]
		var sum float64
		for _, v := range blk {
			sum += float64(v) * float64(v)
		}
		t.env[i] = float32(sum / float64(len(blk)))
	}
	return t
}

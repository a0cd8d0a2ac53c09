package hold

import (
	"io"
	"slices"
	"sync"
	"time"

	"github.com/openivr/ivr/audio"
)

// Mode says how soon an announcement must interrupt the music.
type Mode int

const (
	// AtBreak waits for the end of the track when it comes within the
	// lookahead (8 s by default), else fades the music out at the
	// quietest moment within the lookahead. For position and wait.
	AtBreak Mode = iota
	// Urgent takes the quietest moment within UrgentWithin (2 s by
	// default), or the end of the track if that comes first. For an
	// override (emergency) message. It plays before waiting AtBreak
	// announcements, but never cuts one that has started.
	Urgent
)

// Defaults of the Options.
const (
	DefaultLookahead    = 8 * time.Second
	DefaultUrgentWithin = 2 * time.Second
	DefaultFadeOut      = 300 * time.Millisecond
	DefaultFadeIn       = 500 * time.Millisecond
	DefaultPauseBefore  = 150 * time.Millisecond
	DefaultPauseAfter   = 500 * time.Millisecond
	DefaultMinMusic     = 3 * time.Second
	DefaultFirstWait    = time.Second
)

// Option changes a Player's timing.
type Option func(*Player)

// WithLookahead sets how far ahead an AtBreak announcement looks for the
// end of the track or a quiet moment; it plays within this time.
func WithLookahead(d time.Duration) Option {
	return func(p *Player) { p.lookahead = p.samples(d) }
}

// WithMinMusic sets how much music plays after a break before an AtBreak
// announcement may take the next one (not counting the end of a track,
// always a natural break). Urgent announcements do not wait for it.
func WithMinMusic(d time.Duration) Option {
	return func(p *Player) { p.minMusic = p.samples(d) }
}

// WithFirstWait sets how long NewPlayer waits for the first file to be
// decoded before it starts on the generated pattern (the music takes over
// at the end of the pattern's phrase once a file is ready).
func WithFirstWait(d time.Duration) Option {
	return func(p *Player) { p.firstWait = max(0, d) }
}

// WithUrgentWithin sets how far ahead an Urgent announcement looks.
func WithUrgentWithin(d time.Duration) Option {
	return func(p *Player) { p.urgent = p.samples(d) }
}

// WithFades sets how long the music takes to fade out before an
// announcement (at a quiet moment, not at a track end) and to fade back in
// after it.
func WithFades(out, in time.Duration) Option {
	return func(p *Player) { p.fadeOut, p.fadeIn = p.samples(out), p.samples(in) }
}

// WithPauses sets the silences before an announcement and after it (also
// between two announcements of one break). Keep them short: a long silence
// sounds like a dropped call.
func WithPauses(before, after time.Duration) Option {
	return func(p *Player) { p.pauseBefore, p.pauseAfter = p.samples(before), p.samples(after) }
}

type phase uint8

const (
	phMusic  phase = iota // the music plays (fading in or out)
	phBefore              // silence before an announcement
	phClip                // an announcement plays
	phAfter               // silence after an announcement
)

// Player is the music of one waiting call: an audio.Source that plays
// tracks in order, looping forever, and announcements at natural breaks.
// ReadPCM (the media clock), Announce and Stop (the call) may be called
// from different goroutines.
type Player struct {
	rate int
	// Timing, in samples at rate; set by options, then fixed.
	lookahead, urgent       int
	minMusic                int
	fadeOut, fadeIn         int
	pauseBefore, pauseAfter int

	firstWait time.Duration
	firstSlot int // the slot the player was to start with

	mu sync.Mutex
	// Guarded by mu:
	slots    []slot // the tracks, in playing order
	skipped  []error
	ti, pos  int // current track and sample position in it
	ph       phase
	brk      int  // sample of tracks[ti] where the music stops for the queue; -1 none
	resume   bool // the music resumes mid-track after the break: fade it in
	fadeLeft int  // samples of fade-in still to play
	gap      int  // samples of silence left in phBefore or phAfter
	queue    []*pending
	cur      *pending // playing in phClip
	clipPos  int
	heard    int // samples of music since the last break
	stopped  bool
	breaks   int // breaks taken, for tests and logs
}

type pending struct {
	samples []int16
	urgent  bool
	done    chan struct{}
}

// NewPlayer returns a player of tracks (WAV files, loaded through lib) at
// rate (Hz; 8 kHz if outside 4-192 kHz), starting with tracks[start mod len(tracks)], so callers who
// join together do not all hear the same opening. It waits only for the
// first usable track to be decoded, and at most a second (WithFirstWait):
// after that it starts on the generated pattern. Library.Preload at
// start-up avoids the wait. The other files decode in the background and
// join the rotation when ready. Files that cannot be used are skipped (see
// Skipped); with none usable it plays the library's generated pattern,
// never silence.
func NewPlayer(lib *Library, tracks []string, rate int, start int, opts ...Option) *Player {
	if rate < minRate || rate > maxRate {
		rate = audio.Rate8k
	}
	p := &Player{rate: rate, brk: -1}
	p.lookahead = p.samples(DefaultLookahead)
	p.urgent = p.samples(DefaultUrgentWithin)
	p.minMusic = p.samples(DefaultMinMusic)
	p.fadeOut, p.fadeIn = p.samples(DefaultFadeOut), p.samples(DefaultFadeIn)
	p.pauseBefore, p.pauseAfter = p.samples(DefaultPauseBefore), p.samples(DefaultPauseAfter)
	p.firstWait = DefaultFirstWait
	for _, o := range opts {
		o(p)
	}
	p.heard = p.minMusic // no break yet to keep apart from
	if n := len(tracks); n > 0 {
		first := start % n
		if first < 0 {
			first += n
		}
		// Ask for the first track first: the library decodes in order.
		es := make([]*entry, n)
		for i := range n {
			j := (first + i) % n
			e, err := lib.entry(tracks[j], rate)
			if err != nil {
				p.skipped = append(p.skipped, err)
				continue
			}
			es[j] = e
		}
		firstSlot := 0
		for j, e := range es {
			if e == nil {
				continue
			}
			if j < first {
				firstSlot++
			}
			p.slots = append(p.slots, slot{e: e})
		}
		// Wait for the first track that decodes (a broken one is
		// skipped), but not for long: the caller hears the pattern
		// until one is ready.
		p.firstSlot = firstSlot
		timer := time.NewTimer(p.firstWait)
		defer timer.Stop()
	wait:
		for i := range p.slots {
			j := (firstSlot + i) % len(p.slots)
			select {
			case <-p.slots[j].e.ready:
			case <-timer.C:
				break wait
			}
			if p.resolveLocked(j) {
				p.ti = j
				return p
			}
		}
		if p.usableLocked() {
			p.slots = append(p.slots, slot{t: lib.Pattern(rate), fill: true})
			p.ti = len(p.slots) - 1
			return p
		}
	}
	p.slots = []slot{{t: lib.Pattern(rate), fill: true}}
	return p
}

// usableLocked reports whether some track may still play: decoded, or
// still decoding.
func (p *Player) usableLocked() bool {
	for j, sl := range p.slots {
		if !sl.fill && (sl.t != nil || !sl.dead && (!sl.e.done() || p.resolveLocked(j))) {
			return true
		}
	}
	return false
}

// slot is one of a player's tracks: its decoding, and once that has
// finished, the track or the verdict that it is unusable. A fill slot
// holds the generated pattern, played while no file is ready.
type slot struct {
	e    *entry
	t    *Track
	dead bool
	fill bool
}

// resolveLocked reports whether slot j is ready to play, taking its
// decoding's result if it has just finished. It never waits.
func (p *Player) resolveLocked(j int) bool {
	sl := &p.slots[j]
	if sl.t != nil || sl.dead {
		return sl.t != nil
	}
	if !sl.e.done() {
		return false
	}
	if sl.e.err != nil {
		sl.dead = true
		p.skipped = append(p.skipped, sl.e.err)
		return false
	}
	sl.t = sl.e.t
	return true
}

// advanceLocked moves to the next track that is ready, or plays the
// current one again if no other is. The pattern is left for the first
// file ready (from the one the player was to start with), never
// returned to.
func (p *Player) advanceLocked() {
	p.pos = 0
	from := p.ti + 1
	if p.slots[p.ti].fill {
		from = p.firstSlot
	}
	for i := range len(p.slots) {
		j := (from + i) % len(p.slots)
		if j == p.ti && i > 0 || p.slots[j].fill {
			continue
		}
		if p.resolveLocked(j) {
			p.ti = j
			return
		}
	}
}

func (p *Player) samples(d time.Duration) int {
	return max(0, int(int64(p.rate)*int64(d)/int64(time.Second)))
}

// Rate is the player's sample rate.
func (p *Player) Rate() int { return p.rate }

// Skipped lists the files found unusable so far, one error each.
func (p *Player) Skipped() []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.skipped)
}

// Pattern reports whether the player is playing the generated pattern: no
// file was usable, or none had been decoded yet.
func (p *Player) Pattern() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.slots[p.ti].fill
}

// Pending is how many announcements are queued or playing: a periodic
// announcement that would only repeat a waiting one can be left out.
func (p *Player) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.queue)
	if p.cur != nil {
		n++
	}
	return n
}

// Announce queues clip to play at the next natural break (see Mode); the
// music then resumes where it paused. Clips at another rate are resampled
// (here, in the caller's goroutine; a clip of no rate is taken to be at
// the player's, one outside 4-192 kHz is not played); leading and trailing silence beyond
// 50 ms is skipped, so the pauses stay short. The clip's samples must not
// change while it is queued or playing. The returned channel closes once
// the clip has played, or when the player stops.
func (p *Player) Announce(clip audio.Clip, mode Mode) <-chan struct{} {
	done := make(chan struct{})
	s := clip.Samples
	if clip.Rate > 0 && clip.Rate != p.rate && len(s) > 0 {
		if clip.Rate < minRate || clip.Rate > maxRate {
			close(done) // not audio anyone could hear
			return done
		}
		s = audio.Resample(s, clip.Rate, p.rate)
	}
	s = trimSilence(s, p.rate)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || len(s) == 0 {
		close(done)
		return done
	}
	a := &pending{samples: s, urgent: mode == Urgent, done: done}
	i := len(p.queue)
	if a.urgent {
		for i > 0 && !p.queue[i-1].urgent {
			i--
		}
	}
	p.queue = append(p.queue, nil)
	copy(p.queue[i+1:], p.queue[i:])
	p.queue[i] = a
	if p.ph != phMusic {
		return done // a break is under way: it plays in this one
	}
	within, after := p.lookahead, p.fadeOut
	if a.urgent {
		within = p.urgent
	} else if p.heard < p.minMusic {
		// The music has only just come back: let it play a little
		// first, or the break sounds like a stutter.
		after = max(after, p.minMusic-p.heard)
	}
	b := p.planLocked(after, within)
	if p.brk < 0 || b < p.brk && p.pos < p.brk-p.fadeOut {
		p.brk = b
	}
	return done
}

// planLocked picks where the music stops for an announcement within the
// next within samples: the end of the track if it comes by then, else the
// quietest moment at least after samples ahead (one fade-out or more).
func (p *Player) planLocked(after, within int) int {
	t := p.slots[p.ti].t
	if len(t.Samples)-p.pos <= within {
		return len(t.Samples)
	}
	return t.quietest(p.pos+after, p.pos+max(after, within), p.fadeOut)
}

// quietest returns the sample in [lo, hi] (rounded to the level blocks)
// where the music is quietest over the fade before it and a little after
// it (where the music resumes), earlier moments winning near-ties.
func (t *Track) quietest(lo, hi, fade int) int {
	B := t.envBlock
	j0 := (lo + B - 1) / B
	j1 := min(hi/B, len(t.env)-1)
	if j1 <= j0 {
		return min(lo, len(t.Samples))
	}
	back := max(1, fade/B)    // blocks the fade covers
	ahead := max(1, fade/B/2) // blocks heard as the music fades back in
	best, bestScore := j0, float32(0)
	for j := j0; j <= j1; j++ {
		a, b := max(0, j-back), min(len(t.env), j+ahead)
		var sum float32
		for _, e := range t.env[a:b] {
			sum += e
		}
		score := sum / float32(b-a) * (1 + 0.25*float32(j-j0)/float32(j1-j0))
		if j == j0 || score < bestScore {
			best, bestScore = j, score
		}
	}
	// A hush before the chosen moment is silence the caller would sit
	// through: stop where it begins (the music resumes where it ends).
	for best > j0 && t.hushed(best-1) {
		best--
	}
	return best * B
}

// hushRMS is the level (about -50 dBFS) below which a 10 ms block of
// music is a hush: barely there on a phone line. A break begins where a
// hush begins and the music resumes where it ends, so the caller does not
// sit through it on top of the pauses around the announcement.
const hushRMS = 100

// hushed reports whether level block j is a hush.
func (t *Track) hushed(j int) bool { return t.env[j] < hushRMS*hushRMS }

// sound returns the first sample at or after pos that is not in a hush,
// or len(t.Samples).
func (t *Track) sound(pos int) int {
	j := pos / t.envBlock
	if j >= len(t.env) || !t.hushed(j) {
		return pos
	}
	for j < len(t.env) && t.hushed(j) {
		j++
	}
	return min(len(t.Samples), j*t.envBlock)
}

// ReadPCM fills out with the music and announcements. It never blocks on
// anything but the player's own short lock, and returns io.EOF once the
// player is stopped.
func (p *Player) ReadPCM(out []int16) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return 0, io.EOF
	}
	n := 0
	for n < len(out) {
		switch p.ph {
		case phMusic:
			n += p.musicLocked(out[n:])
		case phBefore, phAfter:
			k := min(len(out)-n, p.gap)
			clear(out[n : n+k])
			n += k
			p.gap -= k
			if p.gap == 0 {
				p.nextLocked()
			}
		case phClip:
			k := copy(out[n:], p.cur.samples[p.clipPos:])
			n += k
			p.clipPos += k
			if p.clipPos >= len(p.cur.samples) {
				close(p.cur.done)
				p.cur, p.clipPos = nil, 0
				p.ph, p.gap = phAfter, p.pauseAfter
				if p.gap == 0 {
					p.nextLocked()
				}
			}
		}
	}
	return n, nil
}

// nextLocked ends a pause: the next announcement of the break, or the
// music again.
func (p *Player) nextLocked() {
	if len(p.queue) > 0 {
		p.cur = p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		if len(p.queue) == 0 {
			p.queue = p.queue[:0:0] // let the backing array go
		}
		p.ph = phClip
		return
	}
	p.ph = phMusic
	if p.resume {
		p.fadeLeft = p.fadeIn
	}
}

// musicLocked plays music into out up to the end of the track or the
// break, and returns how many samples it wrote (0 when it moved on).
func (p *Player) musicLocked(out []int16) int {
	t := p.slots[p.ti].t
	end := len(t.Samples)
	if p.brk >= 0 {
		end = min(end, p.brk)
	}
	if p.pos >= end {
		if p.brk >= 0 { // the break: the music pauses here
			// The music resumes where it paused, less any hush
			// there: the caller has just had a pause.
			p.pos = t.sound(p.pos)
			p.resume = p.pos < len(t.Samples)
			if !p.resume {
				p.advanceLocked()
			}
			p.brk = -1
			p.breaks++
			p.heard = 0
			p.ph, p.gap, p.fadeLeft = phBefore, p.pauseBefore, 0
			if p.gap == 0 {
				p.nextLocked()
			}
			return 0
		}
		p.advanceLocked()
		return 0
	}
	k := min(len(out), end-p.pos)
	src := t.Samples[p.pos : p.pos+k]
	fadeFrom := end + 1 // first sample of the fade-out; past end when none
	if p.brk >= 0 && p.brk < len(t.Samples) {
		fadeFrom = p.brk - p.fadeOut
	}
	if p.fadeLeft == 0 && p.pos+k <= fadeFrom {
		copy(out, src)
	} else {
		for i, v := range src {
			g := int32(unity)
			if p.fadeLeft > 0 {
				g = ramp(p.fadeIn-p.fadeLeft, p.fadeIn)
				p.fadeLeft--
			}
			if x := p.pos + i; x >= fadeFrom {
				g = min(g, ramp(p.brk-x, p.fadeOut))
			}
			out[i] = int16(int32(v) * g >> 15)
		}
	}
	p.pos += k
	p.heard += k
	return k
}

// Stop ends the player: ReadPCM returns io.EOF from now on, and every
// queued or playing announcement's channel closes.
func (p *Player) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	if p.cur != nil {
		close(p.cur.done)
		p.cur = nil
	}
	for _, a := range p.queue {
		close(a.done)
	}
	p.queue = nil
}

var _ audio.Source = (*Player)(nil)

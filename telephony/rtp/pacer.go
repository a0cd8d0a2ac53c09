package rtp

import (
	"runtime"
	"sync"
	"time"

	"github.com/openivr/ivr/audio"
)

// Pacer is the outbound media clock of many sessions: each session is
// paced in exactly one place, a shard of the pacer, which wakes on fixed
// deadlines every 20 ms and sends one packet for each of its sessions.
// Shards run on their own goroutines at spread phases, so the work of a
// tick is split across cores and in time.
//
// A late shard does not skip a tick: it sends late and catches up, so
// receivers see a late packet rather than a missing one. Only when it is
// more than maxCatchUp ticks behind (the machine stalled) does it drop the
// backlog and resynchronise.
type Pacer struct {
	shards []*shard
	mu     sync.Mutex
	next   int // round-robin shard for new sessions
}

const maxCatchUp = 5

type shard struct {
	mu sync.Mutex
	// sessions tick in this order every period, so each session keeps the
	// same offset within the tick and its packets stay 20 ms apart even
	// when a tick's work takes milliseconds. index maps a session to its
	// position for removal.
	sessions []*Session
	index    map[*Session]int
	phase    time.Duration
	running  bool // a loop goroutine is ticking
}

// NewPacer returns a pacer with one shard per CPU.
func NewPacer() *Pacer {
	n := runtime.GOMAXPROCS(0)
	p := &Pacer{}
	for i := 0; i < n; i++ {
		p.shards = append(p.shards, &shard{
			index: map[*Session]int{},
			phase: audio.FrameDuration * time.Duration(i) / time.Duration(n),
		})
	}
	return p
}

var (
	defaultPacer     *Pacer
	defaultPacerOnce sync.Once
)

// DefaultPacer is the process-wide pacer sessions use when their config
// names none.
func DefaultPacer() *Pacer {
	defaultPacerOnce.Do(func() { defaultPacer = NewPacer() })
	return defaultPacer
}

func (p *Pacer) add(s *Session) *shard {
	p.mu.Lock()
	sh := p.shards[p.next%len(p.shards)]
	p.next++
	p.mu.Unlock()
	sh.mu.Lock()
	sh.index[s] = len(sh.sessions)
	sh.sessions = append(sh.sessions, s)
	start := !sh.running
	sh.running = true
	sh.mu.Unlock()
	if start {
		go sh.loop()
	}
	return sh
}

// remove takes a session out; once it returns, the session's tick is not
// running and will not run again.
func (sh *shard) remove(s *Session) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i, ok := sh.index[s]
	if !ok {
		return
	}
	// Keep the order of the others: only later sessions move up a place.
	copy(sh.sessions[i:], sh.sessions[i+1:])
	sh.sessions[len(sh.sessions)-1] = nil
	sh.sessions = sh.sessions[:len(sh.sessions)-1]
	delete(sh.index, s)
	for j := i; j < len(sh.sessions); j++ {
		sh.index[sh.sessions[j]] = j
	}
}

// loop ticks while the shard has sessions and exits when it has none, so
// an idle server (and every test) has no pacer goroutines.
func (sh *shard) loop() {
	period := audio.FrameDuration
	start := time.Now().Truncate(period).Add(period + sh.phase)
	k := int64(0)
	timer := time.NewTimer(time.Until(start))
	defer timer.Stop()
	for {
		<-timer.C
		sh.mu.Lock()
		if len(sh.sessions) == 0 {
			sh.running = false
			sh.mu.Unlock()
			return
		}
		for _, s := range sh.sessions {
			s.tick()
		}
		sh.mu.Unlock()
		k++
		deadline := start.Add(time.Duration(k) * period)
		if behind := time.Since(deadline); behind > maxCatchUp*period {
			// Stalled far behind: resynchronise instead of a long burst.
			k += int64(behind / period)
			deadline = start.Add(time.Duration(k) * period)
		}
		timer.Reset(time.Until(deadline))
	}
}

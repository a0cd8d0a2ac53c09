package anntts

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/hold"
)

// trimmed is how many samples of clip the player plays (hold trims
// leading and trailing silence under 64 to 50 ms).
func trimmed(s []int16, rate int) int {
	keep := rate / 20
	lo, hi := 0, len(s)
	for lo < hi && s[lo] < 64 && s[lo] > -64 {
		lo++
	}
	for hi > lo && s[hi-1] < 64 && s[hi-1] > -64 {
		hi--
	}
	return min(len(s), hi+keep) - max(0, lo-keep)
}

// TestAnnouncementsHeard plays the Debian music on hold the way a
// waiting caller hears it (hold.Player, one 20 ms frame per tick of the
// media clock, as dialog's defaultHold) for 20 minutes, asking for a
// synthesized position announcement when dialog's queue node does: 2 s
// after joining, then every announce_every (30 s, the default, and 10 s,
// a stress: 5 s is the minimum). It measures in audio time when each
// announcement starts, and how often one was asked for while the previous
// was still waiting for its break (dialog.queueAnnounce does not look at
// hold.Player.Pending). Under load the server's pacing keeps audio time
// and wall time together (bench/load/queue.sh: no missing slots, clock
// drift under 1 ms with SCHED_FIFO), so these delays are what callers
// wait on top of the announcement's synthesis.
func TestAnnouncementsHeard(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes the Debian music files")
	}
	files, _ := filepath.Glob(filepath.Join(config.DefaultMusicDir, "*.wav"))
	if len(files) == 0 {
		t.Skip("no music in " + config.DefaultMusicDir + " (Debian package asterisk-moh-opsound-wav)")
	}
	const rate = audio.Rate8k
	lib := hold.NewLibrary(nil)
	if errs := lib.Preload(files, rate); len(errs) > 0 {
		t.Fatal(errs)
	}
	cache, _ := newCache(t)
	clip, err := say(context.Background(), cache, text(123))
	if err != nil {
		t.Fatal(err)
	}
	played := trimmed(clip.Samples, rate)
	frame := rate / 50
	for _, every := range []time.Duration{30 * time.Second, 10 * time.Second} {
		for start := 0; start < 3; start++ { // three callers, starting on different tracks
			p := hold.NewPlayer(lib, files, rate, start)
			const total = 20 * time.Minute
			frames := int(total / (20 * time.Millisecond))
			next := 2 * time.Second
			type ask struct {
				at   time.Duration
				done <-chan struct{}
			}
			var asks []ask
			var delays []float64
			piled := 0
			buf := make([]int16, frame)
			for f := 0; f < frames; f++ {
				now := time.Duration(f) * 20 * time.Millisecond
				if now >= next {
					if p.Pending() > 0 {
						piled++
					}
					asks = append(asks, ask{now, p.Announce(clip, hold.AtBreak)})
					next += every
				}
				if _, err := p.ReadPCM(buf); err != nil {
					t.Fatal(err)
				}
				end := time.Duration(f+1) * 20 * time.Millisecond
				for len(asks) > 0 {
					select {
					case <-asks[0].done:
						began := end - time.Duration(played)*time.Second/rate
						delays = append(delays, (began - asks[0].at).Seconds())
						asks = asks[1:]
						continue
					default:
					}
					break
				}
			}
			p.Stop()
			slices.Sort(delays)
			q := func(x float64) float64 {
				return math.Round(delays[max(0, int(math.Ceil(x*float64(len(delays))))-1)]*10) / 10
			}
			t.Logf("every %v, start track %d: %d asked, %d heard, %d not yet heard at the end; delay p50 %.1f s, p90 %.1f s, max %.1f s; %d asked while the previous one still waited",
				every, start, len(delays)+len(asks), len(delays), len(asks), q(0.5), q(0.9), delays[len(delays)-1], piled)
			// hold's contract: the next break within the lookahead (8 s)
			// once 3 s of music has played since the last one, behind at
			// most one waiting clip.
			if m := delays[len(delays)-1]; m > 15 {
				t.Errorf("every %v, start %d: an announcement waited %.1f s for its break", every, start, m)
			}
			if len(asks) > 1 {
				t.Errorf("every %v, start %d: %d announcements still waiting at the end: they pile up", every, start, len(asks))
			}
		}
	}
}

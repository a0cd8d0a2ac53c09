package dialog

import (
	"sync/atomic"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/hold"
)

// holdLibrary decodes music-on-hold tracks once per process.
var holdLibrary = hold.NewLibrary(nil)

// holdStart spreads callers over the tracks so they don't all hear the
// same start.
var holdStart atomic.Int64

// defaultHold plays queue music with package hold.
func defaultHold(tracks []string, rate int) HoldPlayer {
	return holdPlayer{hold.NewPlayer(holdLibrary, tracks, rate, int(holdStart.Add(1)))}
}

type holdPlayer struct{ *hold.Player }

func (h holdPlayer) Announce(c audio.Clip, urgent bool) <-chan struct{} {
	mode := hold.AtBreak
	if urgent {
		mode = hold.Urgent
	}
	return h.Player.Announce(c, mode)
}

// PreloadMusic decodes the queues' music (for the default players) in
// the background, so the first caller to wait does not wait for the
// decoder. A server calls it when a config loads.
func PreloadMusic(cfg *config.Config) {
	var tracks []string
	for _, q := range cfg.Queues {
		if q != nil {
			tracks = append(tracks, cfg.Musics(q)...)
		}
	}
	if len(tracks) > 0 {
		go holdLibrary.Preload(tracks, audio.Rate8k)
	}
}

package hold_test

import (
	"log/slog"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/hold"
)

// A queue node: one Library for the process, one Player per waiting call,
// played by the call's media clock; announcements go through the player
// so they wait for a natural break in the music.
func ExampleNewPlayer() {
	lib := hold.NewLibrary(slog.Default())
	files := []string{"/usr/share/asterisk/moh/macroform-cold_day.wav"} // cfg.Musics(queue)
	lib.Preload(files, audio.Rate8k)                                    // at start-up, so calls do not wait

	callNumber := 7 // spreads callers over the tracks
	p := hold.NewPlayer(lib, files, audio.Rate8k, callNumber)
	// call.Play(p) hands it to the media clock.

	position := audio.Clip{Rate: audio.Rate8k, Samples: make([]int16, 8000)} // synthesized
	done := p.Announce(position, hold.AtBreak)
	_ = done // select on it with the call's other events

	p.Stop() // an agent answered, or the caller left
}

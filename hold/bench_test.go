package hold

import (
	"fmt"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/internal/benchcpu"
)

// benchTracks writes three minute-long 8 kHz tracks (tone and noise, as
// loud as music) and returns their paths.
func benchTracks(b *testing.B) []string {
	dir := b.TempDir()
	var paths []string
	for i := range 3 {
		s := tone(r8, 300+110*float64(i), 7000, time.Minute)
		for k, v := range noise(uint64(i), 500, len(s)) {
			s[k] += v
		}
		paths = append(paths, writeWAV(b, dir, fmt.Sprintf("t%d.wav", i), r8, s))
	}
	return paths
}

// BenchmarkReadPCM is the cost of one 20 ms frame: music copied straight
// (the usual case), music under a fade (gain per sample, the worst case),
// and one frame from each of 500 players at different places in the
// shared tracks (ns/op is per 500 frames).
func BenchmarkReadPCM(b *testing.B) {
	paths := benchTracks(b)
	lib := NewLibrary(nil)
	for _, rate := range []int{audio.Rate8k, audio.Rate16k} {
		lib.Preload(paths, rate)
		frame := rate / 50
		b.Run(fmt.Sprintf("music/%dk", rate/1000), func(b *testing.B) {
			p := NewPlayer(lib, paths, rate, 0)
			buf := make([]int16, frame)
			b.ReportAllocs()
			stop := benchcpu.Report(b)
			for b.Loop() {
				p.ReadPCM(buf)
			}
			stop()
		})
		b.Run(fmt.Sprintf("fade/%dk", rate/1000), func(b *testing.B) {
			// A fade-in that never ends keeps every frame on the
			// per-sample gain path.
			p := NewPlayer(lib, paths, rate, 0, WithFades(300*time.Millisecond, 24*time.Hour))
			buf := make([]int16, frame)
			<-func() <-chan struct{} {
				d := p.Announce(audio.Clip{Rate: r8, Samples: clipNoise(1, 800)}, Urgent)
				for range 500 {
					p.ReadPCM(buf)
				}
				return d
			}()
			b.ReportAllocs()
			stop := benchcpu.Report(b)
			for b.Loop() {
				p.ReadPCM(buf)
			}
			stop()
			if p.fadeLeft == 0 {
				b.Fatal("not fading")
			}
		})
	}
	b.Run("500calls/8k", func(b *testing.B) {
		ps := make([]*Player, 500)
		buf := make([]int16, 160)
		for i := range ps {
			ps[i] = NewPlayer(lib, paths, r8, i)
			for range i % 300 { // spread them through the tracks
				ps[i].ReadPCM(buf)
			}
		}
		b.ReportAllocs()
		stop := benchcpu.Report(b)
		for b.Loop() {
			for _, p := range ps {
				p.ReadPCM(buf)
			}
		}
		stop()
	})
}

// BenchmarkNewPlayer is the cost of a call's player once the library has
// the tracks.
func BenchmarkNewPlayer(b *testing.B) {
	paths := benchTracks(b)
	lib := NewLibrary(nil)
	lib.Preload(paths, r8)
	b.ReportAllocs()
	stop := benchcpu.Report(b)
	for i := 0; b.Loop(); i++ {
		NewPlayer(lib, paths, r8, i)
	}
	stop()
}

// BenchmarkLoad is decoding one minute of 8 kHz WAV into a 16 kHz track
// (once per file and rate per process).
func BenchmarkLoad(b *testing.B) {
	paths := benchTracks(b)
	b.ReportAllocs()
	stop := benchcpu.Report(b)
	for b.Loop() {
		if _, err := decode(paths[0], audio.Rate16k); err != nil {
			b.Fatal(err)
		}
	}
	stop()
}

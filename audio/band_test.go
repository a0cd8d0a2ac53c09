package audio

import (
	"math"
	"path/filepath"
	"testing"
)

// TestNarrowbandStoredWide: every wideband human "yes" of the Speech
// Commands set whose speaker recorded wideband keeps its band; the same
// clips through an 8 kHz channel and stored at 16 and 48 kHz are narrowband.
func TestNarrowbandStoredWide(t *testing.T) {
	files, _ := filepath.Glob("../../shared/data/speech/speech_commands/yes/*.wav")
	if len(files) == 0 {
		t.Skip("../shared/data/speech not present")
	}
	wide, narrow := 0, 0
	for _, f := range files {
		c, err := ReadWAVFile(f)
		if err != nil {
			t.Fatal(err)
		}
		db := HighBandDB(c.Samples, c.Rate)
		if db < NarrowbandBelowDB {
			// A few speakers of the set recorded through a telephone-band
			// device; their clips are narrowband already.
			narrow++
			continue
		}
		wide++
		// Half the level: some clips reach full scale, and a resampler's
		// overshoot clipped at 16 bits would put harmonics above the band.
		half := make([]int16, len(c.Samples))
		for i, v := range c.Samples {
			half[i] = v / 2
		}
		tel := Resample(half, c.Rate, Rate8k)
		for _, rate := range []int{16000, 48000} {
			back := Resample(tel, Rate8k, rate)
			if !Narrowband(back, rate) {
				t.Errorf("%s through 8 kHz at %d Hz: %.1f dB above the band, not narrowband", filepath.Base(f), rate, HighBandDB(back, rate))
			}
		}
		if Narrowband(c.Samples, c.Rate) {
			t.Errorf("%s: wideband clip (%.1f dB) called narrowband", filepath.Base(f), db)
		}
	}
	if wide < 30 || narrow > 5 {
		t.Errorf("%d wideband and %d narrowband clips of %d; the set is mostly wideband", wide, narrow, len(files))
	}
	if !math.IsInf(HighBandDB(make([]int16, 16000), 16000), -1) {
		t.Error("silence has a band")
	}
	if Narrowband(make([]int16, 8000), 8000) || !math.IsInf(HighBandDB([]int16{1, 2, 3}, 8000), -1) {
		t.Error("8 kHz audio is not 'stored wide'")
	}
}

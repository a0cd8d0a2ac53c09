package vad

import (
	"testing"

	"github.com/openivr/ivr/vad/vadeval"
)

// TestModelQuality measures the committed model on held-out TEST sets
// (speech files, speakers and hold music the trainer never saw) and fails
// if frame-level ROC-AUC falls below the floor. `ivr eval vad` reports the
// same measure on larger sets.
func TestModelQuality(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("generates and scores two labelled sets (slow under -race)")
	}
	for _, c := range []struct {
		cfg     vadeval.Config
		minAUC  float64
		minPrec float64
	}{
		{vadeval.Config{Split: vadeval.Test, Rate: 8000, Items: 60, Seed: 101, SpeechDir: speechDataDir}, 0.96, 0.88},
		{vadeval.Config{Split: vadeval.Test, Rate: 16000, Items: 30, Seed: 102, SpeechDir: speechDataDir}, 0.95, 0.85},
	} {
		items, err := vadeval.Generate(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		res, _, err := vadeval.Evaluate(items, func(rate int) (vadeval.Scorer, error) { return New(rate, Config{}) }, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d Hz: %d hops, ROC-AUC %.4f, precision %.3f recall %.3f, FPR by background %v",
			c.cfg.Rate, res.Hops, res.AUC, res.Precision, res.Recall, res.FPRByBackground)
		if res.AUC < c.minAUC || res.Precision < c.minPrec {
			t.Errorf("%d Hz: ROC-AUC %.4f (floor %.2f), precision %.3f (floor %.2f)", c.cfg.Rate, res.AUC, c.minAUC, res.Precision, c.minPrec)
		}
	}
}

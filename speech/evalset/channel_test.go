package evalset

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/codec"
)

func TestChannelLevelPaddingAndDeterminism(t *testing.T) {
	// 0.5 s of a 1 kHz tone at 16 kHz.
	in := audio.Clip{Rate: 16000, Samples: make([]int16, 8000)}
	for i := range in.Samples {
		in.Samples[i] = int16(10000 * math.Sin(2*math.Pi*1000*float64(i)/16000))
	}
	ch := Channel{LevelDBFS: -26, SNRDB: 30, Codec: codec.PCMU{}, LeadSec: 0.5, TrailSec: 1}
	a := ch.Apply(in, rand.New(rand.NewPCG(1, 2)))
	b := ch.Apply(in, rand.New(rand.NewPCG(1, 2)))
	if a.Rate != 8000 || len(a.Samples) != len(b.Samples) {
		t.Fatalf("rate %d, lengths %d %d", a.Rate, len(a.Samples), len(b.Samples))
	}
	for i := range a.Samples {
		if a.Samples[i] != b.Samples[i] {
			t.Fatal("same seed, different output")
		}
	}
	if want := 4000 + 4000 + 8000; len(a.Samples) < want-50 || len(a.Samples) > want+50 {
		t.Errorf("length %d, want about %d", len(a.Samples), want)
	}
	rms := func(s []int16) float64 {
		var e float64
		for _, v := range s {
			e += float64(v) * float64(v)
		}
		return 20 * math.Log10(math.Sqrt(e/float64(len(s)))/32768)
	}
	speech, noise := rms(a.Samples[4500:7500]), rms(a.Samples[500:3500])
	if math.Abs(speech+26) > 1.5 {
		t.Errorf("speech at %.1f dBFS, want -26", speech)
	}
	if snr := speech - noise; snr < 25 || snr > 35 {
		t.Errorf("SNR %.1f dB, want about 30", snr)
	}
}

func TestIntentsYAMLCoverUtterances(t *testing.T) {
	for _, set := range []string{"bank", "courier", "digits-human"} {
		if _, err := IntentsYAML(set); err != nil {
			t.Errorf("%s: %v", set, err)
		}
	}
	for dom, splits := range domainUtterances {
		seen := map[string]string{}
		for split, us := range splits {
			for _, u := range us {
				if prev, dup := seen[u.text]; dup {
					t.Errorf("%s: %q in %s and %s", dom, u.text, prev, split)
				}
				seen[u.text] = split
			}
		}
	}
}

//go:build cgo

package sphinx

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/audio"
)

func TestScratch(t *testing.T) {
	t0 := time.Now()
	r, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("load", time.Since(t0))
	for _, cfgName := range []string{"fill", "nofill"} {
		c := DefaultConfig()
		if cfgName == "nofill" {
			c.Condition.FillDBFS = 0
		}
		r.cfg.Condition = c.Condition
		ok := 0
		for i := 0; i < 10; i++ {
			clip, err := audio.ReadWAVFile(fmt.Sprintf("/usr/share/asterisk/sounds/en/digits/%d.wav", i))
			if err != nil {
				t.Fatal(err)
			}
			st, err := r.NewStream(context.Background(), clip.Rate, asr.Hints{Grammar: "digits"})
			if err != nil {
				t.Fatal(err)
			}
			for o := 0; o < len(clip.Samples); o += 160 {
				st.Write(clip.Samples[o:min(o+160, len(clip.Samples))])
			}
			res, err := st.Finish(context.Background())
			fmt.Printf("%s %d -> %+v\n", cfgName, i, res)
			if res.Text == asr.DigitWords[i] {
				ok++
			}
		}
		fmt.Println(cfgName, ok)
	}
}

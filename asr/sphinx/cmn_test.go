//go:build cgo

package sphinx

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/audio"
)

// TestEstimateCMN is a tool, not a check: with IVR_SPHINX_CMN_LABELS set to
// a labels CSV (a dev split made by speech/evalset/gen) it decodes every
// file in batch mode and prints the average utterance cepstral mean after
// conditioning, the value for Config.CMNInitNarrow. IVR_SPHINX_CMN_FOLD
// sets the fold gain (dB) the estimate is for.
//
//	IVR_SPHINX_CMN_LABELS=/tmp/eval/bank-dev/labels.csv go test -run EstimateCMN -v ./asr/sphinx
func TestEstimateCMN(t *testing.T) {
	labels := os.Getenv("IVR_SPHINX_CMN_LABELS")
	if labels == "" {
		t.Skip("IVR_SPHINX_CMN_LABELS not set")
	}
	var fold float64
	fmt.Sscan(os.Getenv("IVR_SPHINX_CMN_FOLD"), &fold)
	f, err := os.Open(labels)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	r := newTestRecognizer(t, func(c *Config) {
		c.Batch = true
		c.Condition.FoldDB = fold
		c.GrammarFoldDB = fold
		c.Decoders = 1
	})
	var sum []float64
	n := 0
	for _, rec := range recs[1:] {
		c, err := audio.ReadWAVFile(filepath.Join(filepath.Dir(labels), rec[0]))
		if err != nil {
			t.Fatal(err)
		}
		d, err := r.acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		st := &stream{r: r, d: d, batch: true, rate: c.Rate}
		st.cond, _ = asr.NewConditioner(c.Rate, asr.ConditionConfig{OutRate: 16000, FillDBFS: r.cfg.Condition.FillDBFS, FillFromHz: r.cfg.Condition.FillFromHz, FoldDB: fold, Seed: 1})
		s, err := r.compile(d, asr.Hints{Grammar: asr.GrammarDigits}, false)
		if err == nil {
			err = d.use(s)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := d.start(true, nil, 1); err != nil {
			t.Fatal(err)
		}
		st.raw = c.Samples
		st.buf = st.cond.Process(nil, st.raw)
		if err := d.process(st.buf, true); err != nil {
			t.Fatal(err)
		}
		d.end()
		m := d.cmnMean()
		r.release(d)
		if sum == nil {
			sum = make([]float64, len(m))
		}
		for i, v := range m {
			sum[i] += float64(v)
		}
		n++
	}
	var b strings.Builder
	for i, v := range sum {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%.2f", v/float64(n))
	}
	t.Logf("%d files, fold %g dB: CMNInitNarrow: []float32{%s}", n, fold, b.String())
}

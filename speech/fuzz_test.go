package speech

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func FuzzReadLabels(f *testing.F) {
	f.Add("file,intent,text\na.wav,check_balance,check my balance\n")
	f.Add("a.wav,oos\n# comment\n/abs/b.wav,x,\"quoted, text\"\n")
	f.Add("\"unterminated,x\n")
	f.Add("only-one-field\n")
	f.Fuzz(func(t *testing.T, data string) {
		p := filepath.Join(t.TempDir(), "labels.csv")
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		items, err := ReadLabels(p)
		if err != nil {
			return
		}
		if len(items) == 0 {
			t.Fatal("no items and no error")
		}
		for _, it := range items {
			if !filepath.IsAbs(it.Path) {
				t.Fatalf("path %q not made absolute", it.Path)
			}
		}
	})
}

func FuzzCoverageCurve(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		var conf []float64
		var ok []bool
		for len(data) >= 9 {
			v := math.Float64frombits(binary.LittleEndian.Uint64(data))
			if math.IsNaN(v) {
				v = 0
			}
			conf = append(conf, v)
			ok = append(ok, data[8]&1 == 1)
			data = data[9:]
		}
		auc, pts := coverageCurve(conf, ok, []float64{0, 0.5, 0.9, 1, 2})
		if auc != -1 && (auc < 0 || auc > 1) {
			t.Fatalf("AUC %v", auc)
		}
		for _, p := range pts {
			if p.Accuracy < 0 || p.Accuracy > 1 || p.Coverage <= 0 || p.Coverage > 1 {
				t.Fatalf("point %+v", p)
			}
		}
	})
}

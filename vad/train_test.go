package vad

import (
	"flag"
	"fmt"
	"go/format"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openivr/ivr/vad/vadeval"
)

// The model is trained here, offline, on generated TRAIN sets only, and
// written to model_weights.go:
//
//	go test ./vad -run TestTrainModel -vad.train -timeout 30m
//
// Model selection uses a validation part of the training set (the last 15 %
// of its clips); the TEST split is never seen (it is measured by
// TestModelQuality and `ivr eval vad`). Besides the training hold music, the
// trainer mixes in up to 90 s from each track of Debian's
// planetblupi-music-ogg and colobot-common-sounds (game music), converted
// with sox, when they are installed:
//
//	apt-get install planetblupi-music-ogg colobot-common-sounds sox
var trainFlag = flag.Bool("vad.train", false, "train the VAD model and rewrite model_weights.go")

const speechDataDir = "../../shared/data/speech"

// hopFeatures runs the live detector over an item and returns the feature
// vector of every hop, as the model sees them.
func hopFeatures(t testing.TB, it vadeval.Item) [][numFeatures]float64 {
	d, err := New(it.Rate, Config{})
	if err != nil {
		t.Fatal(err)
	}
	hop := it.Rate / 50
	out := make([][numFeatures]float64, len(it.Speech))
	for h := range out {
		d.Process(it.Samples[h*hop : (h+1)*hop])
		out[h] = d.feats
	}
	return out
}

type example struct {
	x [numFeatures]float64
	y float64
}

func examples(t testing.TB, items []vadeval.Item) []example {
	var ex []example
	for _, it := range items {
		f := hopFeatures(t, it)
		for h := range f {
			y := 0.0
			if it.Speech[h] {
				y = 1
			}
			ex = append(ex, example{f[h], y})
		}
	}
	return ex
}

// trainer holds a float64 copy of the network and Adam moments.
type trainer struct {
	h           int
	mean, scale [numFeatures]float64
	w1          [][numFeatures]float64
	b1, w2      []float64
	b2          float64
	mw1, vw1    [][numFeatures]float64
	mb1, vb1    []float64
	mw2, vw2    []float64
	mb2, vb2    float64
	step        int
}

func newTrainer(h int, ex []example, rng *rand.Rand) *trainer {
	tr := &trainer{h: h}
	for i := 0; i < numFeatures; i++ {
		var s, s2 float64
		for _, e := range ex {
			s += e.x[i]
			s2 += e.x[i] * e.x[i]
		}
		n := float64(len(ex))
		m := s / n
		sd := math.Sqrt(math.Max(s2/n-m*m, 1e-12))
		tr.mean[i], tr.scale[i] = m, 1/sd
	}
	alloc := func() [][numFeatures]float64 { return make([][numFeatures]float64, h) }
	tr.w1, tr.mw1, tr.vw1 = alloc(), alloc(), alloc()
	tr.b1, tr.mb1, tr.vb1 = make([]float64, h), make([]float64, h), make([]float64, h)
	tr.w2, tr.mw2, tr.vw2 = make([]float64, h), make([]float64, h), make([]float64, h)
	lim := 1 / math.Sqrt(numFeatures)
	for j := range tr.w1 {
		for i := range tr.w1[j] {
			tr.w1[j][i] = (rng.Float64()*2 - 1) * lim
		}
		tr.w2[j] = (rng.Float64()*2 - 1) / math.Sqrt(float64(h))
	}
	return tr
}

func (tr *trainer) forward(x *[numFeatures]float64, z *[numFeatures]float64, hid []float64) float64 {
	for i := range z {
		z[i] = (x[i] - tr.mean[i]) * tr.scale[i]
	}
	out := tr.b2
	for j := range tr.w1 {
		a := tr.b1[j]
		for i := range z {
			a += tr.w1[j][i] * z[i]
		}
		hid[j] = math.Tanh(a)
		out += tr.w2[j] * hid[j]
	}
	return sigmoid(out)
}

// epoch runs one pass of minibatch Adam with class-balanced cross-entropy.
func (tr *trainer) epoch(ex []example, order []int, lr, posWeight, l2 float64) float64 {
	const batch = 256
	gw1 := make([][numFeatures]float64, tr.h)
	gb1, gw2 := make([]float64, tr.h), make([]float64, tr.h)
	hid := make([]float64, tr.h)
	var z [numFeatures]float64
	var loss float64
	for start := 0; start < len(order); start += batch {
		end := min(start+batch, len(order))
		for j := range gw1 {
			gw1[j] = [numFeatures]float64{}
			gb1[j], gw2[j] = 0, 0
		}
		var gb2 float64
		for _, k := range order[start:end] {
			e := &ex[k]
			p := tr.forward(&e.x, &z, hid)
			w := 1.0
			if e.y > 0.5 {
				w = posWeight
			}
			loss -= w * (e.y*math.Log(p+1e-9) + (1-e.y)*math.Log(1-p+1e-9))
			g := w * (p - e.y)
			gb2 += g
			for j := range hid {
				gw2[j] += g * hid[j]
				gh := g * tr.w2[j] * (1 - hid[j]*hid[j])
				gb1[j] += gh
				for i := range z {
					gw1[j][i] += gh * z[i]
				}
			}
		}
		n := float64(end - start)
		tr.step++
		b1c := 1 - math.Pow(0.9, float64(tr.step))
		b2c := 1 - math.Pow(0.999, float64(tr.step))
		adam := func(p, m, v *float64, g float64) {
			*m = 0.9**m + 0.1*g
			*v = 0.999**v + 0.001*g*g
			*p -= lr * (*m / b1c) / (math.Sqrt(*v/b2c) + 1e-8)
		}
		for j := range tr.w1 {
			for i := range tr.w1[j] {
				adam(&tr.w1[j][i], &tr.mw1[j][i], &tr.vw1[j][i], gw1[j][i]/n+l2*tr.w1[j][i])
			}
			adam(&tr.b1[j], &tr.mb1[j], &tr.vb1[j], gb1[j]/n)
			adam(&tr.w2[j], &tr.mw2[j], &tr.vw2[j], gw2[j]/n+l2*tr.w2[j])
		}
		adam(&tr.b2, &tr.mb2, &tr.vb2, gb2/n)
	}
	return loss / float64(len(order))
}

func (tr *trainer) auc(ex []example) float64 {
	hid := make([]float64, tr.h)
	var z [numFeatures]float64
	scores := make([]float32, len(ex))
	labels := make([]bool, len(ex))
	for k := range ex {
		scores[k] = float32(tr.forward(&ex[k].x, &z, hid))
		labels[k] = ex[k].y > 0.5
	}
	return vadeval.ROCAUC(scores, labels)
}

type snapshot struct {
	w1     [][numFeatures]float64
	b1, w2 []float64
	b2     float64
}

func (tr *trainer) snap() snapshot {
	s := snapshot{w1: append([][numFeatures]float64(nil), tr.w1...), b1: append([]float64(nil), tr.b1...),
		w2: append([]float64(nil), tr.w2...), b2: tr.b2}
	return s
}

func (tr *trainer) restore(s snapshot) {
	copy(tr.w1, s.w1)
	copy(tr.b1, s.b1)
	copy(tr.w2, s.w2)
	tr.b2 = s.b2
}

func (tr *trainer) source(valAUC float64, note string) string {
	var b strings.Builder
	f32 := func(v float64) string { return fmt.Sprintf("%.7g", float32(v)) }
	b.WriteString("// Code generated by TestTrainModel (go test ./vad -run TestTrainModel -vad.train); DO NOT EDIT.\n\n")
	b.WriteString("package vad\n\n")
	fmt.Fprintf(&b, "// Trained on generated TRAIN sets (%s); validation ROC-AUC %.4f.\n", note, valAUC)
	b.WriteString("var (\n\tmodelMean = [numFeatures]float32{")
	for i, v := range tr.mean {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f32(v))
	}
	b.WriteString("}\n\tmodelScale = [numFeatures]float32{")
	for i, v := range tr.scale {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f32(v))
	}
	fmt.Fprintf(&b, "}\n\tmodelW1 = [%d][numFeatures]float32{\n", tr.h)
	for _, row := range tr.w1 {
		b.WriteString("\t\t{")
		for i, v := range row {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f32(v))
		}
		b.WriteString("},\n")
	}
	fmt.Fprintf(&b, "\t}\n\tmodelB1 = [%d]float32{", tr.h)
	for i, v := range tr.b1 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f32(v))
	}
	fmt.Fprintf(&b, "}\n\tmodelW2 = [%d]float32{", tr.h)
	for i, v := range tr.w2 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f32(v))
	}
	fmt.Fprintf(&b, "}\n\tmodelB2 = float32(%s)\n)\n", f32(tr.b2))
	return b.String()
}

// extraMusic converts up to 90 s of each extra music track to a 16 kHz
// WAV in a temporary directory, or returns "" when no track or no sox is
// there.
func extraMusic(t *testing.T) string {
	blupi, _ := filepath.Glob("/usr/share/planetblupi/music/*.ogg")
	colobot, _ := filepath.Glob("/usr/share/games/colobot/music/*.ogg")
	if len(blupi)+len(colobot) == 0 {
		t.Log("no extra training music (apt-get install planetblupi-music-ogg colobot-common-sounds)")
		return ""
	}
	dir := t.TempDir()
	for i, tr := range append(blupi, colobot...) {
		out := filepath.Join(dir, fmt.Sprintf("%02d-%s.wav", i, strings.TrimSuffix(filepath.Base(tr), ".ogg")))
		start := "120" // the Planet Blupi tracks are long loops: skip the intro
		if i >= len(blupi) {
			start = "0"
		}
		cmd := exec.Command("sox", tr, "-r", "16000", "-c", "1", "-b", "16", out, "trim", start, "90")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Logf("sox %s: %v %s: no extra training music", tr, err, b)
			return ""
		}
	}
	return dir
}

func TestTrainModel(t *testing.T) {
	if !*trainFlag {
		t.Skip("training runs only with -vad.train")
	}
	music := extraMusic(t)
	var fit, val []vadeval.Item
	for _, c := range []vadeval.Config{
		{Split: vadeval.Train, Rate: 8000, Items: 900, Seed: 11, SpeechDir: speechDataDir, ExtraTrainMusicDir: music},
		{Split: vadeval.Train, Rate: 16000, Items: 350, Seed: 12, SpeechDir: speechDataDir, ExtraTrainMusicDir: music},
	} {
		items, err := vadeval.Generate(c)
		if err != nil {
			t.Fatal(err)
		}
		cut := len(items) * 85 / 100
		fit = append(fit, items[:cut]...)
		val = append(val, items[cut:]...)
	}
	fitEx, valEx := examples(t, fit), examples(t, val)
	var pos float64
	for _, e := range fitEx {
		pos += e.y
	}
	posWeight := (float64(len(fitEx)) - pos) / pos
	t.Logf("fit %d hops (%.0f%% speech), validation %d hops", len(fitEx), 100*pos/float64(len(fitEx)), len(valEx))

	rng := rand.New(rand.NewPCG(7, 7))
	const hidden = 32
	tr := newTrainer(hidden, fitEx, rng)
	order := make([]int, len(fitEx))
	for i := range order {
		order[i] = i
	}
	best, bestAUC := tr.snap(), 0.0
	lr := 3e-3
	for ep := 0; ep < 30; ep++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		loss := tr.epoch(fitEx, order, lr, posWeight, 1e-5)
		auc := tr.auc(valEx)
		t.Logf("epoch %2d: loss %.4f validation AUC %.4f", ep, loss, auc)
		if auc > bestAUC {
			best, bestAUC = tr.snap(), auc
		}
		if ep >= 10 {
			lr *= 0.85
		}
	}
	tr.restore(best)
	note := fmt.Sprintf("%d x 8 kHz + %d x 16 kHz clips, %d hops, MLP %d-%d-1", 900*85/100, 350*85/100, len(fitEx), numFeatures, hidden)
	src, err := format.Source([]byte(tr.source(bestAUC, note)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("model_weights.go", src, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote model_weights.go, validation AUC %.4f", bestAUC)
}

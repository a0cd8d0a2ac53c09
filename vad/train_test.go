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
	"sort"
	"strings"
	"testing"

	"github.com/openivr/ivr/vad/vadeval"
)

// The model is trained here, offline, on generated TRAIN sets only, and
// written to model_weights.go:
//
//	nice -n 10 go test ./vad -run TestTrainModel -vad.train -timeout 60m
//
// The TEST split is never seen (it is measured by TestModelQuality and
// `ivr eval vad`). Besides the training hold music of asterisk-moh-opsound,
// the trainer mixes in up to 90 s from each track of four Debian packages
// of free game music, converted with sox:
//
//	apt-get install planetblupi-music-ogg colobot-common-sounds singularity-music drascula-music sox
//
// Every fourth of those tracks (in sorted order) is held out of fitting and
// used only in the validation clips, so model selection (the best epoch;
// the variants that `-vad.sweep` compares) is measured on music the fit
// never heard, as the test split's hold music is.
var (
	trainFlag  = flag.Bool("vad.train", false, "train the VAD model and rewrite model_weights.go")
	sweepFlag  = flag.Bool("vad.sweep", false, "train the model variants of sweepVariants and log their validation scores (writes nothing)")
	musicCache = flag.String("vad.musiccache", "", "keep the training music converted by sox in this directory between runs (default: a temporary directory)")
)

const speechDataDir = "../../shared/data/speech"

// trainMusic lists the Debian game-music tracks the trainer uses: a glob
// and the second each track's excerpt starts at (Planet Blupi's tracks are
// long loops whose intro repeats).
var trainMusic = []struct {
	pkg, glob string
	start     string
}{
	{"planetblupi-music-ogg", "/usr/share/planetblupi/music/*.ogg", "120"},
	{"colobot-common-sounds", "/usr/share/games/colobot/music/*.ogg", "0"},
	{"singularity-music", "/usr/share/games/singularity/music/*.ogg", "20"},
	{"drascula-music", "/usr/share/scummvm/drascula/audio/*.ogg", "0"},
}

// musicDirs converts up to 90 s of each training-music track to a 16 kHz
// WAV and returns the directories of the tracks to fit on and of those
// held out for validation.
func musicDirs(t *testing.T) (fit, val string) {
	var tracks []string
	for _, m := range trainMusic {
		g, _ := filepath.Glob(m.glob)
		if len(g) == 0 {
			t.Fatalf("no tracks at %s (apt-get install %s)", m.glob, m.pkg)
		}
		tracks = append(tracks, g...)
	}
	sort.Strings(tracks)
	root := *musicCache
	if root == "" {
		root = t.TempDir()
	}
	fit, val = filepath.Join(root, "fit"), filepath.Join(root, "val")
	for _, d := range []string{fit, val} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	start := map[string]string{}
	for _, m := range trainMusic {
		g, _ := filepath.Glob(m.glob)
		for _, f := range g {
			start[f] = m.start
		}
	}
	for i, tr := range tracks {
		dir := fit
		if i%4 == 3 {
			dir = val
		}
		name := strings.NewReplacer(" ", "_", "/", "_").Replace(strings.TrimPrefix(strings.TrimSuffix(tr, ".ogg"), "/usr/share/"))
		out := filepath.Join(dir, name+".wav")
		if _, err := os.Stat(out); err == nil {
			continue
		}
		cmd := exec.Command("sox", tr, "-r", "16000", "-c", "1", "-b", "16", out+".tmp.wav", "trim", start[tr], "90")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sox %s: %v %s (apt-get install sox)", tr, err, b)
		}
		if err := os.Rename(out+".tmp.wav", out); err != nil {
			t.Fatal(err)
		}
	}
	return fit, val
}

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
	x     [numFeatures]float32
	y     float32
	music bool // a non-speech hop over music
}

// examples returns every stride-th hop of the items (consecutive hops are
// much alike, so fitting on a subsample loses little and saves time).
func examples(t testing.TB, items []vadeval.Item, stride int) []example {
	var ex []example
	for _, it := range items {
		f := hopFeatures(t, it)
		music := vadeval.BackgroundKind(it.Background) == "music"
		for h := 0; h < len(f); h += stride {
			e := example{music: music && !it.Speech[h]}
			if it.Speech[h] {
				e.y = 1
			}
			for i, v := range f[h] {
				e.x[i] = float32(v)
			}
			ex = append(ex, e)
		}
	}
	return ex
}

// variant is one model configuration the trainer can fit.
type variant struct {
	name   string
	inputs func(i int) bool // which inputs the model sees (others get scale 0)
	h1, h2 int              // hidden units; h2 0 for one hidden layer
	musicW float64          // loss weight of non-speech hops over music
	l2     float64          // weight decay
	noise  float64          // standard deviation of Gaussian noise added to the standardised inputs in fitting
	epochs int
}

func allInputs(int) bool { return true }

// chosen is the configuration TestTrainModel fits (picked by -vad.sweep on
// the validation clips).
var chosen = variant{name: "48-16, music x2, l2 1e-3", inputs: allInputs, h1: 48, h2: 16, musicW: 2, l2: 1e-3, epochs: 10}

// sweepVariants are compared by -vad.sweep.
var sweepVariants = []variant{
	{name: "48-16, music x2, l2 3e-3", inputs: allInputs, h1: 48, h2: 16, musicW: 2, l2: 3e-3, epochs: 10},
	{name: "48-16, music x2, l2 1e-2", inputs: allInputs, h1: 48, h2: 16, musicW: 2, l2: 1e-2, epochs: 10},
	{name: "48-16, music x1, l2 1e-3", inputs: allInputs, h1: 48, h2: 16, musicW: 1, l2: 1e-3, epochs: 10},
	{name: "64-16, music x2, l2 1e-3", inputs: allInputs, h1: 64, h2: 16, musicW: 2, l2: 1e-3, epochs: 10},
}

// net is the float64 training copy of an mlp with Adam moments.
type net struct {
	sizes       []int // inputs, hidden..., 1
	mean, scale [numFeatures]float64
	w, b        [][]float64 // per layer: w row-major out x in
	mw, vw      [][]float64
	mb, vb      [][]float64
	gw, gb      [][]float64
	act, delta  [][]float64 // per layer outputs (act[0] = standardised input)
	step        int
}

func newNet(v variant, ex []example, rng *rand.Rand) *net {
	n := &net{sizes: []int{numFeatures, v.h1}}
	if v.h2 > 0 {
		n.sizes = append(n.sizes, v.h2)
	}
	n.sizes = append(n.sizes, 1)
	for i := 0; i < numFeatures; i++ {
		if !v.inputs(i) {
			continue
		}
		var s, s2 float64
		for k := range ex {
			x := float64(ex[k].x[i])
			s += x
			s2 += x * x
		}
		cnt := float64(len(ex))
		m := s / cnt
		sd := math.Sqrt(math.Max(s2/cnt-m*m, 1e-12))
		n.mean[i], n.scale[i] = m, 1/sd
	}
	L := len(n.sizes) - 1
	mk := func() [][]float64 {
		out := make([][]float64, L)
		for l := range out {
			out[l] = make([]float64, n.sizes[l]*n.sizes[l+1])
		}
		return out
	}
	mkb := func() [][]float64 {
		out := make([][]float64, L)
		for l := range out {
			out[l] = make([]float64, n.sizes[l+1])
		}
		return out
	}
	n.w, n.mw, n.vw, n.gw = mk(), mk(), mk(), mk()
	n.b, n.mb, n.vb, n.gb = mkb(), mkb(), mkb(), mkb()
	n.act = make([][]float64, L+1)
	n.delta = make([][]float64, L+1)
	for l := range n.act {
		n.act[l] = make([]float64, n.sizes[l])
		n.delta[l] = make([]float64, n.sizes[l])
	}
	for l := 0; l < L; l++ {
		lim := 1 / math.Sqrt(float64(n.sizes[l]))
		for i := range n.w[l] {
			n.w[l][i] = (rng.Float64()*2 - 1) * lim
		}
	}
	return n
}

// forward returns the speech probability and leaves the activations in
// act; with rng, it adds Gaussian noise of standard deviation sd to the
// inputs the model sees.
func (n *net) forward(x *[numFeatures]float32, rng *rand.Rand, sd float64) float64 {
	in := n.act[0]
	for i := range in {
		in[i] = (float64(x[i]) - n.mean[i]) * n.scale[i]
		if rng != nil && n.scale[i] != 0 {
			in[i] += sd * rng.NormFloat64()
		}
	}
	L := len(n.w)
	for l := 0; l < L; l++ {
		nin, nout := n.sizes[l], n.sizes[l+1]
		src, dst := n.act[l], n.act[l+1]
		for o := 0; o < nout; o++ {
			a := n.b[l][o]
			row := n.w[l][o*nin : (o+1)*nin]
			for i, w := range row {
				a += w * src[i]
			}
			if l < L-1 {
				a = math.Tanh(a)
			}
			dst[o] = a
		}
	}
	return sigmoid(n.act[L][0])
}

// backward adds the gradient of the loss for output gradient g (dLoss/dlogit).
func (n *net) backward(g float64) {
	L := len(n.w)
	n.delta[L][0] = g
	for l := L - 1; l >= 0; l-- {
		nin, nout := n.sizes[l], n.sizes[l+1]
		src := n.act[l]
		if l > 0 {
			for i := range n.delta[l] {
				n.delta[l][i] = 0
			}
		}
		for o := 0; o < nout; o++ {
			d := n.delta[l+1][o]
			if d == 0 {
				continue
			}
			n.gb[l][o] += d
			row := n.w[l][o*nin : (o+1)*nin]
			grow := n.gw[l][o*nin : (o+1)*nin]
			for i := range row {
				grow[i] += d * src[i]
			}
			if l > 0 {
				for i, w := range row {
					n.delta[l][i] += d * w
				}
			}
		}
		if l > 0 {
			for i, a := range src {
				n.delta[l][i] *= 1 - a*a
			}
		}
	}
}

// epoch runs one pass of minibatch Adam with weighted cross-entropy.
func (n *net) epoch(ex []example, order []int, lr, posW float64, v variant, rng *rand.Rand) float64 {
	const batch = 256
	var loss float64
	for start := 0; start < len(order); start += batch {
		end := min(start+batch, len(order))
		for l := range n.gw {
			clear(n.gw[l])
			clear(n.gb[l])
		}
		for _, k := range order[start:end] {
			e := &ex[k]
			var p float64
			if v.noise > 0 {
				p = n.forward(&e.x, rng, v.noise)
			} else {
				p = n.forward(&e.x, nil, 0)
			}
			y := float64(e.y)
			w := 1.0
			switch {
			case y > 0.5:
				w = posW
			case e.music:
				w = v.musicW
			}
			loss -= w * (y*math.Log(p+1e-9) + (1-y)*math.Log(1-p+1e-9))
			n.backward(w * (p - y))
		}
		cnt := float64(end - start)
		n.step++
		b1c := 1 - math.Pow(0.9, float64(n.step))
		b2c := 1 - math.Pow(0.999, float64(n.step))
		adam := func(p, m, v []float64, g []float64, decay float64) {
			for i := range p {
				gi := g[i]/cnt + decay*p[i]
				m[i] = 0.9*m[i] + 0.1*gi
				v[i] = 0.999*v[i] + 0.001*gi*gi
				p[i] -= lr * (m[i] / b1c) / (math.Sqrt(v[i]/b2c) + 1e-8)
			}
		}
		for l := range n.w {
			adam(n.w[l], n.mw[l], n.vw[l], n.gw[l], v.l2)
			adam(n.b[l], n.mb[l], n.vb[l], n.gb[l], 0)
		}
	}
	return loss / float64(len(order))
}

// score is a model's quality on the validation examples.
type score struct {
	auc, musicFPR, fpr, recall float64
}

func (s score) String() string {
	return fmt.Sprintf("AUC %.4f, recall %.3f, FPR %.3f, music FPR %.3f at 0.5", s.auc, s.recall, s.fpr, s.musicFPR)
}

func (n *net) score(ex []example) score {
	scores := make([]float32, len(ex))
	labels := make([]bool, len(ex))
	var musicNeg, musicFP float64
	for k := range ex {
		p := n.forward(&ex[k].x, nil, 0)
		scores[k] = float32(p)
		labels[k] = ex[k].y > 0.5
		if ex[k].music {
			musicNeg++
			if p >= 0.5 {
				musicFP++
			}
		}
	}
	c := vadeval.Threshold(scores, labels, 0.5)
	return score{auc: vadeval.ROCAUC(scores, labels), musicFPR: musicFP / math.Max(musicNeg, 1),
		fpr: c.FalsePositiveRate(), recall: c.Recall()}
}

func (n *net) snap() [][]float64 {
	var s [][]float64
	for l := range n.w {
		s = append(s, append([]float64(nil), n.w[l]...), append([]float64(nil), n.b[l]...))
	}
	return s
}

func (n *net) restore(s [][]float64) {
	for l := range n.w {
		copy(n.w[l], s[2*l])
		copy(n.b[l], s[2*l+1])
	}
}

// fit trains variant v and returns the network at its best validation
// epoch with that epoch's score.
func fit(t *testing.T, v variant, fitEx, valEx []example) (*net, score) {
	var pos float64
	for _, e := range fitEx {
		pos += float64(e.y)
	}
	posW := (float64(len(fitEx)) - pos) / pos
	rng := rand.New(rand.NewPCG(7, 7))
	n := newNet(v, fitEx, rng)
	order := make([]int, len(fitEx))
	for i := range order {
		order[i] = i
	}
	best, bestScore := n.snap(), score{}
	lr := 3e-3
	for ep := 0; ep < v.epochs; ep++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		loss := n.epoch(fitEx, order, lr, posW, v, rng)
		s := n.score(valEx)
		t.Logf("%s: epoch %2d: loss %.4f validation %v", v.name, ep, loss, s)
		if s.auc > bestScore.auc {
			best, bestScore = n.snap(), s
		}
		if ep >= 2 {
			lr *= 0.75
		}
	}
	n.restore(best)
	return n, bestScore
}

// trainingData generates the fit and validation examples.
func trainingData(t *testing.T) (fitEx, valEx []example, note string) {
	fitMusic, valMusic := musicDirs(t)
	noMOH := t.TempDir() // validation music is the held-out game music alone
	var fitItems, valItems []vadeval.Item
	for _, c := range []struct {
		cfg vadeval.Config
		val bool
	}{
		{vadeval.Config{Split: vadeval.Train, Rate: 8000, Items: 1400, Seed: 11, SpeechDir: speechDataDir, ExtraTrainMusicDir: fitMusic}, false},
		{vadeval.Config{Split: vadeval.Train, Rate: 16000, Items: 500, Seed: 12, SpeechDir: speechDataDir, ExtraTrainMusicDir: fitMusic}, false},
		{vadeval.Config{Split: vadeval.Train, Rate: 8000, Items: 150, Seed: 21, SpeechDir: speechDataDir, MOHDir: noMOH, ExtraTrainMusicDir: valMusic}, true},
		{vadeval.Config{Split: vadeval.Train, Rate: 16000, Items: 70, Seed: 22, SpeechDir: speechDataDir, MOHDir: noMOH, ExtraTrainMusicDir: valMusic}, true},
	} {
		items, err := vadeval.Generate(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if c.val {
			valItems = append(valItems, items...)
		} else {
			fitItems = append(fitItems, items...)
		}
	}
	fitEx, valEx = examples(t, fitItems, 3), examples(t, valItems, 1)
	var pos float64
	for _, e := range fitEx {
		pos += float64(e.y)
	}
	t.Logf("fit %d hops (every 3rd hop of %d clips, %.0f%% speech), validation %d hops (%d clips, held-out music)",
		len(fitEx), len(fitItems), 100*pos/float64(len(fitEx)), len(valEx), len(valItems))
	note = fmt.Sprintf("1400 x 8 kHz + 500 x 16 kHz clips, every 3rd of their hops: %d", len(fitEx))
	return fitEx, valEx, note
}

func TestTrainModel(t *testing.T) {
	if !*trainFlag && !*sweepFlag {
		t.Skip("training runs only with -vad.train or -vad.sweep")
	}
	fitEx, valEx, note := trainingData(t)
	if *sweepFlag {
		for _, v := range sweepVariants {
			_, s := fit(t, v, fitEx, valEx)
			t.Logf("SWEEP %-28s best validation %v", v.name, s)
		}
		return
	}
	n, s := fit(t, chosen, fitEx, valEx)
	shape := fmt.Sprintf("%d", numFeatures)
	for _, h := range n.sizes[1:] {
		shape += fmt.Sprintf("-%d", h)
	}
	src, err := format.Source([]byte(n.source(fmt.Sprintf("%s, MLP %s (%s)", note, shape, chosen.name), s)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("model_weights.go", src, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote model_weights.go: validation %v", s)
}

// source renders the network as model_weights.go.
func (n *net) source(note string, s score) string {
	var b strings.Builder
	f32 := func(v float64) string { return fmt.Sprintf("%.7g", float32(v)) }
	list := func(v []float64) {
		for i, x := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f32(x))
		}
	}
	b.WriteString("// Code generated by TestTrainModel (go test ./vad -run TestTrainModel -vad.train); DO NOT EDIT.\n\n")
	b.WriteString("package vad\n\n")
	fmt.Fprintf(&b, "// Trained on generated TRAIN sets (%s).\n// Validation (held-out music): %v.\n", note, s)
	b.WriteString("var (\n\tmodelMean = [numFeatures]float32{")
	list(n.mean[:])
	b.WriteString("}\n\tmodelScale = [numFeatures]float32{")
	list(n.scale[:])
	h1 := n.sizes[1]
	fmt.Fprintf(&b, "}\n\tmodelW1 = [%d][numFeatures]float32{\n", h1)
	for o := 0; o < h1; o++ {
		b.WriteString("\t\t{")
		list(n.w[0][o*numFeatures : (o+1)*numFeatures])
		b.WriteString("},\n")
	}
	fmt.Fprintf(&b, "\t}\n\tmodelB1 = [%d]float32{", h1)
	list(n.b[0])
	b.WriteString("}\n")
	if len(n.w) == 3 {
		fmt.Fprintf(&b, "\tmodelW2 = [%d]float32{", len(n.w[1]))
		list(n.w[1])
		fmt.Fprintf(&b, "}\n\tmodelB2 = [%d]float32{", len(n.b[1]))
		list(n.b[1])
		b.WriteString("}\n")
	} else {
		b.WriteString("\tmodelW2 = [0]float32{}\n\tmodelB2 = [0]float32{}\n")
	}
	last := len(n.w) - 1
	fmt.Fprintf(&b, "\tmodelWo = [%d]float32{", len(n.w[last]))
	list(n.w[last])
	fmt.Fprintf(&b, "}\n\tmodelBo = float32(%s)\n)\n", f32(n.b[last][0]))
	return b.String()
}

//go:build cgo

package moonshine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/openivr/ivr/asr"
)

// Shape of Moonshine tiny.
const (
	numLayers  = 6
	numKVHeads = 8
	headDim    = 36
)

var (
	envMu   sync.Mutex
	envErr  error
	envDone bool
	envLib  string

	modelsMu sync.Mutex
	models   = map[string]*model{}
)

// initRuntime loads the ONNX Runtime library once per process. The first
// library path wins: a process holds one runtime.
func initRuntime(lib string) error {
	envMu.Lock()
	defer envMu.Unlock()
	if envDone {
		return envErr
	}
	if ort.IsInitialized() {
		envDone, envLib = true, "(initialized elsewhere)"
		return nil
	}
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		// A failed dlopen leaves nothing to clean up; let a later call
		// (another model directory) try again.
		return fmt.Errorf("%w: %s: loading ONNX Runtime %s: %v", asr.ErrUnavailable, Name, lib, err)
	}
	envDone, envLib = true, lib
	return nil
}

// model is the loaded encoder and decoder sessions and the tokenizer,
// shared by every Recognizer of the process that uses the same directory.
// ONNX Runtime sessions accept concurrent Run calls; each runs on the
// calling thread (one intra-op thread).
type model struct {
	dir string
	tok *Tokenizer
	enc *ort.DynamicAdvancedSession
	dec *ort.DynamicAdvancedSession
	// decIn and decOut are the decoder's input and output names in the
	// order the Run calls pass them.
	decIn, decOut []string
	vocab         int
}

// loadModel returns the process's model for dir, loading it once.
func loadModel(dir string) (*model, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	modelsMu.Lock()
	defer modelsMu.Unlock()
	if m, ok := models[abs]; ok {
		return m, nil
	}
	if err := CheckModelDir(abs); err != nil {
		return nil, err
	}
	if err := initRuntime(filepath.Join(abs, RuntimeFile)); err != nil {
		return nil, err
	}
	tok, err := LoadTokenizer(filepath.Join(abs, TokenizerFile))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	m := &model{dir: abs, tok: tok}
	m.decIn = []string{"input_ids", "encoder_hidden_states", "use_cache_branch"}
	m.decOut = []string{"logits"}
	for i := range numLayers {
		for _, part := range []string{"decoder", "encoder"} {
			for _, kv := range []string{"key", "value"} {
				m.decIn = append(m.decIn, fmt.Sprintf("past_key_values.%d.%s.%s", i, part, kv))
				m.decOut = append(m.decOut, fmt.Sprintf("present.%d.%s.%s", i, part, kv))
			}
		}
	}
	if err := m.checkIO(); err != nil {
		return nil, err
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("%s: session options: %w", Name, err)
	}
	defer opts.Destroy()
	for _, f := range []func() error{
		func() error { return opts.SetIntraOpNumThreads(1) },
		func() error { return opts.SetInterOpNumThreads(1) },
		func() error { return opts.SetExecutionMode(ort.ExecutionModeSequential) },
		func() error { return opts.AddSessionConfigEntry("session.intra_op.allow_spinning", "0") },
	} {
		if err := f(); err != nil {
			return nil, fmt.Errorf("%s: session options: %w", Name, err)
		}
	}
	m.enc, err = ort.NewDynamicAdvancedSession(filepath.Join(abs, EncoderFile),
		[]string{"input_values"}, []string{"last_hidden_state"}, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: loading %s: %w", Name, EncoderFile, err)
	}
	m.dec, err = ort.NewDynamicAdvancedSession(filepath.Join(abs, DecoderFile), m.decIn, m.decOut, opts)
	if err != nil {
		m.enc.Destroy()
		return nil, fmt.Errorf("%s: loading %s: %w", Name, DecoderFile, err)
	}
	models[abs] = m
	return m, nil
}

// checkIO verifies that the model files have the inputs and outputs the
// engine drives, so that a different model gives a clear error.
func (m *model) checkIO() error {
	check := func(file string, wantIn, wantOut []string) error {
		in, out, err := ort.GetInputOutputInfo(filepath.Join(m.dir, file))
		if err != nil {
			return fmt.Errorf("%s: reading %s: %w", Name, file, err)
		}
		names := func(infos []ort.InputOutputInfo) []string {
			var s []string
			for _, i := range infos {
				s = append(s, i.Name)
			}
			return s
		}
		for _, w := range wantIn {
			if !slices.Contains(names(in), w) {
				return fmt.Errorf("%s: %s has no input %q (inputs %v): not the Moonshine tiny model", Name, file, w, names(in))
			}
		}
		for _, w := range wantOut {
			if !slices.Contains(names(out), w) {
				return fmt.Errorf("%s: %s has no output %q: not the Moonshine tiny model", Name, file, w)
			}
		}
		for _, o := range out {
			if o.Name == "logits" {
				if d := o.Dimensions; len(d) == 3 && d[2] > 0 {
					m.vocab = int(d[2])
				}
			}
		}
		return nil
	}
	if err := check(EncoderFile, []string{"input_values"}, []string{"last_hidden_state"}); err != nil {
		return err
	}
	if err := check(DecoderFile, m.decIn, m.decOut); err != nil {
		return err
	}
	if m.vocab < m.tok.Size() {
		return fmt.Errorf("%s: the decoder predicts %d tokens, fewer than the tokenizer's %d", Name, m.vocab, m.tok.Size())
	}
	return nil
}

// hidden is the encoder's output for one utterance.
type hidden struct {
	t    *ort.Tensor[float32]
	T, D int64
}

func (h *hidden) destroy() {
	if h != nil && h.t != nil {
		h.t.Destroy()
		h.t = nil
	}
}

// encode runs the encoder on 16 kHz samples in [-1, 1].
func (m *model) encode(x []float32) (*hidden, error) {
	if len(x) == 0 {
		return nil, errors.New("no audio")
	}
	in, err := ort.NewTensor(ort.NewShape(1, int64(len(x))), x)
	if err != nil {
		return nil, err
	}
	defer in.Destroy()
	out := []ort.Value{nil}
	if err := m.enc.Run([]ort.Value{in}, out); err != nil {
		return nil, fmt.Errorf("%s: encoder: %w", Name, err)
	}
	t, ok := out[0].(*ort.Tensor[float32])
	if !ok {
		out[0].Destroy()
		return nil, fmt.Errorf("%s: encoder output is not float32", Name)
	}
	sh := t.GetShape()
	if len(sh) != 3 || sh[0] != 1 || sh[1] <= 0 {
		t.Destroy()
		return nil, fmt.Errorf("%s: encoder output shape %v", Name, sh)
	}
	return &hidden{t: t, T: sh[1], D: sh[2]}, nil
}

// emptyPast returns the empty past key/values the decoder takes on its
// first step.
func emptyPast() ([]ort.Value, error) {
	past := make([]ort.Value, 0, numLayers*4)
	for range numLayers * 4 {
		t, err := ort.NewTensor(ort.NewShape(0, numKVHeads, 1, headDim), []float32{})
		if err != nil {
			destroyAll(past)
			return nil, err
		}
		past = append(past, t)
	}
	return past, nil
}

func destroyAll(vs []ort.Value) {
	for _, v := range vs {
		if v != nil {
			v.Destroy()
		}
	}
}

// run runs one decoder pass: ids is [batch, L], h the encoder states
// (batch copies), past the key/values of earlier tokens (cache) or empty
// ones. It returns the logits [batch, L, vocab] and the present
// key/values (the caller destroys them).
func (m *model) run(ids []int64, batch int, h *ort.Tensor[float32], cache bool, past []ort.Value) ([]float32, []ort.Value, error) {
	L := len(ids) / batch
	idt, err := ort.NewTensor(ort.NewShape(int64(batch), int64(L)), ids)
	if err != nil {
		return nil, nil, err
	}
	defer idt.Destroy()
	uc, err := ort.NewTensor(ort.NewShape(1), []bool{cache})
	if err != nil {
		return nil, nil, err
	}
	defer uc.Destroy()
	in := make([]ort.Value, 0, len(m.decIn))
	in = append(in, idt, h, uc)
	in = append(in, past...)
	out := make([]ort.Value, len(m.decOut))
	if err := m.dec.Run(in, out); err != nil {
		destroyAll(out)
		return nil, nil, fmt.Errorf("%s: decoder: %w", Name, err)
	}
	lt, ok := out[0].(*ort.Tensor[float32])
	if !ok {
		destroyAll(out)
		return nil, nil, fmt.Errorf("%s: decoder logits are not float32", Name)
	}
	sh := lt.GetShape()
	if len(sh) != 3 || sh[0] != int64(batch) || sh[1] != int64(L) || sh[2] != int64(m.vocab) {
		destroyAll(out)
		return nil, nil, fmt.Errorf("%s: decoder logits shape %v, want [%d %d %d]", Name, sh, batch, L, m.vocab)
	}
	logits := lt.GetData()
	lt.Destroy() // the Go slice stays valid: the tensor only wrapped it
	return logits, out[1:], nil
}

// decoded is a free decode's tokens and their log-probabilities.
type decoded struct {
	ids []int     // without the start token and EOS
	lps []float64 // log-probability of each id, then of EOS when reached
	eos bool
}

// greedy decodes h with the key/value cache, EOS forbidden at the first
// step (telephone clips otherwise often end before they begin), at most
// maxLen tokens. It checks ctx between steps.
func (m *model) greedy(ctx context.Context, h *hidden, maxLen int) (decoded, error) {
	var d decoded
	past, err := emptyPast()
	if err != nil {
		return d, err
	}
	defer func() { destroyAll(past) }()
	tok := int64(tokBOS)
	for step := 0; step < maxLen; step++ {
		if err := ctx.Err(); err != nil {
			return d, err
		}
		logits, present, err := m.run([]int64{tok}, 1, h.t, step > 0, past)
		if err != nil {
			return d, err
		}
		// Keep the decoder's new key/values; the encoder's (cross
		// attention) come from the first step and stay.
		for i := range present {
			if step == 0 || isDecoderKV(i) {
				past[i].Destroy()
				past[i] = present[i]
			} else {
				present[i].Destroy()
			}
		}
		best, lp := argmaxLogProb(logits[len(logits)-m.vocab:], step == 0)
		if best == tokEOS {
			d.lps = append(d.lps, lp)
			d.eos = true
			break
		}
		d.ids = append(d.ids, best)
		d.lps = append(d.lps, lp)
		tok = int64(best)
	}
	return d, nil
}

// isDecoderKV tells the self-attention entries of the past/present lists
// (order per layer: decoder key, decoder value, encoder key, encoder
// value).
func isDecoderKV(i int) bool { return i%4 < 2 }

// argmaxLogProb returns the most probable token of one row of logits and
// its log-probability; noEOS leaves EOS out of the choice (not of the
// normalisation).
func argmaxLogProb(row []float32, noEOS bool) (int, float64) {
	best := -1
	bv := float32(math.Inf(-1))
	for k, v := range row {
		if noEOS && k == tokEOS {
			continue
		}
		if v > bv || best < 0 {
			best, bv = k, v
		}
	}
	return best, float64(bv) - logSumExp(row)
}

func logSumExp(row []float32) float64 {
	m := float32(math.Inf(-1))
	for _, v := range row {
		m = max(m, v)
	}
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v - m))
	}
	return float64(m) + math.Log(s)
}

// maxScoreBatch bounds the candidates scored in one decoder pass.
const maxScoreBatch = 32

// score returns the log-probability of each token sequence (ids then EOS)
// given the audio, by teacher forcing in batches without a cache. Each
// sequence's per-token log-probabilities are returned.
func (m *model) score(ctx context.Context, h *hidden, seqs [][]int) ([][]float64, error) {
	out := make([][]float64, len(seqs))
	for lo := 0; lo < len(seqs); lo += maxScoreBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(len(seqs), lo+maxScoreBatch)
		if err := m.scoreBatch(h, seqs[lo:hi], out[lo:hi]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (m *model) scoreBatch(h *hidden, seqs [][]int, out [][]float64) error {
	B := len(seqs)
	L := 1
	for _, s := range seqs {
		L = max(L, len(s)+1) // start token + ids; EOS is predicted at the last position
	}
	ids := make([]int64, B*L)
	for b, s := range seqs {
		row := ids[b*L : (b+1)*L]
		row[0] = tokBOS
		for j := range L - 1 {
			if j < len(s) {
				row[j+1] = int64(s[j])
			} else {
				row[j+1] = tokEOS // padding after the end: causal, never read
			}
		}
	}
	hs := h.t
	if B > 1 {
		src := h.t.GetData()
		rep := make([]float32, 0, B*len(src))
		for range B {
			rep = append(rep, src...)
		}
		t, err := ort.NewTensor(ort.NewShape(int64(B), h.T, h.D), rep)
		if err != nil {
			return err
		}
		defer t.Destroy()
		hs = t
	}
	past, err := emptyPast()
	if err != nil {
		return err
	}
	defer destroyAll(past)
	logits, present, err := m.run(ids, B, hs, false, past)
	if err != nil {
		return err
	}
	destroyAll(present)
	V := m.vocab
	for b, s := range seqs {
		lps := make([]float64, 0, len(s)+1)
		for j := 0; j <= len(s); j++ {
			row := logits[(b*L+j)*V : (b*L+j+1)*V]
			next := tokEOS
			if j < len(s) {
				next = s[j]
			}
			lps = append(lps, float64(row[next])-logSumExp(row))
		}
		out[b] = lps
	}
	return nil
}

//go:build cgo

package moonshine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
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
	bias *biasIndex // the vocabulary's word pieces, for contextual biasing
	dir  string
	tok  *Tokenizer
	enc  *ort.DynamicAdvancedSession
	dec  *ort.DynamicAdvancedSession
	// decIn and decOut are the decoder's input and output names in the
	// order the Run calls pass them: input_ids, encoder_hidden_states,
	// use_cache_branch, then the past key/values; logits, then the
	// present key/values, per layer decoder key, decoder value, encoder
	// key, encoder value.
	decIn, decOut []string
	vocab         int // logits per position, learnt on the first run
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
	m := &model{dir: abs, tok: tok, bias: newBiasIndex(tok)}
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
		// Keep ONNX Runtime's CPU arena (the default): without it
		// decoding was ten times slower on the dev sets.
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
	if err := m.warmUp(); err != nil {
		m.enc.Destroy()
		m.dec.Destroy()
		return nil, fmt.Errorf("%s: %s does not run as the Moonshine tiny model: %w", Name, abs, err)
	}
	models[abs] = m
	return m, nil
}

// warmUp decodes half a second of silence: it checks that the files are
// the model the engine drives, learns the decoder's vocabulary size and
// makes the first call's latency ordinary.
func (m *model) warmUp() error {
	h, err := m.encode(make([]float32, modelRate/2))
	if err != nil {
		return err
	}
	defer h.destroy()
	st, err := m.begin(h)
	if err != nil {
		return err
	}
	defer st.destroy()
	if m.vocab < m.tok.Size() {
		return fmt.Errorf("the decoder predicts %d tokens, fewer than the tokenizer's %d", m.vocab, m.tok.Size())
	}
	_, err = m.greedy(context.Background(), h, st, 2)
	return err
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

// run is the first decoder pass of an utterance: the start token, no
// cache. It returns the logits [1, 1, vocab] and every present key/value
// (the caller destroys them); ONNX Runtime allocates the outputs, whose
// shapes it alone knows here.
func (m *model) runFirst(h *ort.Tensor[float32]) ([]float32, []ort.Value, error) {
	idt, err := ort.NewTensor(ort.NewShape(1, 1), []int64{tokBOS})
	if err != nil {
		return nil, nil, err
	}
	defer idt.Destroy()
	uc, err := ort.NewTensor(ort.NewShape(1), []bool{false})
	if err != nil {
		return nil, nil, err
	}
	defer uc.Destroy()
	past, err := emptyPast()
	if err != nil {
		return nil, nil, err
	}
	defer destroyAll(past)
	in := append([]ort.Value{idt, h, uc}, past...)
	out := make([]ort.Value, len(m.decOut))
	if err := m.dec.Run(in, out); err != nil {
		destroyAll(out)
		return nil, nil, fmt.Errorf("%s: decoder: %w", Name, err)
	}
	lt, ok := out[0].(*ort.Tensor[float32])
	sh := ort.Shape(nil)
	if ok {
		sh = lt.GetShape()
	}
	if !ok || len(sh) != 3 || sh[0] != 1 || sh[1] != 1 || sh[2] <= 0 {
		destroyAll(out)
		return nil, nil, fmt.Errorf("%s: decoder logits shape %v, want [1 1 vocab]", Name, sh)
	}
	if m.vocab == 0 {
		m.vocab = int(sh[2]) // set once, in warmUp, before any sharing
	} else if int(sh[2]) != m.vocab {
		destroyAll(out)
		return nil, nil, fmt.Errorf("%s: decoder logits shape %v, want vocabulary %d", Name, sh, m.vocab)
	}
	logits := lt.GetData()
	lt.Destroy() // the Go slice stays valid: the tensor only wrapped it
	for i, v := range out[1:] {
		if _, ok := v.(*ort.Tensor[float32]); !ok || len(v.GetShape()) != 4 {
			destroyAll(out[1:])
			return nil, nil, fmt.Errorf("%s: decoder output %s is not a 4-d float32 tensor", Name, m.decOut[i+1])
		}
	}
	return logits, out[1:], nil
}

// runCached runs the decoder on ids [batch, L] after the tokens whose
// key/values are in past (the cache branch), with only the outputs named
// in outs bound (others are not fetched): outs maps output names to
// tensors of the right shape that the run fills.
func (m *model) runCached(ids []int64, batch int, h ort.Value, past []ort.Value, outs map[string]ort.Value) error {
	L := len(ids) / batch
	idt, err := ort.NewTensor(ort.NewShape(int64(batch), int64(L)), ids)
	if err != nil {
		return err
	}
	defer idt.Destroy()
	uc, err := ort.NewTensor(ort.NewShape(1), []bool{true})
	if err != nil {
		return err
	}
	defer uc.Destroy()
	b, err := m.dec.CreateIoBinding()
	if err != nil {
		return fmt.Errorf("%s: decoder binding: %w", Name, err)
	}
	defer b.Destroy()
	in := append([]ort.Value{idt, h, uc}, past...)
	for i, v := range in {
		if err := b.BindInput(m.decIn[i], v); err != nil {
			return fmt.Errorf("%s: binding %s: %w", Name, m.decIn[i], err)
		}
	}
	for _, name := range m.decOut {
		if v, ok := outs[name]; ok {
			if err := b.BindOutput(name, v); err != nil {
				return fmt.Errorf("%s: binding %s: %w", Name, name, err)
			}
		}
	}
	if err := m.dec.RunWithBinding(b); err != nil {
		return fmt.Errorf("%s: decoder: %w", Name, err)
	}
	return nil
}

// start is the decoder's state after the start token: the distribution
// of the first token and the key/values (self-attention for the start
// token, cross-attention for the whole utterance) every continuation
// shares.
type start struct {
	logits    []float32 // [vocab]
	past      []ort.Value
	hiddenDim int64
}

func (st *start) destroy() {
	if st != nil {
		destroyAll(st.past)
		st.past = nil
	}
}

// begin runs the decoder on the start token.
func (m *model) begin(h *hidden) (*start, error) {
	logits, present, err := m.runFirst(h.t)
	if err != nil {
		return nil, err
	}
	return &start{logits: logits, past: present, hiddenDim: h.D}, nil
}

// decoded is a free decode's tokens and their log-probabilities.
type decoded struct {
	ids []int     // without the start token and EOS
	lps []float64 // log-probability of each id, then of EOS when reached
	eos bool
}

// greedy decodes from st with the key/value cache, EOS forbidden at the
// first step (telephone clips otherwise often end before they begin), at
// most maxLen tokens. It checks ctx between steps. st is not changed.
func (m *model) greedy(ctx context.Context, h *hidden, st *start, maxLen int) (decoded, error) {
	var d decoded
	past := make([]ort.Value, len(st.past))
	copy(past, st.past)
	owned := make([]bool, len(past)) // entries this decode made and must free
	defer func() {
		for i, v := range past {
			if owned[i] {
				v.Destroy()
			}
		}
	}()
	logits := st.logits
	buf := make([]float32, m.vocab)
	for step := 0; step < maxLen; step++ {
		best, lp := argmaxLogProb(logits, step == 0)
		d.lps = append(d.lps, lp)
		if best == tokEOS {
			d.eos = true
			break
		}
		d.ids = append(d.ids, best)
		if step == maxLen-1 {
			break
		}
		if err := ctx.Err(); err != nil {
			return d, err
		}
		// Bind the logits and the decoder's grown key/values; the
		// cross-attention ones stay those of the start and are not
		// fetched.
		outs := map[string]ort.Value{}
		lt, err := ort.NewTensor(ort.NewShape(1, 1, int64(m.vocab)), buf)
		if err != nil {
			return d, err
		}
		outs[m.decOut[0]] = lt
		next := make([]ort.Value, len(past))
		fail := func(err error) (decoded, error) {
			lt.Destroy()
			destroyAll(next)
			return d, err
		}
		for i, v := range past {
			if !isDecoderKV(i) {
				continue
			}
			sh := v.GetShape()
			sh[2]++
			t, err := ort.NewEmptyTensor[float32](sh)
			if err != nil {
				return fail(err)
			}
			next[i] = t
			outs[m.decOut[i+1]] = t
		}
		if err := m.runCached([]int64{int64(best)}, 1, h.t, past, outs); err != nil {
			return fail(err)
		}
		lt.Destroy()
		for i := range past {
			if next[i] == nil {
				continue
			}
			if owned[i] {
				past[i].Destroy()
			}
			past[i], owned[i] = next[i], true
		}
		logits = buf
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

// maxScoreLogits bounds the logits one scoring pass produces (batch x
// length x vocabulary floats), hence its memory: 16 MB.
const maxScoreLogits = 4 << 20

// score returns, for each token sequence, the log-probability of each of
// its tokens and then of EOS, given the audio, by teacher forcing from
// the start state. A sequence that is a prefix of another (the phrase
// without its final full stop) is read from the longer one's pass: the
// decoder's distribution after the prefix holds both the next token and
// EOS. The rest go in batches, the start's key/values repeated per
// sequence.
func (m *model) score(ctx context.Context, st *start, seqs [][]int) ([][]float64, error) {
	V := m.vocab
	clean := make([][]int, len(seqs))
	for i, s := range seqs {
		c := make([]int, len(s))
		for j, id := range s {
			if id < 0 || id >= V {
				id = tokUnk
			}
			c[j] = id
		}
		clean[i] = c
	}
	// leaf[i]: the index of the longest sequence clean[i] is a prefix of.
	leaf := make([]int, len(clean))
	var leaves []int
	for i, s := range clean {
		leaf[i] = i
		for j, t := range clean {
			if len(t) > len(clean[leaf[i]]) && slices.Equal(t[:len(s)], s) {
				leaf[i] = j
			}
		}
		if leaf[i] == i {
			leaves = append(leaves, i)
		}
	}
	// For each leaf, per position j (after j of its tokens): the
	// log-probability of its next token and of EOS.
	tokLP := map[int][]float64{}
	eosLP := map[int][]float64{}
	first := logSumExp(st.logits)
	for lo := 0; lo < len(leaves); {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		L := 1
		hi := lo
		for hi < len(leaves) {
			l := max(L, len(clean[leaves[hi]]))
			if hi > lo && (hi-lo+1)*l*V > maxScoreLogits {
				break
			}
			L = l
			hi++
		}
		batch := leaves[lo:hi]
		rows, err := m.scoreBatch(st, clean, batch, L)
		if err != nil {
			return nil, err
		}
		for b, k := range batch {
			s := clean[k]
			tl := make([]float64, len(s)+1)
			el := make([]float64, len(s)+1)
			el[0] = float64(st.logits[tokEOS]) - first
			if len(s) > 0 {
				tl[0] = float64(st.logits[s[0]]) - first
			}
			for j := range len(s) {
				row := rows[(b*L+j)*V : (b*L+j+1)*V]
				z := logSumExp(row)
				el[j+1] = float64(row[tokEOS]) - z
				if j+1 < len(s) {
					tl[j+1] = float64(row[s[j+1]]) - z
				}
			}
			tokLP[k], eosLP[k] = tl, el
		}
		lo = hi
	}
	out := make([][]float64, len(clean))
	for i, s := range clean {
		k := leaf[i]
		lps := make([]float64, 0, len(s)+1)
		lps = append(lps, tokLP[k][:len(s)]...)
		out[i] = append(lps, eosLP[k][len(s)])
	}
	return out, nil
}

// scoreBatch runs the sequences seqs[k] for k in batch, padded to L
// tokens, after the start token, and returns their logits [batch, L,
// vocab].
func (m *model) scoreBatch(st *start, seqs [][]int, batch []int, L int) ([]float32, error) {
	V := m.vocab
	B := len(batch)
	ids := make([]int64, B*L)
	for b, k := range batch {
		row := ids[b*L : (b+1)*L]
		for j := range row {
			row[j] = tokEOS // padding after the end: causal, never read
			if j < len(seqs[k]) {
				row[j] = int64(seqs[k][j])
			}
		}
	}
	past := make([]ort.Value, len(st.past))
	defer destroyAll(past)
	for i, v := range st.past {
		t := v.(*ort.Tensor[float32]) // checked in runFirst
		sh := t.GetShape()
		src := t.GetData()
		rep := make([]float32, 0, B*len(src))
		for range B {
			rep = append(rep, src...)
		}
		sh[0] = int64(B)
		r, err := ort.NewTensor(sh, rep)
		if err != nil {
			return nil, err
		}
		past[i] = r
	}
	// The cross-attention states are in the cache; the decoder still
	// takes encoder_hidden_states, for its shape only: one frame will do.
	hs, err := ort.NewTensor(ort.NewShape(int64(B), 1, st.hiddenDim), make([]float32, int64(B)*st.hiddenDim))
	if err != nil {
		return nil, err
	}
	defer hs.Destroy()
	logits := make([]float32, B*L*V)
	lt, err := ort.NewTensor(ort.NewShape(int64(B), int64(L), int64(V)), logits)
	if err != nil {
		return nil, err
	}
	defer lt.Destroy()
	if err := m.runCached(ids, B, hs, past, map[string]ort.Value{m.decOut[0]: lt}); err != nil {
		return nil, err
	}
	return logits, nil
}

// beamHyp is one hypothesis of the beam search.
type beamHyp struct {
	ids []int
	lps []float64 // per token, then EOS when finished
	sum float64
}

// mean is the hypothesis's mean log-probability per token, by which
// finished hypotheses are ranked (a sum would favour short ones).
func (b beamHyp) mean() float64 { return b.sum / float64(max(1, len(b.lps))) }

// beam decodes from st keeping the width most probable prefixes, EOS
// barred at the first step, at most maxLen tokens. It returns up to
// width hypotheses, best first (finished ones; unfinished ones only when
// none finished). It checks ctx between steps.
func (m *model) beam(ctx context.Context, h *hidden, st *start, maxLen, width int, bs *biaser) ([]decoded, error) {
	V := m.vocab
	width = max(1, width)
	var live, done []beamHyp
	z0 := logSumExp(st.logits)
	first, zb0 := st.logits, z0
	if bs != nil {
		first = slices.Clone(st.logits)
		bs.apply(first, nil)
		zb0 = logSumExp(first)
	}
	for _, k := range topK(first, width, tokEOS) {
		lp := float64(st.logits[k]) - z0
		lb := float64(first[k]) - zb0
		live = append(live, beamHyp{ids: []int{k}, lps: []float64{lp}, sum: lb})
	}
	// Cross-attention key/values: the same for every beam, so one
	// replicated buffer serves any number of live beams.
	encRep := make([][]float32, len(st.past))
	var decPast [][]float32 // per decoder entry, [n, heads, len, dim]
	var decShape []ort.Shape
	for i, v := range st.past {
		t := v.(*ort.Tensor[float32])
		src := t.GetData()
		if isDecoderKV(i) {
			decPast = append(decPast, nil)
			decShape = append(decShape, t.GetShape())
			continue
		}
		rep := make([]float32, 0, width*len(src))
		for range width {
			rep = append(rep, src...)
		}
		encRep[i] = rep
		decPast = append(decPast, nil)
		decShape = append(decShape, t.GetShape())
	}
	// The beams' self-attention key/values start as the start token's.
	for i, v := range st.past {
		if !isDecoderKV(i) {
			continue
		}
		src := v.(*ort.Tensor[float32]).GetData()
		rep := make([]float32, 0, len(live)*len(src))
		for range live {
			rep = append(rep, src...)
		}
		decPast[i] = rep
	}
	seqLen := int64(1) // tokens in the self-attention cache
	logits := make([]float32, width*V)
	for step := 1; step < maxLen && len(live) > 0; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := len(live)
		ids := make([]int64, n)
		for b, hy := range live {
			ids[b] = int64(hy.ids[len(hy.ids)-1])
		}
		var vals []ort.Value
		free := func() { destroyAll(vals) }
		past := make([]ort.Value, len(st.past))
		outs := map[string]ort.Value{}
		next := make([][]float32, len(st.past))
		var err error
		for i := range st.past {
			sh := decShape[i].Clone()
			sh[0] = int64(n)
			var t *ort.Tensor[float32]
			if isDecoderKV(i) {
				sh[2] = seqLen
				t, err = ort.NewTensor(sh, decPast[i])
				if err == nil {
					vals = append(vals, t)
					nsh := sh.Clone()
					nsh[2] = seqLen + 1
					next[i] = make([]float32, nsh.FlattenedSize())
					var o *ort.Tensor[float32]
					o, err = ort.NewTensor(nsh, next[i])
					if err == nil {
						vals = append(vals, o)
						outs[m.decOut[i+1]] = o
					}
				}
			} else {
				t, err = ort.NewTensor(sh, encRep[i][:sh.FlattenedSize()])
				if err == nil {
					vals = append(vals, t)
				}
			}
			if err != nil {
				free()
				return nil, err
			}
			past[i] = t
		}
		lt, err := ort.NewTensor(ort.NewShape(int64(n), 1, int64(V)), logits[:n*V])
		if err != nil {
			free()
			return nil, err
		}
		vals = append(vals, lt)
		outs[m.decOut[0]] = lt
		err = m.runCached(ids, n, h.t, past, outs)
		free()
		if err != nil {
			return nil, err
		}
		// Expand every beam by its best tokens and keep the best
		// prefixes overall.
		type cand struct {
			parent, tok int
			lp, sum     float64
		}
		var cands []cand
		var orig []float32
		for b := range n {
			row := logits[b*V : (b+1)*V]
			z := logSumExp(row)
			zb := z
			if bs != nil {
				// Search on the biased scores; report the model's own.
				orig = append(orig[:0], row...)
				bs.apply(row, live[b].ids)
				zb = logSumExp(row)
			}
			for _, k := range topK(row, width, -1) {
				lp := float64(row[k]) - z
				lb := float64(row[k]) - zb
				if bs != nil {
					lp = float64(orig[k]) - z
				}
				cands = append(cands, cand{b, k, lp, live[b].sum + lb})
			}
		}
		sort.Slice(cands, func(i, j int) bool { return cands[i].sum > cands[j].sum })
		var nl []beamHyp
		var parents []int
		for _, c := range cands {
			if len(nl) >= width {
				break
			}
			p := live[c.parent]
			hy := beamHyp{
				ids: append(slices.Clip(p.ids), c.tok),
				lps: append(slices.Clip(p.lps), c.lp),
				sum: c.sum,
			}
			if c.tok == tokEOS {
				hy.ids = hy.ids[:len(hy.ids)-1]
				done = append(done, hy)
				continue
			}
			nl = append(nl, hy)
			parents = append(parents, c.parent)
		}
		seqLen++
		for i := range decPast {
			if next[i] == nil {
				continue
			}
			per := len(next[i]) / n
			g := make([]float32, 0, len(parents)*per)
			for _, p := range parents {
				g = append(g, next[i][p*per:(p+1)*per]...)
			}
			decPast[i] = g
		}
		live = nl
		if len(done) >= width {
			break
		}
		// Sums only fall: once a finished hypothesis outscores every
		// live one, stop (a heuristic for the mean ranking below).
		if len(done) > 0 && len(live) > 0 {
			bestDone := math.Inf(-1)
			for _, d := range done {
				bestDone = max(bestDone, d.sum)
			}
			bestLive := math.Inf(-1)
			for _, l := range live {
				bestLive = max(bestLive, l.sum)
			}
			if bestDone > bestLive {
				break
			}
		}
	}
	eos := len(done) > 0
	if !eos {
		done = live
	}
	sort.SliceStable(done, func(i, j int) bool { return done[i].mean() > done[j].mean() })
	out := make([]decoded, 0, len(done))
	for _, d := range done {
		out = append(out, decoded{ids: d.ids, lps: d.lps, eos: eos})
	}
	return out, nil
}

// topK returns the indices of the k largest values of row, largest
// first, leaving out skip (pass -1 to keep all).
func topK(row []float32, k int, skip int) []int {
	if k <= 0 {
		return nil
	}
	idx := make([]int, 0, k+1)
	for i, v := range row {
		if i == skip {
			continue
		}
		if len(idx) == k && v <= row[idx[k-1]] {
			continue
		}
		j := len(idx)
		if j < k {
			idx = append(idx, i)
		} else {
			j = k - 1
		}
		for j > 0 && row[idx[j-1]] < v {
			idx[j] = idx[j-1]
			j--
		}
		idx[j] = i
	}
	return idx
}

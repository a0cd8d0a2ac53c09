//go:build cgo

package sphinx

/*
#cgo pkg-config: pocketsphinx sphinxbase
#include <stdlib.h>
#include <pocketsphinx.h>
#include <ps_mllr.h>
#include <sphinxbase/err.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/cmn.h>

static ps_decoder_t *ivr_ps_init(int argc, char **argv) {
	cmd_ln_t *cfg = cmd_ln_parse_r(NULL, ps_args(), argc, argv, TRUE);
	if (cfg == NULL) return NULL;
	ps_decoder_t *ps = ps_init(cfg);
	cmd_ln_free_r(cfg);
	return ps;
}

// ivr_swap_float sets a float decoder argument and returns the old value;
// searches read their arguments when they are created.
static double ivr_swap_float(ps_decoder_t *ps, const char *name, double v) {
	cmd_ln_t *c = ps_get_config(ps);
	double old = cmd_ln_float_r(c, name);
	cmd_ln_set_float_r(c, name, v);
	return old;
}

// ivr_cmn_start puts cepstral mean normalization in a known state for a
// new utterance. feat_cmn silently turns a batch setting into live for
// good the first time a decoder sees a partial utterance, and live CMN
// carries the previous utterance's mean; both made results depend on what
// the decoder had decoded before. init (n values, or NULL) is the prior
// mean for live CMN, weighted as prior frames.
static int ivr_cmn_start(ps_decoder_t *ps, int batch, const float *init, int n, int prior) {
	feat_t *f = ps_get_feat(ps);
	if (f == NULL || f->cmn_struct == NULL || f->cmn == CMN_NONE) return 0;
	cmn_t *c = f->cmn_struct;
	f->cmn = batch ? CMN_BATCH : CMN_LIVE;
	if (init == NULL) return 0;
	if (n != c->veclen) return -1;
	for (int i = 0; i < n; i++) {
		c->cmn_mean[i] = init[i];
		c->sum[i] = init[i] * prior;
	}
	c->nframe = prior;
	return 0;
}

// ivr_cmn_update recomputes the live mean from the prior and the frames
// seen so far (pocketsphinx itself only does so every 300 frames).
static void ivr_cmn_update(ps_decoder_t *ps) {
	feat_t *f = ps_get_feat(ps);
	if (f == NULL || f->cmn_struct == NULL || f->cmn != CMN_LIVE) return;
	cmn_live_update(f->cmn_struct);
}

// ivr_cmn_get copies the current cepstral mean (after a batch utterance:
// that utterance's mean) into out; it returns the vector length.
static int ivr_cmn_get(ps_decoder_t *ps, float *out, int n) {
	feat_t *f = ps_get_feat(ps);
	if (f == NULL || f->cmn_struct == NULL) return 0;
	cmn_t *c = f->cmn_struct;
	for (int i = 0; i < n && i < c->veclen; i++) out[i] = c->cmn_mean[i];
	return c->veclen;
}

static void ivr_quiet(void) {
	err_set_logfp(NULL);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"
)

var quietOnce sync.Once

// setupMu serializes the decoder's setup calls into the library (creating
// a decoder, applying an MLLR transform, adding words, compiling a
// search): pocketsphinx keeps process-wide state in them, and a speech
// load test crashed the process ("free(): corrupted unsorted chunks") with
// one goroutine in ps_update_mllr while three others ran ps_init.
// Decoding itself runs in parallel.
var setupMu sync.Mutex

// decoder is one ps_decoder_t and the searches loaded into it. It is used
// by one stream at a time.
type decoder struct {
	ps       *C.ps_decoder_t
	cmnInit  []float32 // the model's initial cepstral mean (-cmninit)
	pd       *pronDict
	words    map[string]bool // words in the decoder's dictionary
	mllr     string          // transform applied to the means; "" for none
	searches map[string]bool
	order    []string // load order, for eviction
}

// maxSearches bounds the compiled searches one decoder keeps.
const maxSearches = 64

func newDecoder(cfg Config) (*decoder, error) {
	quietOnce.Do(func() { C.ivr_quiet() })
	dir := cfg.ModelDir
	if dir == "" {
		dir = DefaultModelDir
	}
	hmm := filepath.Join(dir, "en-us")
	if _, err := os.Stat(filepath.Join(hmm, "mdef")); err != nil {
		return nil, fmt.Errorf("sphinx: model file missing (apt-get install pocketsphinx-en-us): %w", err)
	}
	pd, err := loadDict(filepath.Join(dir, "cmudict-en-us.dict"))
	if err != nil {
		return nil, err
	}
	// The decoder starts with the digits only; each search adds its words
	// when it is loaded (see pronDict).
	dict, err := writeDict(pd, digitWords)
	if err != nil {
		return nil, err
	}
	defer os.Remove(dict)
	args := mergeArgs([]string{"-hmm", hmm, "-dict", dict, "-logfn", "/dev/null"}, defaultArgs, cfg.Args)
	fp, err := featParams(filepath.Join(hmm, "feat.params"), args)
	if err != nil {
		return nil, err
	}
	if fp != "" {
		defer os.Remove(fp)
		args = append(args, "-featparams", fp)
	}
	argv := make([]*C.char, len(args))
	for i, a := range args {
		argv[i] = C.CString(a)
	}
	defer func() {
		for _, p := range argv {
			C.free(unsafe.Pointer(p))
		}
	}()
	setupMu.Lock()
	ps := C.ivr_ps_init(C.int(len(argv)), &argv[0])
	setupMu.Unlock()
	if ps == nil {
		return nil, fmt.Errorf("sphinx: decoder init failed (args %v)", args)
	}
	d := &decoder{ps: ps, searches: map[string]bool{}, pd: pd, words: map[string]bool{}}
	for _, w := range digitWords {
		d.words[w] = true
	}
	d.cmnInit = d.cmnMean()
	return d, nil
}

// cmnMean returns the current cepstral mean vector.
func (d *decoder) cmnMean() []float32 {
	v := make([]float32, 64)
	n := int(C.ivr_cmn_get(d.ps, (*C.float)(unsafe.Pointer(&v[0])), C.int(len(v))))
	return v[:min(n, len(v))]
}

// mergeArgs joins flag/value pair lists; a flag given again replaces the
// earlier value in place (pocketsphinx rejects a flag given twice).
func mergeArgs(lists ...[]string) []string {
	var out []string
	at := map[string]int{}
	for _, l := range lists {
		for i := 0; i+1 < len(l); i += 2 {
			if j, ok := at[l[i]]; ok {
				out[j+1] = l[i+1]
				continue
			}
			at[l[i]] = len(out)
			out = append(out, l[i], l[i+1])
		}
	}
	return out
}

// featParams handles front-end arguments the model's feat.params also
// sets: pocketsphinx applies that file after the command line, so such
// arguments would be silently ignored. When args set any of them it writes
// a merged copy to a temporary file and returns its path ("" when none).
func featParams(path string, args []string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("sphinx: %w", err)
	}
	var keys []string
	vals := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 {
			keys = append(keys, f[0])
			vals[f[0]] = f[1]
		}
	}
	changed := false
	for i := 0; i+1 < len(args); i += 2 {
		if _, ok := vals[args[i]]; ok {
			vals[args[i]] = args[i+1]
			changed = true
		}
	}
	if !changed {
		return "", nil
	}
	var out strings.Builder
	for _, k := range keys {
		out.WriteString(k + " " + vals[k] + "\n")
	}
	f, err := os.CreateTemp("", "ivr-feat-*.params")
	if err != nil {
		return "", fmt.Errorf("sphinx: %w", err)
	}
	_, werr := f.WriteString(out.String())
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("sphinx: write feature parameters: %w", err)
	}
	return f.Name(), nil
}

func (d *decoder) free() {
	if d.ps != nil {
		C.ps_free(d.ps)
		d.ps = nil
	}
}

// writeDict writes the pronunciations of words to a temporary file in
// CMUdict format and returns its path.
func writeDict(pd *pronDict, words []string) (string, error) {
	var b strings.Builder
	for _, w := range words {
		for i, p := range pd.prons(w) {
			if i == 0 {
				fmt.Fprintf(&b, "%s %s\n", w, p)
			} else {
				fmt.Fprintf(&b, "%s(%d) %s\n", w, i+1, p)
			}
		}
	}
	f, err := os.CreateTemp("", "ivr-*.dict")
	if err != nil {
		return "", fmt.Errorf("sphinx: %w", err)
	}
	_, werr := f.WriteString(b.String())
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("sphinx: write dictionary: %w", err)
	}
	return f.Name(), nil
}

// ensureWords adds the words the decoder's dictionary lacks. Adding a word
// also adds it as a unigram to every language model already loaded, which
// would make a model's behaviour depend on what was loaded after it, so
// every loaded search is dropped first (they reload in about a
// millisecond with a small dictionary).
// ensureWords is called with setupMu held (from use).
func (d *decoder) ensureWords(words []string) error {
	var missing []string
	for _, w := range words {
		if !d.words[w] {
			missing = append(missing, w)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	for _, name := range d.order {
		cn := C.CString(name)
		C.ps_unset_search(d.ps, cn)
		C.free(unsafe.Pointer(cn))
	}
	d.order = d.order[:0]
	clear(d.searches)
	for _, w := range missing {
		prons := d.pd.prons(w)
		if len(prons) == 0 {
			return fmt.Errorf("sphinx: no pronunciation for %q", w)
		}
		for i, p := range prons {
			name := w
			if i > 0 {
				name = fmt.Sprintf("%s(%d)", w, i+1)
			}
			cw, cp := C.CString(name), C.CString(p)
			rc := C.ps_add_word(d.ps, cw, cp, 0)
			C.free(unsafe.Pointer(cw))
			C.free(unsafe.Pointer(cp))
			if rc < 0 {
				return fmt.Errorf("sphinx: cannot add word %q /%s/", name, p)
			}
		}
		d.words[w] = true
	}
	return nil
}

// use makes s the active search, loading it first if needed.
func (d *decoder) use(s search) error {
	setupMu.Lock()
	defer setupMu.Unlock()
	if err := d.ensureWords(s.words); err != nil {
		return err
	}
	if !d.searches[s.name] {
		if len(d.order) >= maxSearches {
			old := d.order[0]
			d.order = d.order[1:]
			delete(d.searches, old)
			co := C.CString(old)
			C.ps_unset_search(d.ps, co)
			C.free(unsafe.Pointer(co))
		}
		cn := C.CString(s.name)
		defer C.free(unsafe.Pointer(cn))
		switch s.kind {
		case kindJSGF:
			ct := C.CString(s.text)
			var old C.double
			wip := C.CString("-wip")
			if s.wip > 0 {
				old = C.ivr_swap_float(d.ps, wip, C.double(s.wip))
			}
			rc := C.ps_set_jsgf_string(d.ps, cn, ct)
			if s.wip > 0 {
				C.ivr_swap_float(d.ps, wip, old)
			}
			C.free(unsafe.Pointer(wip))
			C.free(unsafe.Pointer(ct))
			if rc < 0 {
				return fmt.Errorf("sphinx: grammar rejected")
			}
		case kindLM:
			f, err := os.CreateTemp("", "ivr-lm-*.arpa")
			if err != nil {
				return fmt.Errorf("sphinx: %w", err)
			}
			path := f.Name()
			_, werr := f.WriteString(s.text)
			cerr := f.Close()
			if err := errors.Join(werr, cerr); err != nil {
				os.Remove(path)
				return fmt.Errorf("sphinx: write language model: %w", err)
			}
			cp := C.CString(path)
			rc := C.ps_set_lm_file(d.ps, cn, cp)
			C.free(unsafe.Pointer(cp))
			os.Remove(path)
			if rc < 0 {
				return fmt.Errorf("sphinx: language model rejected")
			}
		default:
			return fmt.Errorf("sphinx: unknown search kind %q", s.kind)
		}
		d.searches[s.name] = true
		d.order = append(d.order, s.name)
	}
	cn := C.CString(s.name)
	defer C.free(unsafe.Pointer(cn))
	if C.ps_set_search(d.ps, cn) < 0 {
		return fmt.Errorf("sphinx: cannot select search %s", s.name)
	}
	return nil
}

// start begins an utterance from a state that does not depend on earlier
// utterances: a new stream (the front end's noise estimate is reset) and
// cepstral mean normalization either over the whole utterance (batch) or
// live from init (nil: the model's -cmninit) weighted as prior frames.
// One piece of state remains that pocketsphinx offers no way to reset:
// the acoustic model's Gaussian selection starts from the top-N codewords
// of the previous utterance's last frames, which moves confidences by a
// few percent (a throwaway priming utterance did not remove it).
func (d *decoder) start(batch bool, init []float32, prior int) error {
	if C.ps_start_stream(d.ps) < 0 {
		return errors.New("sphinx: start stream failed")
	}
	if init == nil {
		init = d.cmnInit
	}
	var p *C.float
	if len(init) > 0 {
		p = (*C.float)(unsafe.Pointer(&init[0]))
	}
	b := C.int(0)
	if batch {
		b = 1
	}
	if C.ivr_cmn_start(d.ps, b, p, C.int(len(init)), C.int(max(1, prior))) < 0 {
		return fmt.Errorf("sphinx: cepstral mean has %d values, the model wants another length", len(init))
	}
	if C.ps_start_utt(d.ps) < 0 {
		return errors.New("sphinx: start utterance failed")
	}
	return nil
}

// adapt applies the MLLR transform in file (re-reading the model's means
// first), or none when file is "", unless it is already in place.
func (d *decoder) adapt(file string) error {
	if file == d.mllr {
		return nil
	}
	path := file
	if path == "" {
		p, err := identityMLLR()
		if err != nil {
			return err
		}
		path = p
	}
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	setupMu.Lock()
	defer setupMu.Unlock()
	m := C.ps_mllr_read(cp)
	if m == nil {
		return fmt.Errorf("sphinx: cannot read MLLR transform %s", path)
	}
	// The decoder takes the reference (and frees the transform it replaces).
	if C.ps_update_mllr(d.ps, m) == nil {
		return fmt.Errorf("sphinx: cannot apply MLLR transform %s", path)
	}
	d.mllr = file
	return nil
}

// cmnUpdate folds the frames decoded so far into the live cepstral mean.
func (d *decoder) cmnUpdate() { C.ivr_cmn_update(d.ps) }

// process decodes s; full says s is the whole utterance, which lets the
// decoder normalize cepstra over the utterance (batch CMN) instead of
// tracking a running mean.
func (d *decoder) process(s []int16, full bool) error {
	if len(s) == 0 {
		return nil
	}
	fu := C.int(0)
	if full {
		fu = 1
	}
	if C.ps_process_raw(d.ps, (*C.int16)(unsafe.Pointer(&s[0])), C.size_t(len(s)), 0, fu) < 0 {
		return errors.New("sphinx: process failed")
	}
	return nil
}

func (d *decoder) end() error {
	if C.ps_end_utt(d.ps) < 0 {
		return errors.New("sphinx: end utterance failed")
	}
	return nil
}

// hyp returns the current best hypothesis with filler words removed.
func (d *decoder) hyp() string {
	var score C.int32
	h := C.ps_get_hyp(d.ps, &score)
	if h == nil {
		return ""
	}
	return cleanHyp(C.GoString(h))
}

// nbest returns up to n best paths from the lattice, best first, with
// filler words removed (paths that differ only in fillers or
// pronunciation variants repeat the same text) and their path scores in
// the search's units (log base as the decoder's logmath, right-shifted by
// SENSCR_SHIFT; higher is better).
func (d *decoder) nbest(n int) (hyps []string, scores []int) {
	if n <= 0 {
		return nil, nil
	}
	it := C.ps_nbest(d.ps)
	for ; it != nil && len(hyps) < n; it = C.ps_nbest_next(it) {
		var sc C.int32
		h := C.ps_nbest_hyp(it, &sc)
		if h == nil {
			continue
		}
		hyps = append(hyps, cleanHyp(C.GoString(h)))
		scores = append(scores, int(sc))
	}
	if it != nil {
		C.ps_nbest_free(it)
	}
	return hyps, scores
}

// logBase is the natural log of the decoder's logmath base.
func (d *decoder) lnBase() float64 {
	return float64(C.logmath_log_to_ln(C.ps_get_logmath(d.ps), 1))
}

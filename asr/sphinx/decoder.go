//go:build cgo

package sphinx

/*
#cgo pkg-config: pocketsphinx sphinxbase
#include <stdlib.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>

static ps_decoder_t *ivr_ps_init(int argc, char **argv) {
	cmd_ln_t *cfg = cmd_ln_parse_r(NULL, ps_args(), argc, argv, TRUE);
	if (cfg == NULL) return NULL;
	ps_decoder_t *ps = ps_init(cfg);
	cmd_ln_free_r(cfg);
	return ps;
}

static double ivr_posterior(ps_decoder_t *ps) {
	int32 p = ps_get_prob(ps);
	return logmath_exp(ps_get_logmath(ps), p);
}

// ivr_swap_float sets a float decoder argument and returns the old value;
// searches read their arguments when they are created.
static double ivr_swap_float(ps_decoder_t *ps, const char *name, double v) {
	cmd_ln_t *c = ps_get_config(ps);
	double old = cmd_ln_float_r(c, name);
	cmd_ln_set_float_r(c, name, v);
	return old;
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
	"sync"
	"unsafe"
)

var quietOnce sync.Once

// decoder is one ps_decoder_t and the searches loaded into it. It is used
// by one stream at a time.
type decoder struct {
	ps       *C.ps_decoder_t
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
	dict := filepath.Join(dir, "cmudict-en-us.dict")
	for _, p := range []string{filepath.Join(hmm, "mdef"), dict} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("sphinx: model file missing (apt-get install pocketsphinx-en-us): %w", err)
		}
	}
	args := []string{"-hmm", hmm, "-dict", dict, "-logfn", "/dev/null"}
	args = append(args, defaultArgs...)
	args = append(args, cfg.Args...)
	argv := make([]*C.char, len(args))
	for i, a := range args {
		argv[i] = C.CString(a)
	}
	defer func() {
		for _, p := range argv {
			C.free(unsafe.Pointer(p))
		}
	}()
	ps := C.ivr_ps_init(C.int(len(argv)), &argv[0])
	if ps == nil {
		return nil, fmt.Errorf("sphinx: decoder init failed (args %v)", args)
	}
	return &decoder{ps: ps, searches: map[string]bool{}}, nil
}

func (d *decoder) free() {
	if d.ps != nil {
		C.ps_free(d.ps)
		d.ps = nil
	}
}

// known reports whether the dictionary has w.
func (d *decoder) known(w string) bool {
	cw := C.CString(w)
	defer C.free(unsafe.Pointer(cw))
	p := C.ps_lookup_word(d.ps, cw)
	if p == nil {
		return false
	}
	C.free(unsafe.Pointer(p))
	return true
}

// addWord adds a pronunciation (space-separated phones) to the dictionary.
func (d *decoder) addWord(w, phones string) error {
	cw, cp := C.CString(w), C.CString(phones)
	defer C.free(unsafe.Pointer(cw))
	defer C.free(unsafe.Pointer(cp))
	if C.ps_add_word(d.ps, cw, cp, 1) < 0 {
		return fmt.Errorf("sphinx: cannot add word %q /%s/", w, phones)
	}
	return nil
}

// use makes s the active search, loading it first if needed.
func (d *decoder) use(s search) error {
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

func (d *decoder) start() error {
	if C.ps_start_utt(d.ps) < 0 {
		return errors.New("sphinx: start utterance failed")
	}
	return nil
}

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

// posterior is the hypothesis' lattice posterior probability, 0..1.
func (d *decoder) posterior() float64 {
	return float64(C.ivr_posterior(d.ps))
}

// nbest returns up to n distinct hypotheses with their path scores
// (log-base as the decoder's logmath; higher is better).
func (d *decoder) nbest(n int) (hyps []string, scores []int) {
	if n <= 0 {
		return nil, nil
	}
	it := C.ps_nbest(d.ps)
	seen := map[string]bool{}
	for tries := 0; it != nil && len(hyps) < n && tries < 50*n; tries++ {
		var sc C.int32
		h := C.ps_nbest_hyp(it, &sc)
		if h != nil {
			t := cleanHyp(C.GoString(h))
			if !seen[t] {
				seen[t] = true
				hyps = append(hyps, t)
				scores = append(scores, int(sc))
			}
		}
		it = C.ps_nbest_next(it)
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

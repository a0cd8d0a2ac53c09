//go:build cgo

package embedded

/*
#cgo LDFLAGS: -lflite_cmu_us_kal -lflite_cmu_us_kal16 -lflite_cmu_us_slt -lflite_cmu_us_awb -lflite_cmu_us_rms -lflite_usenglish -lflite_cmulex -lflite -lm
#include <stdint.h>
#include <stdlib.h>
#include <flite/flite.h>

// The voice libraries of Debian's flite1-dev. Each register function hands
// back one cached voice, kept in these variables.
extern cst_voice *cmu_us_kal_diphone, *cmu_us_kal16_diphone;
extern cst_voice *cmu_us_slt_cg, *cmu_us_awb_cg, *cmu_us_rms_cg;
cst_voice *register_cmu_us_kal(const char *voxdir);
cst_voice *register_cmu_us_kal16(const char *voxdir);
cst_voice *register_cmu_us_slt(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);

extern int ivrFliteChunk(uintptr_t h, short *samples, int n, int rate);

// ivr_asc is flite's audio streaming callback: it hands each chunk of
// samples to Go as the waveform synthesis makes it.
static int ivr_asc(const cst_wave *w, int start, int size, int last, cst_audio_streaming_info *asi) {
	if (size <= 0) return CST_AUDIO_STREAM_CONT;
	return ivrFliteChunk((uintptr_t)asi->userdata, w->samples + start, size, w->sample_rate);
}

// ivr_flite_new_voice makes a new instance of a voice: its features (which
// synthesis reads and reference-counts without locks) are its own, while the
// lexicon and the unit or parameter databases are static, read-only data
// that instances share. The register functions return their cached voice,
// so the cache is cleared first; the caller serializes these calls.
static cst_voice *ivr_flite_new_voice(int id) {
	switch (id) {
	case 0: cmu_us_kal_diphone = NULL; return register_cmu_us_kal(NULL);
	case 1: cmu_us_kal16_diphone = NULL; return register_cmu_us_kal16(NULL);
	case 2: cmu_us_slt_cg = NULL; return register_cmu_us_slt(NULL);
	case 3: cmu_us_awb_cg = NULL; return register_cmu_us_awb(NULL);
	case 4: cmu_us_rms_cg = NULL; return register_cmu_us_rms(NULL);
	}
	return NULL;
}

// ivr_flite_speak synthesizes text with v as one utterance, streaming the
// audio to Go (handle h) in chunks of at least minbuf samples. The
// streaming info is set on the utterance, not on the shared voice, so
// utterances on different instances do not see each other's callbacks.
// It returns 0, or -1 when synthesis failed or the callback stopped it.
static int ivr_flite_speak(cst_voice *v, const char *text, uintptr_t h, int minbuf) {
	cst_utterance *u = new_utterance();
	cst_audio_streaming_info *asi = new_audio_streaming_info();
	asi->asc = ivr_asc;
	asi->userdata = (void *)h;
	asi->min_buffsize = minbuf;
	feat_set(u->features, "streaming_info", audio_streaming_info_val(asi));
	utt_set_input_text(u, text);
	u = flite_do_synth(u, v, utt_synth); // frees u on failure
	if (u == NULL) return -1;
	delete_utterance(u);
	return 0;
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/cgo"
	"sync"
	"unsafe"

	"github.com/openivr/ivr/tts"
)

// libVoiceIDs are the voices linked into the process, by the id
// ivr_flite_new_voice knows them by. awb_time (a limited-domain voice that
// only speaks times) is left to the flite program.
var libVoiceIDs = map[string]C.int{"kal": 0, "kal16": 1, "slt": 2, "awb": 3, "rms": 4}

// fliteLibBuilt reports that this build links libflite.
const fliteLibBuilt = true

// fliteLib is flite linked into the process: pools of voice instances, one
// pool per voice, each instance used by one utterance at a time.
type fliteLib struct {
	instances int // per voice; the most utterances of one voice at once

	mu    sync.Mutex
	pools map[string]*voicePool
}

// regMu serializes voice registration and flite_init: they write flite's
// globals (the register functions' caches, the lexicon's lazy setup).
var (
	regMu    sync.Mutex
	initOnce sync.Once
)

// newFliteLib returns a library handle allowing instances utterances of
// one voice at once (0 means one per CPU).
func newFliteLib(instances int) *fliteLib {
	if instances <= 0 {
		instances = runtime.GOMAXPROCS(0)
	}
	return &fliteLib{instances: instances, pools: map[string]*voicePool{}}
}

// defaultLib is the process's flite library: voices are registered once
// per process and kept.
var defaultLib = sync.OnceValue(func() *fliteLib { return newFliteLib(0) })

// hasVoice reports whether voice is linked in.
func (l *fliteLib) hasVoice(voice string) bool {
	_, ok := libVoiceIDs[voice]
	return ok
}

func (l *fliteLib) pool(voice string) (*voicePool, error) {
	id, ok := libVoiceIDs[voice]
	if !ok {
		return nil, &VoiceError{Engine: "flite", Voice: voice}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.pools[voice]
	if p == nil {
		p = &voicePool{id: id, idle: make(chan *C.cst_voice, l.instances), permits: make(chan struct{}, l.instances)}
		l.pools[voice] = p
	}
	return p, nil
}

// voicePool hands out instances of one voice, making them on demand up to
// its capacity; instances live as long as the process.
type voicePool struct {
	id      C.int
	idle    chan *C.cst_voice // instances not in use
	permits chan struct{}     // one per instance made
}

func (p *voicePool) get(ctx context.Context) (*C.cst_voice, error) {
	select {
	case v := <-p.idle:
		return v, nil
	default:
	}
	select {
	case v := <-p.idle:
		return v, nil
	case p.permits <- struct{}{}:
		initOnce.Do(func() {
			regMu.Lock()
			C.flite_init()
			regMu.Unlock()
		})
		regMu.Lock()
		v := C.ivr_flite_new_voice(p.id)
		regMu.Unlock()
		if v == nil {
			<-p.permits
			return nil, fmt.Errorf("tts/embedded: flite could not register voice %d", p.id)
		}
		return v, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *voicePool) put(v *C.cst_voice) { p.idle <- v }

// warm makes one instance of voice so that the first request does not pay
// for it.
func (l *fliteLib) warm(voice string) error {
	p, err := l.pool(voice)
	if err != nil {
		return err
	}
	v, err := p.get(context.Background())
	if err != nil {
		return err
	}
	p.put(v)
	return nil
}

// libUtterance is the Go side of one utterance being synthesized: where
// ivrFliteChunk sends the audio.
type libUtterance struct {
	ctx  context.Context
	sink pcmSink
	// stop is why synthesis was told to stop: tts.ErrClosed when the
	// consumer closed the stream, or the context's error. Only the
	// goroutine that calls flite touches it (the callback runs on it).
	stop error
}

// errFliteFailed reports an utterance flite could not synthesize.
var errFliteFailed = errors.New("tts/embedded: flite failed to synthesize")

//export ivrFliteChunk
func ivrFliteChunk(h C.uintptr_t, samples *C.short, n, rate C.int) C.int {
	u := cgo.Handle(h).Value().(*libUtterance)
	if err := u.ctx.Err(); err != nil {
		u.stop = err
		return C.CST_AUDIO_STREAM_STOP
	}
	s := unsafe.Slice((*int16)(unsafe.Pointer(samples)), int(n))
	if err := u.sink.Write(int(rate), s); err != nil {
		u.stop = err
		return C.CST_AUDIO_STREAM_STOP
	}
	return C.CST_AUDIO_STREAM_CONT
}

// minChunk is the smallest piece, in samples at the voice's rate, flite
// hands over while streaming: flite's own default (16 ms at 16 kHz).
const minChunk = 256

// speak synthesizes chunks one after another into pipe, each as one
// utterance on an instance of voice taken for that chunk only, so a long
// text does not hold an instance other calls are waiting for. It finishes
// the pipe.
func (l *fliteLib) speak(ctx context.Context, voice string, chunks []string, pipe *tts.Pipe) {
	pipe.Finish(l.speakChunks(ctx, voice, chunks, pipe))
}

// pcmSink takes audio as flite makes it; a *tts.Pipe is one.
type pcmSink interface {
	Write(rate int, samples []int16) error
}

func (l *fliteLib) speakChunks(ctx context.Context, voice string, chunks []string, sink pcmSink) error {
	p, err := l.pool(voice)
	if err != nil {
		return err
	}
	u := &libUtterance{ctx: ctx, sink: sink}
	h := cgo.NewHandle(u)
	defer h.Delete()
	for _, chunk := range chunks {
		if err := ctx.Err(); err != nil {
			return err
		}
		text := C.CString(chunk)
		v, err := p.get(ctx)
		if err != nil {
			C.free(unsafe.Pointer(text))
			return err
		}
		rc := C.ivr_flite_speak(v, text, C.uintptr_t(h), minChunk)
		p.put(v)
		C.free(unsafe.Pointer(text))
		if errors.Is(u.stop, tts.ErrClosed) {
			return nil // closed by the consumer: not a failure
		}
		if u.stop != nil {
			return u.stop
		}
		if rc != 0 {
			return fmt.Errorf("%w: %q", errFliteFailed, chunk)
		}
	}
	return nil
}

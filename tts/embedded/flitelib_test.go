//go:build cgo && unix

package embedded

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/tts"
)

var libTexts = []string{
	"Your balance today is one hundred and twelve pounds forty, thank you.",
	"Please say yes or no.",
	"Your reference number is four two seven, one nine eight.",
}

// The diphone voices linked in are the same voices the flite program
// speaks with: sample for sample. The clustergen voices (slt, awb, rms)
// excite their vocoder with random noise, so only their length is
// comparable, and their level.
func TestFliteLibMatchesProgram(t *testing.T) {
	need(t, "flite")
	ctx := context.Background()
	lib, prog := &Flite{}, &Flite{Subprocess: true}
	for _, v := range []string{"kal", "kal16", "slt", "awb", "rms"} {
		if !lib.InProcess(v) || prog.InProcess(v) {
			t.Fatalf("%s: in-process %v, program in-process %v", v, lib.InProcess(v), prog.InProcess(v))
		}
		for _, text := range libTexts {
			a, err := tts.Render(ctx, lib, tts.Request{Text: text, Voice: v})
			if err != nil {
				t.Fatal(err)
			}
			b, err := tts.Render(ctx, prog, tts.Request{Text: text, Voice: v})
			if err != nil {
				t.Fatal(err)
			}
			if a.Rate != b.Rate || len(a.Samples) != len(b.Samples) {
				t.Fatalf("%s %q: library %d samples at %d Hz, program %d at %d Hz", v, text, len(a.Samples), a.Rate, len(b.Samples), b.Rate)
			}
			if strings.HasPrefix(v, "kal") {
				for i := range a.Samples {
					if a.Samples[i] != b.Samples[i] {
						t.Fatalf("%s %q: sample %d differs: %d, program %d", v, text, i, a.Samples[i], b.Samples[i])
					}
				}
			} else if d := 20 * math.Log10(rms(a.Samples)/rms(b.Samples)); math.Abs(d) > 1 {
				t.Fatalf("%s %q: level differs by %.1f dB", v, text, d)
			}
		}
	}
	if lib.InProcess("awb_time") {
		t.Error("awb_time is not linked in; it must go to the program")
	}
	if (&Flite{Program: "/usr/bin/flite"}).InProcess("kal16") {
		t.Error("an explicit Program must select the program")
	}
}

// chunkLog records what flite hands over and when.
type chunkLog struct {
	sizes []int
	rates []int
	at    []time.Time
	stop  int // return tts.ErrClosed from this write on (0: never)
}

func (c *chunkLog) Write(rate int, s []int16) error {
	c.sizes = append(c.sizes, len(s))
	c.rates = append(c.rates, rate)
	c.at = append(c.at, time.Now())
	if c.stop > 0 && len(c.sizes) >= c.stop {
		return tts.ErrClosed
	}
	return nil
}

// Within one clause the audio arrives in many small pieces as the waveform
// is made, not once at the end.
func TestFliteLibStreamsWithinAClause(t *testing.T) {
	clause := "your balance today is one hundred and twelve pounds forty and your next payment of fifty pounds is due on the third of april"
	for _, v := range []string{"kal16", "kal", "slt"} {
		var log chunkLog
		if err := defaultLib().speakChunks(context.Background(), v, []string{clause}, &log); err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, n := range log.sizes {
			total += n
		}
		if len(log.sizes) < 20 || log.sizes[0] > total/10 || log.sizes[0] < minChunk {
			t.Fatalf("%s: %d pieces, first %d of %d samples: not streamed", v, len(log.sizes), log.sizes[0], total)
		}
		if log.rates[0] != fliteVoices[v] {
			t.Fatalf("%s: rate %d, want %d", v, log.rates[0], fliteVoices[v])
		}
	}
}

// A sink that refuses more audio (the caller hung up) stops flite in the
// middle of a clause, and that is not an error; a context that ends does
// the same and is one.
func TestFliteLibStops(t *testing.T) {
	long := []string{strings.Repeat("and this goes on and on ", 20), "never said"}
	log := chunkLog{stop: 3}
	if err := defaultLib().speakChunks(context.Background(), "kal16", long, &log); err != nil {
		t.Fatalf("closed sink: %v", err)
	}
	if len(log.sizes) != 3 {
		t.Fatalf("flite went on for %d pieces after the sink closed at 3", len(log.sizes))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var log2 chunkLog
	if err := defaultLib().speakChunks(ctx, "kal16", long, &log2); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	var ve *VoiceError
	if err := defaultLib().speakChunks(context.Background(), "nobody", long, &log2); !errors.As(err, &ve) {
		t.Fatalf("unknown voice: %v", err)
	}
}

// Several calls synthesizing at once, on fewer voice instances than calls
// and on several voices, get exactly what each gets alone (the diphone
// voices are deterministic; the clustergen ones keep their length), and
// no goroutine outlives its stream.
func TestFliteLibConcurrent(t *testing.T) {
	defer goleak.VerifyNone(t)
	lib := newFliteLib(2)
	ctx := context.Background()
	voices := []string{"kal16", "kal", "slt"}
	ref := map[string]audio.Clip{}
	for _, v := range voices {
		for _, text := range libTexts {
			c, err := tts.Render(ctx, &Flite{lib: lib}, tts.Request{Text: text, Voice: v, Rate: 8000})
			if err != nil {
				t.Fatal(err)
			}
			ref[v+"|"+text] = c
		}
	}
	const calls, rounds = 6, 4
	errs := make(chan error, calls*rounds*len(libTexts))
	var wg sync.WaitGroup
	for g := range calls {
		wg.Go(func() {
			for r := range rounds {
				v := voices[(g+r)%len(voices)]
				for _, text := range libTexts {
					c, err := tts.Render(ctx, &Flite{lib: lib}, tts.Request{Text: text, Voice: v, Rate: 8000})
					if err != nil {
						errs <- err
						continue
					}
					want := ref[v+"|"+text]
					if len(c.Samples) != len(want.Samples) {
						errs <- fmt.Errorf("%s %q: %d samples, alone %d", v, text, len(c.Samples), len(want.Samples))
						continue
					}
					if v == "slt" {
						continue
					}
					for i := range c.Samples {
						if c.Samples[i] != want.Samples[i] {
							errs <- fmt.Errorf("%s %q: sample %d differs from the clip made alone", v, text, i)
							break
						}
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, v := range voices {
		p, _ := lib.pool(v)
		if n := len(p.permits); n > 2 {
			t.Errorf("%s: %d instances made, cap 2", v, n)
		}
	}
}

// Whatever text reaches flite in-process must not bring the server down:
// flite's error path calls exit().
func FuzzFliteLib(f *testing.F) {
	for _, s := range []string{
		"Your balance is one hundred and twelve pounds forty.",
		"", " ", "\x00", "...", "!!!???", "£112.40 €5 $3", "12:30pm 03/04/2025", "1234567890123456789012345678901234567890",
		"https://example.com/a?b=c&d=e", "ÀÉÎÕÜ ñ ß 日本語 😀", "\xff\xfe\xfd", "A.B.C.D.E.F.G", "Mr. Dr. St. Ave.",
		strings.Repeat("a", 300), "'''\"\"\"((()))[[]]", "-", "0", "1e10 0x1F -5 +7 3.14159",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 400 {
			text = text[:400]
		}
		var log chunkLog
		chunks := sentences(cleanText(text))
		if err := defaultLib().speakChunks(context.Background(), "kal16", chunks, &log); err != nil {
			t.Fatalf("%q: %v", text, err)
		}
	})
}

// selfCPU is the CPU time this process (all its threads) has used;
// childCPU, the reaped programs'.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkFliteInProcess compares, in the same run and alternating, the
// linked library with the voice's own program (prog: flite_cmu_us_kal16...)
// and the all-voices flite program (flite-prog) on the 12-word dynamic
// sentence at 8 kHz: wall time to the first audio, CPU time to the first audio (the
// library: the whole process's CPU, every thread) and for the whole
// sentence (the program: the programs' CPU plus this process's).
func BenchmarkFliteInProcess(b *testing.B) {
	need(b, "flite")
	for _, v := range []string{"kal16", "kal", "slt", "awb", "rms"} {
		b.Run(v, func(b *testing.B) {
			fliteProg, err := exec.LookPath("flite")
			if err != nil {
				b.Fatal(err)
			}
			lib, prog, generic := &Flite{}, &Flite{Subprocess: true}, &Flite{Program: fliteProg}
			if err := lib.Warm(v); err != nil {
				b.Fatal(err)
			}
			req := tts.Request{Text: twelveWords, Voice: v, Rate: audio.Rate8k}
			var libFirst, progFirst, genFirst, libCPUFirst, libCPU, progCPU, genCPU time.Duration
			var libFirsts []time.Duration
			for b.Loop() {
				for _, s := range []*Flite{lib, prog, generic} {
					cpu0 := selfCPU(b) + childCPU(b)
					start := time.Now()
					st, err := s.Synthesize(context.Background(), req)
					if err != nil {
						b.Fatal(err)
					}
					if err := st.Wait(context.Background()); err != nil {
						b.Fatal(err)
					}
					first := time.Since(start)
					cpuFirst := selfCPU(b) + childCPU(b) - cpu0
					if _, err := tts.ReadAll(context.Background(), st); err != nil {
						b.Fatal(err)
					}
					cpu := selfCPU(b) + childCPU(b) - cpu0
					if s == lib {
						libFirst += first
						libFirsts = append(libFirsts, first)
						libCPUFirst += cpuFirst
						libCPU += cpu
					} else if s == prog {
						progFirst += first
						progCPU += cpu
					} else {
						genFirst += first
						genCPU += cpu
					}
				}
			}
			n := float64(b.N)
			sort.Slice(libFirsts, func(i, j int) bool { return libFirsts[i] < libFirsts[j] })
			b.ReportMetric(ms(libFirst)/n, "lib-ms-first")
			b.ReportMetric(ms(libFirsts[len(libFirsts)*95/100]), "lib-ms-first-p95")
			b.ReportMetric(ms(libCPUFirst)/n, "lib-cpu-ms-first")
			b.ReportMetric(ms(libCPU)/n, "lib-cpu-ms-sentence")
			b.ReportMetric(ms(progFirst)/n, "prog-ms-first")
			b.ReportMetric(ms(progCPU)/n, "prog-cpu-ms-sentence")
			b.ReportMetric(ms(genFirst)/n, "flite-prog-ms-first")
			b.ReportMetric(ms(genCPU)/n, "flite-prog-cpu-ms-sentence")
			b.ReportMetric(float64(progFirst)/float64(libFirst), "x-faster-first")
		})
	}
}

// BenchmarkFliteConcurrent starts several calls' 12-word sentences at the
// same moment (kal16, 8 kHz) and reports the first audio of each call
// (mean and 95th percentile), the sentences finished per second and the CPU
// time per sentence (this process and the programs): in-process with
// one voice instance per CPU (the default), with a single instance (one
// lock per voice), and with the flite program.
func BenchmarkFliteConcurrent(b *testing.B) {
	need(b, "flite")
	for _, calls := range []int{1, 2, 4, 8} {
		for _, mode := range []string{"pool", "one-instance", "program"} {
			b.Run(fmt.Sprintf("calls=%d/%s", calls, mode), func(b *testing.B) {
				f := &Flite{}
				switch mode {
				case "pool":
					f.lib = newFliteLib(0)
				case "one-instance":
					f.lib = newFliteLib(1)
				case "program":
					f.Subprocess = true
				}
				if err := f.Warm("kal16"); err != nil {
					b.Fatal(err)
				}
				req := tts.Request{Text: twelveWords, Voice: "kal16", Rate: audio.Rate8k}
				var firsts []time.Duration
				var wall time.Duration
				var mu sync.Mutex
				cpu0 := selfCPU(b) + childCPU(b)
				for b.Loop() {
					start := time.Now()
					var wg sync.WaitGroup
					for range calls {
						wg.Go(func() {
							st, err := f.Synthesize(context.Background(), req)
							if err != nil {
								b.Error(err)
								return
							}
							if err := st.Wait(context.Background()); err != nil {
								b.Error(err)
								return
							}
							first := time.Since(start)
							if _, err := tts.ReadAll(context.Background(), st); err != nil {
								b.Error(err)
							}
							mu.Lock()
							firsts = append(firsts, first)
							mu.Unlock()
						})
					}
					wg.Wait()
					wall += time.Since(start)
				}
				cpu := selfCPU(b) + childCPU(b) - cpu0
				if len(firsts) == 0 {
					return
				}
				b.ReportMetric(ms(cpu)/float64(len(firsts)), "cpu-ms/sentence")
				sort.Slice(firsts, func(i, j int) bool { return firsts[i] < firsts[j] })
				var sum time.Duration
				for _, d := range firsts {
					sum += d
				}
				b.ReportMetric(ms(sum)/float64(len(firsts)), "ms-first-mean")
				b.ReportMetric(ms(firsts[len(firsts)*95/100]), "ms-first-p95")
				b.ReportMetric(float64(len(firsts))/wall.Seconds(), "sentences/s")
			})
		}
	}
}

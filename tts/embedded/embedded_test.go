package embedded

import (
	"context"
	"errors"
	"math"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/tts"
)

// need fails the test with an install hint when a program is missing.
func need(t testing.TB, prog string) {
	t.Helper()
	if _, err := exec.LookPath(prog); err != nil {
		t.Fatalf("%s not installed: apt-get install %s", prog, prog)
	}
}

func rms(s []int16) float64 {
	if len(s) == 0 {
		return 0
	}
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}

func TestEnginesSpeak(t *testing.T) {
	need(t, "espeak-ng")
	need(t, "flite")
	const text = "Your balance is one hundred and twelve pounds forty."
	for _, voice := range []string{"flite/kal", "flite/slt", "espeak-ng/en-gb", "espeak-ng/en-us+f3", "awb", "en-gb"} {
		for _, rate := range []int{0, 8000, 16000} {
			t.Run(voice+"@"+itoa(rate), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				clip, err := tts.Render(ctx, New(), tts.Request{Text: text, Voice: voice, Rate: rate})
				if err != nil {
					t.Fatal(err)
				}
				if rate > 0 && clip.Rate != rate {
					t.Fatalf("rate %d, want %d", clip.Rate, rate)
				}
				if d := clip.Duration(); d < 1500*time.Millisecond || d > 8*time.Second {
					t.Fatalf("duration %v for a 9-word sentence", d)
				}
				if r := rms(clip.Samples); r < 300 {
					t.Fatalf("RMS %.0f: no speech", r)
				}
			})
		}
	}
}

func itoa(n int) string {
	if n == 0 {
		return "native"
	}
	return strings.TrimSuffix(time.Duration(n).String(), "ns")
}

func TestNativeRates(t *testing.T) {
	need(t, "espeak-ng")
	need(t, "flite")
	for voice, want := range map[string]int{"flite/kal": 8000, "flite/slt": 16000, "espeak-ng/en-gb": 22050} {
		s, err := New().Synthesize(context.Background(), tts.Request{Text: "hello", Voice: voice})
		if err != nil {
			t.Fatal(err)
		}
		if s.Rate() != want {
			t.Errorf("%s: rate %d, want %d", voice, s.Rate(), want)
		}
		if _, err := tts.ReadAll(context.Background(), s); err != nil {
			t.Errorf("%s: %v", voice, err)
		}
	}
}

// A longer text spoken by flite in sentences must contain all of them:
// two sentences last longer than the first alone.
func TestFliteSentences(t *testing.T) {
	need(t, "flite")
	ctx := context.Background()
	f := &Flite{}
	one, err := tts.Render(ctx, f, tts.Request{Text: "Thank you for calling the parcel line."})
	if err != nil {
		t.Fatal(err)
	}
	two, err := tts.Render(ctx, f, tts.Request{Text: "Thank you for calling the parcel line. Please say what you are calling about."})
	if err != nil {
		t.Fatal(err)
	}
	if two.Duration() < one.Duration()+time.Second {
		t.Fatalf("two sentences %v, one %v: the second is missing", two.Duration(), one.Duration())
	}
}

func TestCleanText(t *testing.T) {
	if got := cleanText("a\x00b\nc\x7fd é"); got != "a b c d é" {
		t.Fatalf("cleanText = %q", got)
	}
}

// The single-voice programs say exactly what "flite -voice v" says (the
// diphone voices are deterministic; the others excite with noise).
func TestVoiceProgramsMatchFlite(t *testing.T) {
	need(t, "flite")
	fliteProg, _ := exec.LookPath("flite")
	for _, v := range []string{"kal", "kal16"} {
		need(t, voicePrograms[v])
		own, err := tts.Render(context.Background(), &Flite{Subprocess: true}, tts.Request{Text: twelveWords, Voice: v})
		if err != nil {
			t.Fatal(err)
		}
		all, err := tts.Render(context.Background(), &Flite{Program: fliteProg}, tts.Request{Text: twelveWords, Voice: v})
		if err != nil {
			t.Fatal(err)
		}
		if len(own.Samples) != len(all.Samples) || len(own.Samples) == 0 {
			t.Fatalf("%s: %d samples, flite -voice %d", v, len(own.Samples), len(all.Samples))
		}
		for i := range own.Samples {
			if own.Samples[i] != all.Samples[i] {
				t.Fatalf("%s: sample %d differs", v, i)
			}
		}
	}
}

func TestBadRequests(t *testing.T) {
	need(t, "espeak-ng")
	ctx := context.Background()
	e := New()
	if _, err := e.Synthesize(ctx, tts.Request{Text: "  "}); !errors.Is(err, tts.ErrEmptyText) {
		t.Errorf("empty text: %v", err)
	}
	var ve *VoiceError
	for _, v := range []string{"flite/nope", "espeak-ng/--help", "espeak-ng/a b", "espeak-ng/" + strings.Repeat("x", 100)} {
		if _, err := e.Synthesize(ctx, tts.Request{Text: "hi", Voice: v}); !errors.As(err, &ve) {
			t.Errorf("voice %q: %v, want a VoiceError", v, err)
		}
	}
	// A name that passes the syntax check but that espeak-ng lacks ends
	// the stream with espeak-ng's own message.
	s, err := e.Synthesize(ctx, tts.Request{Text: "hi", Voice: "espeak-ng/xx-nothing"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tts.ReadAll(ctx, s); err == nil || !strings.Contains(err.Error(), "voice") {
		t.Errorf("unknown espeak-ng voice: %v", err)
	}
	if _, err := (&Espeak{Program: "/nonexistent/espeak-ng"}).Synthesize(ctx, tts.Request{Text: "hi"}); err != nil {
		t.Fatalf("Synthesize must not block on starting the program: %v", err)
	}
	s, _ = (&Espeak{Program: "/nonexistent/espeak-ng"}).Synthesize(ctx, tts.Request{Text: "hi"})
	if _, err := tts.ReadAll(ctx, s); err == nil {
		t.Error("a missing program must end the stream with an error")
	}
}

// Closing a stream mid-synthesis kills the program and ends the job.
func TestCloseStops(t *testing.T) {
	need(t, "espeak-ng")
	need(t, "flite")
	defer goleak.VerifyNone(t)
	long := strings.Repeat("This sentence is here to make the text long enough to take a while. ", 30)
	for _, voice := range []string{"espeak-ng/en-gb", "flite/slt"} {
		s, err := New().Synthesize(context.Background(), tts.Request{Text: long, Voice: voice, Rate: 8000})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := s.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		buf := make([]int16, 160)
		if n, err := s.ReadPCM(buf); n == 0 || err != nil {
			t.Fatalf("%s: first read %d, %v", voice, n, err)
		}
		start := time.Now()
		s.Close()
		if n, err := s.ReadPCM(buf); n != 0 || err == nil {
			t.Fatalf("read after Close: %d, %v", n, err)
		}
		if time.Since(start) > time.Second {
			t.Fatalf("Close took %v", time.Since(start))
		}
	}
}

func TestSentences(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Hello.", []string{"Hello."}},
		{"Thank you for calling. Please hold the line.", []string{"Thank you for calling.", "Please hold the line."}},
		{"Mr. Smith is here. Ok.", []string{"Mr. Smith is here. Ok."}},
		{"Version 1.5 is out! Is it good? Yes; it is very good.", []string{"Version 1.5 is out!", "Is it good? Yes;", "it is very good."}},
		{"Your balance is twelve pounds, thank you for calling.", []string{"Your balance is twelve pounds,", "thank you for calling."}},
		{"Yes, please.", []string{"Yes, please."}},
		{"1,000 people", []string{"1,000 people"}},
		{"  ", nil},
	}
	for _, tt := range tests {
		got := sentences(tt.in)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("sentences(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitVoice(t *testing.T) {
	tests := map[string][2]string{
		"flite/slt": {"flite", "slt"}, "slt": {"flite", "slt"}, "kal": {"flite", "kal"},
		"espeak-ng/en-gb": {"espeak-ng", "en-gb"}, "espeak/en-us+f3": {"espeak-ng", "en-us+f3"},
		"en-gb": {"espeak-ng", "en-gb"}, "other/x": {"espeak-ng", "other/x"},
	}
	for in, want := range tests {
		p, v := SplitVoice(in)
		if p != want[0] || v != want[1] {
			t.Errorf("SplitVoice(%q) = %q, %q; want %q", in, p, v, want)
		}
	}
	if len(Voices()) < 8 {
		t.Errorf("Voices() = %v", Voices())
	}
}

// firstAudio measures the time from Synthesize to the first samples.
func firstAudio(b *testing.B, s tts.Synthesizer, req tts.Request) {
	b.ReportAllocs()
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		st, err := s.Synthesize(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		if err := st.Wait(context.Background()); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		if err := st.Err(); err != nil {
			b.Fatal(err)
		}
		st.Close()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-first-audio")
}

// The 12-word dynamic sentence of the target in BENCHMARKS.md.
const twelveWords = "Your balance today is one hundred and twelve pounds forty, thank you."

// BenchmarkFirstAudio measures the engine as it is built: flite linked in
// with cgo, the flite program without.
func BenchmarkFirstAudio(b *testing.B) {
	need(b, "espeak-ng")
	need(b, "flite")
	for _, v := range []string{"flite/kal", "flite/kal16", "flite/slt", "flite/awb", "flite/rms", "espeak-ng/en-gb", "espeak-ng/en-us"} {
		b.Run(strings.ReplaceAll(v, "/", "_"), func(b *testing.B) {
			firstAudio(b, New(), tts.Request{Text: twelveWords, Voice: v, Rate: audio.Rate8k})
		})
	}
}

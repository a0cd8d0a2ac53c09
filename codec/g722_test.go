package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/openivr/ivr/internal/benchcpu"
)

func readS16(t testing.TB, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int16, len(b)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return out
}

func readBytes(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestG722EncodeMatchesSpandsp encodes the committed input in 20 ms frames
// and compares every octet with spandsp's encoding (testdata/g722/README.md).
func TestG722EncodeMatchesSpandsp(t *testing.T) {
	in := readS16(t, "testdata/g722/input.s16")
	want := readBytes(t, "testdata/g722/spandsp.g722")
	g := NewG722()
	var got []byte
	for i := 0; i < len(in); i += 320 {
		got = g.Encode(got, in[i:min(i+320, len(in))])
	}
	if len(got) != len(want) {
		t.Fatalf("%d octets, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("octet %d (sample %d): %#02x, spandsp %#02x", i, 2*i, got[i], want[i])
		}
	}
}

// TestG722DecodeMatchesSpandsp decodes spandsp's bit stream and a stream
// of random octets and compares every sample with spandsp's decoder. The one
// allowed deviation: where the receive QMF's output exceeds 16 bits, spandsp
// 0.0.6 wraps it (a cast to int16_t) while this decoder saturates, as
// FFmpeg's does (av_clip_int16); a wrapped sample has the opposite sign.
func TestG722DecodeMatchesSpandsp(t *testing.T) {
	for _, name := range []string{"spandsp", "random"} {
		t.Run(name, func(t *testing.T) {
			code := readBytes(t, "testdata/g722/"+name+".g722")
			want := readS16(t, "testdata/g722/"+name+"_decoded.s16")
			g := NewG722()
			var got []int16
			for i := 0; i < len(code); i += 160 {
				got = g.Decode(got, code[i:min(i+160, len(code))])
			}
			if len(got) != len(want) {
				t.Fatalf("%d samples, want %d", len(got), len(want))
			}
			saturated := 0
			for i := range want {
				if got[i] == want[i] {
					continue
				}
				if (got[i] == 32767 && want[i] < 0) || (got[i] == -32768 && want[i] >= 0) {
					saturated++
					continue
				}
				t.Fatalf("sample %d: %d, spandsp %d", i, got[i], want[i])
			}
			t.Logf("%d samples, %d bit-exact, %d saturated where spandsp wraps", len(want), len(want)-saturated, saturated)
			if saturated > len(want)/100 {
				t.Fatalf("%d saturated samples: more than overload explains", saturated)
			}
		})
	}
}

// TestG722ToneQuality checks the round trip by signal: tones across the
// 50-7000 Hz band come back at the codec's delay (the two QMFs: 22 samples)
// with a good SNR, and the delay is confirmed on the chirp of testdata.
func TestG722ToneQuality(t *testing.T) {
	const delay = 22
	snrAt := func(in, out []int16, d int) float64 {
		var sig, e float64
		for i := 2000; i+d < len(out) && i < len(in)-100; i++ {
			x := float64(out[i+d]) - float64(in[i])
			e += x * x
			sig += float64(in[i]) * float64(in[i])
		}
		return 10 * math.Log10(sig/math.Max(e, 1e-9))
	}
	for _, tc := range []struct{ f, minSNR float64 }{{300, 40}, {1000, 35}, {3000, 30}, {5000, 15}, {6500, 15}} {
		g := NewG722()
		in := make([]int16, 16000)
		for i := range in {
			in[i] = int16(10000 * math.Sin(2*math.Pi*tc.f*float64(i)/16000))
		}
		out := g.Decode(nil, g.Encode(nil, in))
		snr := snrAt(in, out, delay)
		t.Logf("%5.0f Hz: SNR %.1f dB", tc.f, snr)
		if snr < tc.minSNR {
			t.Errorf("%v Hz: SNR %.1f dB < %v", tc.f, snr, tc.minSNR)
		}
	}
	chirp := readS16(t, "testdata/g722/input.s16")[:14000]
	g := NewG722()
	out := g.Decode(nil, g.Encode(nil, chirp))
	best, bestSNR := 0, math.Inf(-1)
	for d := 0; d < 60; d++ {
		if s := snrAt(chirp, out, d); s > bestSNR {
			best, bestSNR = d, s
		}
	}
	if best != delay {
		t.Fatalf("chirp: best delay %d (SNR %.1f dB), want %d", best, bestSNR, delay)
	}
}

func TestG722Descriptor(t *testing.T) {
	c, ok := Lookup("g722", 8000)
	if !ok {
		t.Fatal("G722/8000 not registered")
	}
	if c.Name() != "G722" || c.PayloadType() != 9 || c.ClockRate() != 8000 || c.SampleRate() != 16000 {
		t.Fatalf("descriptor %s %d %d %d", c.Name(), c.PayloadType(), c.ClockRate(), c.SampleRate())
	}
	if _, ok := Lookup("G722", 16000); ok {
		t.Fatal("G722/16000 must not match: RFC 3551 clock rate is 8000")
	}
	a, b := ForStream(c), ForStream(c)
	if a == b || a == c {
		t.Fatal("ForStream must return a fresh G.722 instance")
	}
	if ForStream(PCMU{}) != (PCMU{}) {
		t.Fatal("ForStream must return a stateless codec itself")
	}
}

// TestG722OddLengthsAndReset checks that frame boundaries do not matter
// (an odd sample waits for its pair) and that Reset restarts the stream.
func TestG722OddLengthsAndReset(t *testing.T) {
	in := readS16(t, "testdata/g722/input.s16")[:4000]
	whole := NewG722().Encode(nil, in)
	g := NewG722()
	var got []byte
	for i, step := 0, 1; i < len(in); i, step = i+step, step%7+1 {
		got = g.Encode(got, in[i:min(i+step, len(in))])
	}
	if string(got) != string(whole) {
		t.Fatal("chunked encoding differs from whole")
	}
	g.Reset()
	if again := g.Encode(nil, in); string(again) != string(whole) {
		t.Fatal("encoding after Reset differs")
	}
	dec := g.Decode(nil, whole)
	g.Reset()
	if again := g.Decode(nil, whole); fmt.Sprint(again) != fmt.Sprint(dec) {
		t.Fatal("decoding after Reset differs")
	}
}

func TestG722AllocatesNothing(t *testing.T) {
	g := NewG722()
	pcm := readS16(t, "testdata/g722/input.s16")[:320]
	enc := make([]byte, 0, 160)
	dec := make([]int16, 0, 320)
	payload := g.Encode(nil, pcm)
	if a := testing.AllocsPerRun(100, func() { enc = g.Encode(enc[:0], pcm) }); a != 0 {
		t.Errorf("Encode: %v allocations per 20 ms", a)
	}
	if a := testing.AllocsPerRun(100, func() { dec = g.Decode(dec[:0], payload) }); a != 0 {
		t.Errorf("Decode: %v allocations per 20 ms", a)
	}
}

func FuzzG722Decode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x00, 0xff, 0x3f, 0xc0})
	f.Add(readBytes(f, "testdata/g722/random.g722")[:160])
	f.Add(readBytes(f, "testdata/g722/spandsp.g722")[16000:16160])
	f.Fuzz(func(t *testing.T, payload []byte) {
		g := NewG722()
		out := g.Decode(nil, payload)
		if len(out) != 2*len(payload) {
			t.Fatalf("%d samples from %d octets", len(out), len(payload))
		}
		// Re-encoding the decoded audio must not misbehave either, and the
		// state must stay in the Recommendation's ranges.
		g.Encode(nil, out)
		for _, b := range []*band{&g.dec.low, &g.dec.high, &g.enc.low, &g.enc.high} {
			if b.nb < 0 || b.nb > 22528 || b.a[1] < -12288 || b.a[1] > 12288 {
				t.Fatalf("state out of range: %+v", *b)
			}
		}
	})
}

func BenchmarkG722Encode(b *testing.B) {
	g := NewG722()
	pcm := readS16(b, "testdata/g722/input.s16")
	dst := make([]byte, 0, 160)
	frames := len(pcm) / 320
	b.ReportAllocs()
	stop := benchcpu.Report(b)
	for i := 0; i < b.N; i++ {
		k := i % frames
		dst = g.Encode(dst[:0], pcm[k*320:(k+1)*320])
	}
	stop()
}

func BenchmarkG722Decode(b *testing.B) {
	g := NewG722()
	code := readBytes(b, "testdata/g722/spandsp.g722")
	dst := make([]int16, 0, 320)
	frames := len(code) / 160
	b.ReportAllocs()
	stop := benchcpu.Report(b)
	for i := 0; i < b.N; i++ {
		k := i % frames
		dst = g.Decode(dst[:0], code[k*160:(k+1)*160])
	}
	stop()
}

// TestG722EncodeDecodeConcurrently runs a stream's two directions at once,
// as an RTP session's send and receive goroutines do (run with -race).
func TestG722EncodeDecodeConcurrently(t *testing.T) {
	g := NewG722()
	pcm := readS16(t, "testdata/g722/input.s16")[:3200]
	code := readBytes(t, "testdata/g722/spandsp.g722")[:1600]
	done := make(chan []byte)
	go func() {
		var out []byte
		for i := 0; i < len(pcm); i += 320 {
			out = g.Encode(out, pcm[i:i+320])
		}
		done <- out
	}()
	var dec []int16
	for i := 0; i < len(code); i += 160 {
		dec = g.Decode(dec, code[i:i+160])
	}
	enc := <-done
	if string(enc) != string(NewG722().Encode(nil, pcm)) {
		t.Fatal("concurrent decoding disturbed encoding")
	}
	if fmt.Sprint(dec) != fmt.Sprint(NewG722().Decode(nil, code)) {
		t.Fatal("concurrent encoding disturbed decoding")
	}
}

package tts

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
)

// toneSynth is a test engine: it speaks every text as a 440 Hz tone of
// 10 ms per byte at 16 kHz, after delay, or fails with err.
type toneSynth struct {
	name  string
	delay time.Duration
	err   error // returned by Synthesize
	late  error // ends the stream after delay
	calls atomic.Int32
	mu    sync.Mutex
	texts []string // every text asked for
}

func (s *toneSynth) Name() string { return s.name }

func (s *toneSynth) Synthesize(ctx context.Context, req Request) (Stream, error) {
	s.calls.Add(1)
	s.mu.Lock()
	s.texts = append(s.texts, req.Text)
	s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	if req.Text == "" {
		return nil, ErrEmptyText
	}
	rate := req.Rate
	if rate == 0 {
		rate = 16000
	}
	ctx, cancel := context.WithCancel(ctx)
	p := NewPipe(rate, cancel)
	go func() {
		defer cancel()
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			p.Finish(ctx.Err())
			return
		}
		if s.late != nil {
			p.Finish(s.late)
			return
		}
		p.Finish(p.Write(16000, tone(16000, 440, len(req.Text)*160)))
	}()
	return p, nil
}

func tone(rate int, hz float64, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return out
}

func TestPipeResamplesAndEnds(t *testing.T) {
	p := NewPipe(8000, nil)
	if n, err := p.ReadPCM(make([]int16, 10)); n != 0 || err != nil {
		t.Fatalf("empty pipe: %d, %v", n, err)
	}
	for i := 0; i < 10; i++ { // 10 writes of 1600 samples at 16 kHz = 1 s
		if err := p.Write(16000, tone(16000, 440, 1600)); err != nil {
			t.Fatal(err)
		}
	}
	p.Finish(nil)
	c, err := ReadAll(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rate != 8000 || len(c.Samples) != 8000 {
		t.Fatalf("got %d samples at %d Hz, want 8000 at 8000", len(c.Samples), c.Rate)
	}
	// The tone survives resampling: count zero crossings (880 per second).
	zc := 0
	for i := 1; i < len(c.Samples); i++ {
		if (c.Samples[i-1] < 0) != (c.Samples[i] < 0) {
			zc++
		}
	}
	if zc < 860 || zc > 900 {
		t.Fatalf("%d zero crossings, want about 880", zc)
	}
}

func TestPipeNoAudioAndErrors(t *testing.T) {
	p := NewPipe(8000, nil)
	p.Finish(nil)
	if !errors.Is(p.Err(), ErrNoAudio) {
		t.Fatalf("empty clean end: %v", p.Err())
	}
	p = NewPipe(8000, nil)
	boom := errors.New("boom")
	p.Write(8000, []int16{1, 2, 3})
	p.Finish(boom)
	p.Finish(nil) // only the first counts
	buf := make([]int16, 10)
	if n, err := p.ReadPCM(buf); n != 3 || err != nil {
		t.Fatalf("read %d, %v", n, err)
	}
	if _, err := p.ReadPCM(buf); err != io.EOF {
		t.Fatalf("after end: %v", err)
	}
	if p.Err() != boom {
		t.Fatalf("Err = %v", p.Err())
	}
	if _, err := ReadAll(context.Background(), p); err != boom {
		t.Fatalf("ReadAll: %v", err)
	}
}

func TestPipeCloseStopsProducer(t *testing.T) {
	stopped := make(chan struct{})
	p := NewPipe(8000, func() { close(stopped) })
	p.Write(8000, []int16{1})
	p.Close()
	p.Close()
	<-stopped
	if err := p.Write(8000, []int16{1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if _, err := p.ReadPCM(make([]int16, 4)); err != io.EOF {
		t.Fatalf("read after close: %v", err)
	}
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Finish(errors.New("killed"))
	if p.Err() != nil {
		t.Fatalf("a closed stream's producer error is no failure: %v", p.Err())
	}
}

func TestPipeWait(t *testing.T) {
	p := NewPipe(8000, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := p.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on empty pipe: %v", err)
	}
	go func() {
		time.Sleep(5 * time.Millisecond)
		p.Write(8000, []int16{1, 2})
	}()
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, _ := p.ReadPCM(make([]int16, 4)); n != 2 {
		t.Fatalf("read %d", n)
	}
}

// A consumer reading while a producer writes sees every sample in order.
func TestPipeConcurrent(t *testing.T) {
	p := NewPipe(8000, nil)
	const total = 100000
	go func() {
		buf := make([]int16, 97)
		for i := 0; i < total; i += len(buf) {
			for j := range buf {
				buf[j] = int16(i + j)
			}
			p.Write(8000, buf[:min(len(buf), total-i)])
		}
		p.Finish(nil)
	}()
	c, err := ReadAll(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Samples) != total {
		t.Fatalf("%d samples", len(c.Samples))
	}
	for i, s := range c.Samples {
		if s != int16(i) {
			t.Fatalf("sample %d = %d", i, s)
		}
	}
}

// wavBytes builds a WAV stream; size fields as given (streaming writers use
// placeholders).
func wavBytes(rate, channels, bits int, data []byte, dataSize uint32, extra []byte) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(0xFFFFFFFF))
	b.WriteString("WAVE")
	if extra != nil {
		b.WriteString("LIST")
		binary.Write(&b, binary.LittleEndian, uint32(len(extra)))
		b.Write(extra)
		if len(extra)%2 == 1 {
			b.WriteByte(0)
		}
	}
	b.WriteString("fmt ")
	binary.Write(&b, binary.LittleEndian, uint32(16))
	binary.Write(&b, binary.LittleEndian, uint16(1))
	binary.Write(&b, binary.LittleEndian, uint16(channels))
	binary.Write(&b, binary.LittleEndian, uint32(rate))
	binary.Write(&b, binary.LittleEndian, uint32(rate*channels*bits/8))
	binary.Write(&b, binary.LittleEndian, uint16(channels*bits/8))
	binary.Write(&b, binary.LittleEndian, uint16(bits))
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, dataSize)
	b.Write(data)
	return b.Bytes()
}

// oneByteReader returns one byte per Read, like a slow pipe.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) { return o.r.Read(p[:min(1, len(p))]) }

func TestCopyWAV(t *testing.T) {
	pcm := []byte{1, 0, 2, 0, 0xff, 0xff, 0, 0x80} // 1, 2, -1, -32768
	tests := []struct {
		name string
		in   []byte
		want []int16
	}{
		{"mono16 exact size", wavBytes(8000, 1, 16, pcm, 8, nil), []int16{1, 2, -1, -32768}},
		{"size shorter than data", wavBytes(8000, 1, 16, pcm, 4, []byte("odd")), []int16{1, 2}},
		{"streaming placeholder", wavBytes(8000, 1, 16, pcm, 0x7FFFF000, nil), []int16{1, 2, -1, -32768}},
		{"zero size means unknown", wavBytes(8000, 1, 16, pcm, 0, nil), []int16{1, 2, -1, -32768}},
		{"stereo mixes", wavBytes(8000, 2, 16, []byte{10, 0, 20, 0, 0xf6, 0xff, 0xec, 0xff}, 8, nil), []int16{15, -15}},
		{"8-bit", wavBytes(8000, 1, 8, []byte{128, 255, 0}, 3, nil), []int16{0, 127 << 8, -128 << 8}},
		{"24-bit", wavBytes(8000, 1, 24, []byte{0, 0x34, 0x12, 0, 0, 0x80}, 6, nil), []int16{0x1234, -32768}},
		{"32-bit", wavBytes(8000, 1, 32, []byte{0, 0, 0x34, 0x12}, 4, nil), []int16{0x1234}},
		{"partial last frame dropped", wavBytes(8000, 1, 16, pcm[:7], 0, nil), []int16{1, 2, -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, slow := range []bool{false, true} {
				var r io.Reader = bytes.NewReader(tt.in)
				if slow {
					r = oneByteReader{r}
				}
				p := NewPipe(8000, nil)
				if err := CopyWAV(p, r); err != nil {
					t.Fatal(err)
				}
				p.Finish(nil)
				c, err := ReadAll(context.Background(), p)
				if err != nil {
					t.Fatal(err)
				}
				if !equal(c.Samples, tt.want) {
					t.Fatalf("slow=%v: got %v, want %v", slow, c.Samples, tt.want)
				}
			}
		})
	}
}

func TestReadWAVHeaderErrors(t *testing.T) {
	good := wavBytes(8000, 1, 16, nil, 0, nil)
	bad := map[string][]byte{
		"empty":       nil,
		"not riff":    append([]byte("RIFX"), good[4:]...),
		"truncated":   good[:20],
		"float":       patch(good, 20, 3),
		"channels":    patch(good, 22, 0),
		"rate":        patch32(good, 24, 10),
		"bits":        patch(good, 34, 12),
		"huge fmt":    patch32(good, 16, 1<<20),
		"data first":  append(append([]byte{}, good[:12]...), []byte("data\x00\x00\x00\x00")...),
		"huge skip":   append(append([]byte{}, good[:12]...), []byte("LIST\xff\xff\xff\x7f")...),
		"short chunk": append(append([]byte{}, good[:12]...), []byte("LI")...),
	}
	for name, in := range bad {
		if _, err := ReadWAVHeader(bytes.NewReader(in)); !errors.Is(err, ErrBadWAV) {
			t.Errorf("%s: %v, want ErrBadWAV", name, err)
		}
	}
}

func patch(b []byte, off int, v byte) []byte {
	c := append([]byte{}, b...)
	c[off] = v
	return c
}

func patch32(b []byte, off int, v uint32) []byte {
	c := append([]byte{}, b...)
	binary.LittleEndian.PutUint32(c[off:], v)
	return c
}

func equal(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func FuzzCopyWAV(f *testing.F) {
	f.Add(wavBytes(8000, 1, 16, []byte{1, 0, 2, 0}, 4, nil))
	f.Add(wavBytes(22050, 2, 24, []byte{1, 2, 3, 4, 5, 6}, 0xFFFFFFFF, []byte("INFO")))
	f.Add(wavBytes(16000, 1, 8, []byte{1, 2, 3}, 3, nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		p := NewPipe(8000, nil)
		err := CopyWAV(p, bytes.NewReader(in))
		if err != nil && !errors.Is(err, ErrBadWAV) {
			t.Fatalf("error %v is not ErrBadWAV", err)
		}
		p.Finish(err)
		c, _ := ReadAll(context.Background(), p)
		// Never more samples out than bytes in (resampling to 8 kHz from
		// at least 1 kHz multiplies by at most 8, one byte per sample).
		if len(c.Samples) > 8*len(in)+64 {
			t.Fatalf("%d samples from %d bytes", len(c.Samples), len(in))
		}
	})
}

func TestClipStreamAndRender(t *testing.T) {
	c := audio.Clip{Rate: 8000, Samples: []int16{1, 2, 3}}
	s := ClipStream(c)
	if err := s.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := ReadAll(context.Background(), s)
	if err != nil || !equal(got.Samples, c.Samples) || got.Rate != 8000 {
		t.Fatalf("ReadAll = %v, %v", got, err)
	}
	s = ClipStream(c)
	s.Close()
	if _, err := s.ReadPCM(make([]int16, 3)); err != io.EOF {
		t.Fatalf("closed clip stream: %v", err)
	}
	clip, err := Render(context.Background(), &toneSynth{name: "tone"}, Request{Text: "abc", Rate: 8000})
	if err != nil || len(clip.Samples) != 240 {
		t.Fatalf("Render: %d samples, %v", len(clip.Samples), err)
	}
	if _, err := Render(context.Background(), &toneSynth{name: "tone", late: io.ErrUnexpectedEOF}, Request{Text: "abc"}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Render of a failing stream: %v", err)
	}
}

func TestFallback(t *testing.T) {
	boom := errors.New("server down")
	tests := []struct {
		name     string
		primary  *toneSynth
		first    time.Duration
		degraded bool
		wantErr  bool
	}{
		{"primary fine", &toneSynth{name: "p"}, time.Second, false, false},
		{"primary slow but in time", &toneSynth{name: "p", delay: 10 * time.Millisecond}, time.Second, false, false},
		{"primary refuses", &toneSynth{name: "p", err: boom}, time.Second, true, false},
		{"primary fails in stream", &toneSynth{name: "p", late: boom}, time.Second, true, false},
		{"primary too slow", &toneSynth{name: "p", delay: time.Hour}, 30 * time.Millisecond, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reasons []error
			var mu sync.Mutex
			sec := &toneSynth{name: "s"}
			f := &Fallback{Primary: tt.primary, Secondary: sec, FirstAudio: tt.first, SecondaryVoice: "v",
				OnFallback: func(err error) { mu.Lock(); reasons = append(reasons, err); mu.Unlock() }}
			if f.Name() != "p" {
				t.Fatalf("Name = %q", f.Name())
			}
			s, err := f.Synthesize(context.Background(), Request{Text: "hello", Rate: 8000})
			if err != nil {
				t.Fatal(err)
			}
			if s.Rate() != 8000 {
				t.Fatalf("rate %d", s.Rate())
			}
			start := time.Now()
			c, err := ReadAll(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("took %v", time.Since(start))
			}
			if len(c.Samples) != 400 {
				t.Fatalf("%d samples", len(c.Samples))
			}
			if Degraded(s) != tt.degraded || (sec.calls.Load() == 1) != tt.degraded {
				t.Fatalf("degraded %v, secondary calls %d", Degraded(s), sec.calls.Load())
			}
			mu.Lock()
			defer mu.Unlock()
			if (len(reasons) == 1) != tt.degraded {
				t.Fatalf("OnFallback reasons %v", reasons)
			}
			if tt.name == "primary too slow" && !errors.Is(reasons[0], ErrFirstAudioTimeout) {
				t.Fatalf("reason %v", reasons[0])
			}
		})
	}
}

func TestFallbackBothFail(t *testing.T) {
	f := &Fallback{Primary: &toneSynth{name: "p", late: errors.New("p down")}, Secondary: &toneSynth{name: "s", err: errors.New("s down")}}
	s, err := f.Synthesize(context.Background(), Request{Text: "x", Rate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ReadAll(context.Background(), s)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("p down")) || !bytes.Contains([]byte(err.Error()), []byte("s down")) {
		t.Fatalf("both failed: %v", err)
	}
	f.Primary = &toneSynth{name: "p", err: errors.New("p refused")}
	if _, err := f.Synthesize(context.Background(), Request{Text: "x"}); err == nil {
		t.Fatal("both refusing must fail Synthesize")
	}
}

// Closing a fallback stream while it waits for the primary stops both.
func TestFallbackClose(t *testing.T) {
	p := &toneSynth{name: "p", delay: time.Hour}
	sec := &toneSynth{name: "s"}
	f := &Fallback{Primary: p, Secondary: sec, FirstAudio: time.Hour}
	s, _ := f.Synthesize(context.Background(), Request{Text: "x", Rate: 8000})
	if n, err := s.ReadPCM(make([]int16, 10)); n != 0 || err != nil {
		t.Fatalf("before the decision: %d, %v", n, err)
	}
	s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Wait(ctx); err != nil {
		t.Fatalf("Wait after Close: %v", err)
	}
	if _, err := s.ReadPCM(make([]int16, 10)); err != io.EOF {
		t.Fatalf("read after Close: %v", err)
	}
	if sec.calls.Load() != 0 {
		t.Fatal("closing must not start the secondary")
	}
}

func BenchmarkPipeFrame(b *testing.B) {
	b.ReportAllocs()
	p := NewPipe(8000, nil)
	in := tone(8000, 440, 160)
	out := make([]int16, 160)
	for b.Loop() {
		p.Write(8000, in)
		p.ReadPCM(out)
	}
}

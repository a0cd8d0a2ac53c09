package openai

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openivr/ivr/tts"
	"github.com/openivr/ivr/tts/embedded"
)

// server is an in-test speech server speaking OpenAI's API. It answers
// with a 24 kHz tone of 100 ms per word, as WAV (with streaming
// placeholder sizes, like real servers) or raw PCM.
type server struct {
	t       *testing.T
	delay   time.Duration // before the response headers
	status  int           // non-zero: fail with this status
	hold    chan struct{} // if set, the second half of the audio waits on it
	mu      sync.Mutex
	got     []map[string]any
	auth    []string
	aborted chan struct{} // closed when a client goes away mid-response
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/speech" {
		http.NotFound(w, r)
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.got = append(s.got, body)
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	s.mu.Unlock()
	select {
	case <-time.After(s.delay):
	case <-r.Context().Done():
		return
	}
	if s.status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s.status)
		w.Write([]byte(`{"error":{"message":"voice overloaded","type":"server_error"}}`))
		return
	}
	words := len(strings.Fields(body["input"].(string)))
	pcm := toneBytes(24000, 440, words*2400)
	if body["response_format"] == "wav" {
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(wavHeader(24000))
	} else {
		w.Header().Set("Content-Type", "audio/pcm")
	}
	half := len(pcm) / 2 &^ 1
	w.Write(pcm[:half])
	w.(http.Flusher).Flush()
	if s.hold != nil {
		select {
		case <-s.hold:
		case <-r.Context().Done():
			if s.aborted != nil {
				close(s.aborted)
			}
			return
		}
	}
	w.Write(pcm[half:])
}

func toneBytes(rate int, hz float64, n int) []byte {
	b := make([]byte, 2*n)
	for i := 0; i < n; i++ {
		v := int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func wavHeader(rate int) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(0xFFFFFFFF))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2 * rate), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(0xFFFFFFFF))
	return b.Bytes()
}

func start(t *testing.T, s *server) (*httptest.Server, Config) {
	s.t = t
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts, Config{BaseURL: ts.URL + "/v1", APIKey: "sk-test", Timeout: 2 * time.Second}
}

func TestSpeakWAVAndPCM(t *testing.T) {
	for _, format := range []string{"wav", "pcm"} {
		t.Run(format, func(t *testing.T) {
			s := &server{}
			_, cfg := start(t, s)
			cfg.Format, cfg.Model, cfg.Speed = format, "kokoro", 1.25
			e, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			clip, err := tts.Render(context.Background(), e, tts.Request{Text: "one two three four", Voice: "af_bella", Rate: 8000})
			if err != nil {
				t.Fatal(err)
			}
			// Four words of 100 ms at 24 kHz, resampled to 8 kHz.
			if clip.Rate != 8000 || len(clip.Samples) != 3200 {
				t.Fatalf("%d samples at %d Hz, want 3200 at 8000", len(clip.Samples), clip.Rate)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			got := s.got[0]
			if got["model"] != "kokoro" || got["voice"] != "af_bella" || got["input"] != "one two three four" ||
				got["response_format"] != format || got["speed"] != 1.25 {
				t.Fatalf("request body %v", got)
			}
			if s.auth[0] != "Bearer sk-test" {
				t.Fatalf("Authorization %q", s.auth[0])
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	s := &server{}
	_, cfg := start(t, s)
	e, _ := New(cfg)
	st, err := e.Synthesize(context.Background(), tts.Request{Text: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Rate() != 24000 {
		t.Fatalf("native rate %d", st.Rate())
	}
	if _, err := tts.ReadAll(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if s.got[0]["model"] != DefaultModel || s.got[0]["voice"] != DefaultVoice {
		t.Fatalf("defaults: %v", s.got[0])
	}
	if !strings.HasPrefix(e.Name(), "openai:tts-1@http://127.0.0.1") {
		t.Fatalf("Name %q", e.Name())
	}
	if _, err := e.Synthesize(context.Background(), tts.Request{}); !errors.Is(err, tts.ErrEmptyText) {
		t.Fatalf("empty text: %v", err)
	}
	for _, bad := range []Config{{Format: "mp3"}, {Speed: 9}} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) accepted", bad)
		}
	}
}

// The first half of the audio plays while the server still holds the
// second: the engine streams.
func TestStreamsBeforeTheEnd(t *testing.T) {
	s := &server{hold: make(chan struct{})}
	_, cfg := start(t, s)
	e, _ := New(cfg)
	st, err := e.Synthesize(context.Background(), tts.Request{Text: "a b c d e f", Rate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := st.Wait(ctx); err != nil {
		t.Fatalf("no audio while the server holds the rest: %v", err)
	}
	close(s.hold)
	clip, err := tts.ReadAll(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(clip.Samples); n < 4000 || n > 4800 {
		t.Fatalf("%d samples after the first read", n)
	}
}

// Closing the stream aborts the request.
func TestCloseAborts(t *testing.T) {
	s := &server{hold: make(chan struct{}), aborted: make(chan struct{})}
	_, cfg := start(t, s)
	e, _ := New(cfg)
	st, _ := e.Synthesize(context.Background(), tts.Request{Text: "a b c d", Rate: 8000})
	if err := st.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	select {
	case <-s.aborted:
	case <-time.After(5 * time.Second):
		t.Fatal("the server never saw the client go")
	}
	if err := st.Err(); err != nil {
		t.Fatalf("a closed stream is no failure: %v", err)
	}
}

func TestServerErrorAndTimeout(t *testing.T) {
	s := &server{status: http.StatusServiceUnavailable}
	_, cfg := start(t, s)
	e, _ := New(cfg)
	_, err := tts.Render(context.Background(), e, tts.Request{Text: "hello", Rate: 8000})
	if err == nil || !strings.Contains(err.Error(), "voice overloaded") {
		t.Fatalf("503: %v", err)
	}
	s2 := &server{delay: time.Second}
	_, cfg = start(t, s2)
	cfg.Timeout = 50 * time.Millisecond
	e, _ = New(cfg)
	begin := time.Now()
	_, err = tts.Render(context.Background(), e, tts.Request{Text: "hello", Rate: 8000})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("slow server: %v", err)
	}
	if d := time.Since(begin); d > 900*time.Millisecond {
		t.Fatalf("timeout took %v", d)
	}
}

// A server that does not answer in time is replaced by the embedded
// engine: the caller hears the fallback voice, promptly.
func TestFallbackToEmbeddedOnTimeout(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Fatal("espeak-ng not installed: apt-get install espeak-ng")
	}
	s := &server{delay: 3 * time.Second}
	_, cfg := start(t, s)
	cfg.Timeout = 150 * time.Millisecond
	e, _ := New(cfg)
	var reason error
	f := &tts.Fallback{Primary: e, Secondary: embedded.New(), SecondaryVoice: "espeak-ng/en-gb",
		OnFallback: func(err error) { reason = err }}
	begin := time.Now()
	st, err := f.Synthesize(context.Background(), tts.Request{Text: "Your balance is twelve pounds.", Voice: "alloy", Rate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	firstAudio := time.Since(begin)
	clip, err := tts.ReadAll(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if !tts.Degraded(st) || !errors.Is(reason, ErrTimeout) {
		t.Fatalf("degraded %v, reason %v", tts.Degraded(st), reason)
	}
	if firstAudio > 2*time.Second || clip.Duration() < time.Second {
		t.Fatalf("first audio after %v, %v of audio", firstAudio, clip.Duration())
	}
	// Fallback audio is not cached under the cloud voice.
	c, _ := tts.NewCache(t.TempDir(), f)
	if _, err := c.Render(context.Background(), tts.Request{Text: "Hello.", Rate: 8000}); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Lookup(tts.Request{Text: "Hello.", Rate: 8000}); ok {
		t.Fatal("fallback audio cached")
	}
}

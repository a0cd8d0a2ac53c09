package openai

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/audio"
)

// server is an in-test HTTP server speaking the transcription API. It
// checks the request like a real server would and records what it got.
type server struct {
	*httptest.Server
	mu     sync.Mutex
	prompt string
	model  string
	lang   string
	wav    audio.Clip
	auth   string
}

func newServer(t *testing.T, reply func(w http.ResponseWriter, r *http.Request)) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/transcriptions" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if err := r.ParseMultipartForm(10 << 20); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f, _, err := r.FormFile("file")
		if err != nil {
			http.Error(w, "no file", http.StatusBadRequest)
			return
		}
		data, _ := io.ReadAll(f)
		clip, err := audio.ReadWAV(strings.NewReader(string(data)))
		if err != nil {
			http.Error(w, "bad wav: "+err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.prompt, s.model, s.lang, s.wav = r.FormValue("prompt"), r.FormValue("model"), r.FormValue("language"), clip
		s.auth = r.Header.Get("Authorization")
		s.mu.Unlock()
		reply(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func tone(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16((i % 40) * 200)
	}
	return s
}

func TestTranscribeSendsAudioPromptAndReturnsText(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"text": "I lost my Card, 2 days ago."})
	})
	rec, err := New(Config{BaseURL: srv.URL + "/v1", APIKey: "k123", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := rec.NewStream(context.Background(), 8000, asr.Hints{Phrases: []string{"lost card", "check balance"}, EscapeWords: []string{"agent"}})
	if err != nil {
		t.Fatal(err)
	}
	in := tone(8000)
	for off := 0; off < len(in); off += 160 {
		if err := st.Write(in[off : off+160]); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := st.Partial(); ok {
		t.Error("Partial reported a result; the API has none")
	}
	res, err := st.Finish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := "i lost my card two days ago"; res.Text != want || !res.Final {
		t.Errorf("result %+v, want text %q final", res, want)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.wav.Rate != 8000 || len(srv.wav.Samples) != len(in) || srv.wav.Samples[41] != in[41] {
		t.Errorf("server got %d Hz, %d samples; want 8000 Hz, %d samples intact", srv.wav.Rate, len(srv.wav.Samples), len(in))
	}
	if srv.prompt != "lost card, check balance, agent" {
		t.Errorf("prompt %q", srv.prompt)
	}
	if srv.model != "whisper-1" || srv.lang != "en" || srv.auth != "Bearer k123" {
		t.Errorf("model %q language %q auth %q", srv.model, srv.lang, srv.auth)
	}
	if err := st.Write(in); !errors.Is(err, asr.ErrClosed) {
		t.Errorf("Write after Finish: %v, want ErrClosed", err)
	}
}

func TestVerboseConfidence(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("response_format") != "verbose_json" {
			http.Error(w, "want verbose_json", http.StatusBadRequest)
			return
		}
		writeJSON(w, map[string]any{"text": "yes", "segments": []map[string]any{{"text": "yes", "avg_logprob": -0.1, "no_speech_prob": 0.2}}})
	})
	rec, _ := New(Config{BaseURL: srv.URL + "/v1", Verbose: true})
	st, _ := rec.NewStream(context.Background(), 16000, asr.Hints{Grammar: asr.GrammarYesNo})
	st.Write(tone(1600))
	res, err := st.Finish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := 0.9048374180359595 * 0.8
	if res.Text != "yes" || res.Confidence < want-1e-9 || res.Confidence > want+1e-9 {
		t.Errorf("got %+v, want yes with confidence %.4f", res, want)
	}
}

func TestErrorsWrapErrRemote(t *testing.T) {
	t.Run("status", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			writeJSON(w, map[string]any{"error": map[string]any{"message": "model overloaded", "type": "server_error"}})
		})
		rec, _ := New(Config{BaseURL: srv.URL + "/v1"})
		st, _ := rec.NewStream(context.Background(), 8000, asr.Hints{})
		st.Write(tone(800))
		_, err := st.Finish(context.Background())
		if !errors.Is(err, ErrRemote) || !strings.Contains(err.Error(), "overloaded") {
			t.Errorf("err %v, want ErrRemote with the server's message", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		rec, _ := New(Config{BaseURL: srv.URL + "/v1", Timeout: 100 * time.Millisecond})
		st, _ := rec.NewStream(context.Background(), 8000, asr.Hints{})
		st.Write(tone(800))
		t0 := time.Now()
		_, err := st.Finish(context.Background())
		if !errors.Is(err, ErrRemote) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err %v, want ErrRemote wrapping DeadlineExceeded", err)
		}
		if d := time.Since(t0); d > 2*time.Second {
			t.Errorf("timeout took %v", d)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		rec, _ := New(Config{BaseURL: url + "/v1", Timeout: time.Second})
		st, _ := rec.NewStream(context.Background(), 8000, asr.Hints{})
		_, err := st.Finish(context.Background())
		if !errors.Is(err, ErrRemote) {
			t.Errorf("err %v, want ErrRemote", err)
		}
	})
}

func TestBadRate(t *testing.T) {
	rec, _ := New(Config{})
	if _, err := rec.NewStream(context.Background(), 0, asr.Hints{}); !errors.Is(err, asr.ErrBadRate) {
		t.Errorf("err %v, want ErrBadRate", err)
	}
}

func TestPromptCapsLengthAndDeduplicates(t *testing.T) {
	p := Prompt(asr.Hints{Grammar: asr.GrammarDigits, Phrases: []string{"Agent", "agent", strings.Repeat("x", 50)}}, 40)
	if p != "Digits: 0 1 2 3 4 5 6 7 8 9., Agent" {
		t.Errorf("prompt %q", p)
	}
}

func TestRegistered(t *testing.T) {
	r, err := asr.Open(Name, asr.Options{BaseURL: "http://127.0.0.1:1/v1"})
	if err != nil || r.Name() != Name {
		t.Fatalf("Open: %v, %v", r, err)
	}
}

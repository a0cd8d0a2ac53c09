package speech

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openivr/ivr/asr"
	asropenai "github.com/openivr/ivr/asr/openai"
	"github.com/openivr/ivr/asr/sphinx"
	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/nlu"
	"github.com/openivr/ivr/vad"
)

// transcriber is an in-test server speaking the OpenAI transcription API:
// it answers every request with text and records the audio it received.
type transcriber struct {
	*httptest.Server
	mu     sync.Mutex
	clips  []audio.Clip
	text   string
	status int
	delay  time.Duration
}

func newTranscriber(t *testing.T, text string) *transcriber {
	tr := &transcriber{text: text, status: http.StatusOK}
	tr.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, _, err := r.FormFile("file")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		data, _ := io.ReadAll(f)
		clip, err := audio.ReadWAV(strings.NewReader(string(data)))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		tr.mu.Lock()
		tr.clips = append(tr.clips, clip)
		status, text, delay := tr.status, tr.text, tr.delay
		tr.mu.Unlock()
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		if status != http.StatusOK {
			http.Error(w, `{"error":{"message":"down"}}`, status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"text": text})
	}))
	t.Cleanup(tr.Close)
	return tr
}

func (tr *transcriber) recognizer(t *testing.T) asr.Recognizer {
	r, err := asropenai.New(asropenai.Config{BaseURL: tr.URL + "/v1", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// utterance is a human recording (Debian asterisk-core-sounds-en-wav,
// 8 kHz) between lead and trail seconds of silence.
func utterance(t *testing.T, lead, trail float64) (audio.Clip, time.Duration) {
	t.Helper()
	c, err := audio.ReadWAVFile("/usr/share/asterisk/sounds/en/one-moment-please.wav")
	if err != nil {
		t.Fatalf("%v (apt-get install asterisk-core-sounds-en-wav)", err)
	}
	s := make([]int16, int(lead*8000))
	s = append(s, c.Samples...)
	s = append(s, make([]int16, int(trail*8000))...)
	return audio.Clip{Rate: 8000, Samples: s}, c.Duration()
}

func feed(t *testing.T, l *Listener, c audio.Clip) {
	t.Helper()
	for off := 0; off < len(c.Samples); off += 160 {
		if err := l.WriteFrame(audio.Frame{Rate: c.Rate, Samples: c.Samples[off:min(off+160, len(c.Samples))]}); err != nil {
			t.Fatal(err)
		}
	}
}

func next(t *testing.T, l *Listener) Event {
	t.Helper()
	select {
	case e := <-l.Events():
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return Event{}
}

func TestListenerHearsATurn(t *testing.T) {
	tr := newTranscriber(t, "Check my balance.")
	clf, err := nlu.Train([]nlu.Intent{
		{Name: "check_balance", Examples: []string{"check my balance", "what is my balance"}},
		{Name: "lost_card", Examples: []string{"I lost my card", "my card was stolen"}},
	}, nlu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(context.Background(), tr.recognizer(t), Config{Rate: 8000, Classifier: clf, Endpoint: vad.EndpointConfig{NoInputTimeout: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	clip, speechDur := utterance(t, 1.0, 1.0)
	feed(t, l, clip)
	e := next(t, l)
	if e.Type != SpeechStarted || e.At < 800*time.Millisecond || e.At > 1300*time.Millisecond {
		t.Fatalf("first event %v at %v, want speech-started near 1 s", e.Type, e.At)
	}
	e = next(t, l)
	if e.Type != Final || e.Result.Text != "check my balance" || e.Intent == nil || e.Intent.Intent != "check_balance" {
		t.Fatalf("got %+v, want final check_balance", e)
	}
	// The OpenAI engine gives no confidences: the classifier's own
	// probability of the intent is the turn's confidence.
	if e.Confidence <= 0 || e.Confidence > 1 || e.Confidence != e.Intent.Confidence {
		t.Errorf("turn confidence %v, classifier %v", e.Confidence, e.Intent.Confidence)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.clips) != 1 {
		t.Fatalf("server got %d requests", len(tr.clips))
	}
	// The recognizer must get the whole utterance, onset included: at
	// least the speech plus most of the pre-roll.
	if got := tr.clips[0].Duration(); got < speechDur+200*time.Millisecond {
		t.Errorf("recognizer got %v of audio for %v of speech", got, speechDur)
	}
}

func TestListenerNoInput(t *testing.T) {
	tr := newTranscriber(t, "unused")
	l, err := New(context.Background(), tr.recognizer(t), Config{Rate: 8000, Endpoint: vad.EndpointConfig{NoInputTimeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	feed(t, l, audio.Clip{Rate: 8000, Samples: make([]int16, 8000*3/2)})
	if e := next(t, l); e.Type != NoInput || e.At < 900*time.Millisecond || e.At > 1100*time.Millisecond {
		t.Fatalf("got %v at %v, want no-input at 1 s", e.Type, e.At)
	}
}

// heardTurn runs one utterance through a Listener of rec and cfg (rate
// 8 kHz, no no-input timeout) and returns the event after speech-started.
func heardTurn(t *testing.T, rec asr.Recognizer, cfg Config) Event {
	t.Helper()
	cfg.Rate, cfg.Endpoint = 8000, vad.EndpointConfig{NoInputTimeout: -1}
	l, err := New(context.Background(), rec, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	clip, _ := utterance(t, 0.5, 1.0)
	feed(t, l, clip)
	if e := next(t, l); e.Type != SpeechStarted {
		t.Fatalf("got %v, want speech-started", e.Type)
	}
	return next(t, l)
}

func TestListenerReportsRecognizerFailure(t *testing.T) {
	tr := newTranscriber(t, "x")
	tr.status = http.StatusServiceUnavailable
	if e := heardTurn(t, tr.recognizer(t), Config{}); e.Type != Error || e.Err == nil {
		t.Fatalf("got %+v, want an error event", e)
	}
}

// TestWriteFrameNeverBlocks feeds audio while the recognizer hangs: the
// media goroutine must keep going and Close must not hang.
func TestWriteFrameNeverBlocks(t *testing.T) {
	tr := newTranscriber(t, "slow")
	tr.delay = time.Hour
	l, err := New(context.Background(), tr.recognizer(t), Config{Rate: 8000, Events: 1, Queue: 8, Endpoint: vad.EndpointConfig{NoInputTimeout: -1}})
	if err != nil {
		t.Fatal(err)
	}
	clip, _ := utterance(t, 0.3, 0.8)
	t0 := time.Now()
	for i := 0; i < 5; i++ {
		feed(t, l, clip)
	}
	// A blocked WriteFrame would wait for the hour-long server; anything
	// slower than real time would fall behind a live call.
	if d := time.Since(t0); d > 5*clip.Duration() {
		t.Errorf("feeding %v of audio took %v", 5*clip.Duration(), d)
	}
	done := make(chan struct{})
	go func() { l.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung")
	}
	if err := l.WriteFrame(audio.Frame{Rate: 8000, Samples: make([]int16, 160)}); err != ErrClosed {
		t.Errorf("WriteFrame after Close: %v", err)
	}
}

func TestWriteFrameRejectsWrongRate(t *testing.T) {
	tr := newTranscriber(t, "x")
	l, err := New(context.Background(), tr.recognizer(t), Config{Rate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.WriteFrame(audio.Frame{Rate: 16000, Samples: make([]int16, 320)}); err == nil {
		t.Error("want an error for a 16 kHz frame")
	}
	if _, err := New(context.Background(), tr.recognizer(t), Config{Rate: 11025}); err == nil {
		t.Error("want an error for 11025 Hz")
	}
}

func TestRingKeepsTheLatestSamples(t *testing.T) {
	l := &Listener{ring: make([]int16, 5)}
	l.remember([]int16{1, 2, 3})
	if got := l.since(0, 3); len(got) != 3 || got[0] != 1 || got[2] != 3 {
		t.Fatalf("since = %v", got)
	}
	l.remember([]int16{4, 5, 6, 7})
	if got := l.since(0, 7); len(got) != 5 || got[0] != 3 || got[4] != 7 {
		t.Fatalf("after wrap since = %v", got)
	}
	if got := l.since(5, 7); len(got) != 2 || got[0] != 6 || got[1] != 7 {
		t.Fatalf("since(5,7) = %v", got)
	}
}

func TestEvaluate(t *testing.T) {
	tr := newTranscriber(t, "check my balance")
	clf, err := nlu.Train([]nlu.Intent{
		{Name: "check_balance", Examples: []string{"check my balance", "what is my balance"}},
		{Name: "lost_card", Examples: []string{"I lost my card", "my card was stolen"}},
	}, nlu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	clip, _ := utterance(t, 0.5, 1.0)
	if err := audio.WriteWAVFile(filepath.Join(dir, "a.wav"), clip); err != nil {
		t.Fatal(err)
	}
	csv := "file,intent,text\na.wav,check_balance,check my balance\na.wav,lost_card,I lost my card\n"
	if err := os.WriteFile(filepath.Join(dir, "labels.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	items, err := ReadLabels(filepath.Join(dir, "labels.csv"))
	if err != nil || len(items) != 2 || items[1].Text != "I lost my card" {
		t.Fatalf("ReadLabels: %v %+v", err, items)
	}
	var results []EvalResult
	rep, err := Evaluate(context.Background(), tr.recognizer(t), Config{Classifier: clf}, items, func(r EvalResult) { results = append(results, r) })
	if err != nil {
		t.Fatal(err)
	}
	if rep.N != 2 || rep.IntentAccuracy != 0.5 || len(results) != 2 || !results[0].Correct || results[1].Correct {
		t.Fatalf("report %+v results %+v", rep, results)
	}
	// "check my balance" heard for "i lost my card": three word errors
	// in four words; the first item has none in three.
	if want := 3.0 / 7.0; rep.WER < want-1e-9 || rep.WER > want+1e-9 {
		t.Errorf("WER %.3f, want %.3f", rep.WER, want)
	}
	if results[0].TurnConfidence <= 0 || results[0].TurnConfidence != results[1].TurnConfidence {
		t.Errorf("turn confidences %v %v: same text, same confidence", results[0].TurnConfidence, results[1].TurnConfidence)
	}
	// Both answers have the same confidence, one right and one wrong.
	if rep.ConfidenceAUC != 0.5 || len(rep.AtCoverage) == 0 {
		t.Errorf("confidence AUC %v, coverage %+v", rep.ConfidenceAUC, rep.AtCoverage)
	}
	if rep.LatencyP50MS < rep.EndpointMS || rep.RTF <= 0 || rep.AudioSeconds < 2 {
		t.Errorf("report %+v", rep)
	}
}

func TestReadLabelsErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"empty.csv": "file,intent\n", "short.csv": "a.wav\n"} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := ReadLabels(p); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	if _, err := ReadLabels(filepath.Join(dir, "missing.csv")); err == nil {
		t.Error("missing file: want an error")
	}
}

// TestReadLabelsForms: what spreadsheets and scripts write reads the same:
// a byte-order mark, CRLF lines, quotes, spaces, blank lines, no header;
// an error names the line.
func TestReadLabelsForms(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"bom.csv":      "\ufefffile,intent,text\r\n\"a.wav\",one,\"one\"\r\n\r\nb.wav, two ,two\r\n",
		"noheader.csv": "a.wav,one\nb.wav,two,two\n",
		"path.csv":     "path,label\na.wav,one\nb.wav,two\n",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		items, err := ReadLabels(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(items) != 2 || items[0].Path != filepath.Join(dir, "a.wav") || items[0].Intent != "one" || items[1].Intent != "two" {
			t.Errorf("%s: %+v", name, items)
		}
	}
	p := filepath.Join(dir, "bad.csv")
	os.WriteFile(p, []byte("file,intent\n\na.wav,one\nb.wav\n"), 0o644)
	if _, err := ReadLabels(p); err == nil || !strings.Contains(err.Error(), "bad.csv:4:") {
		t.Errorf("err %v, want one naming bad.csv:4", err)
	}
}

// TestListenerSecondRecognizer: with Config.Second, the turn goes to both
// recognizers; the answer the classifier is surer of wins, and a failing
// recognizer leaves the other's answer standing.
func TestListenerSecondRecognizer(t *testing.T) {
	clf, err := nlu.Train([]nlu.Intent{
		{Name: "check_balance", Examples: []string{"check my balance", "what is my balance"}},
		{Name: "lost_card", Examples: []string{"I lost my card", "my card was stolen"}},
	}, nlu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hints := HintsFromIntents(nil, nil, DefaultEscapeWords)
	turn := func(first, second *transcriber, weight float64) Event {
		t.Helper()
		return heardTurn(t, first.recognizer(t), Config{Classifier: clf, Second: second.recognizer(t), FirstWeight: weight, Hints: hints})
	}
	vague := newTranscriber(t, "the my")
	clear := newTranscriber(t, "my card was stolen")
	for _, c := range []struct {
		name          string
		first, second *transcriber
		weight        float64
		want          string
	}{
		{"second surer", vague, clear, 0, "lost_card"},
		{"first surer", clear, vague, 0, "lost_card"},
	} {
		e := turn(c.first, c.second, c.weight)
		if e.Type != Final || e.Intent == nil || e.Intent.Intent != c.want || e.Result.Text != "my card was stolen" {
			t.Errorf("%s: got %+v, want %s from %q", c.name, e, c.want, "my card was stolen")
		}
	}
	// The first would win were it weighted far above the second.
	if e := turn(vague, clear, 1e6); e.Type != Final || e.Result.Text != "the my" {
		t.Errorf("first weighted 1e6: got %q", e.Result.Text)
	}
	// Both recognizers hear the whole turn.
	for _, tr := range []*transcriber{vague, clear} {
		tr.mu.Lock()
		if len(tr.clips) != 3 {
			t.Errorf("a recognizer got %d turns, want 3", len(tr.clips))
		}
		tr.mu.Unlock()
	}
	down := newTranscriber(t, "x")
	down.status = http.StatusServiceUnavailable
	if e := turn(down, clear, 0); e.Type != Final || e.Intent == nil || e.Intent.Intent != "lost_card" {
		t.Errorf("first down: got %+v, want the second's answer", e)
	}
	if e := turn(clear, down, 0); e.Type != Final || e.Intent == nil || e.Intent.Intent != "lost_card" {
		t.Errorf("second down: got %+v, want the first's answer", e)
	}
	// A closed grammar (digits) goes to the first recognizer only.
	digits := newTranscriber(t, "one two")
	other := newTranscriber(t, "three")
	if e := heardTurn(t, digits.recognizer(t), Config{Classifier: clf, Second: other.recognizer(t),
		Hints: asr.Hints{Grammar: asr.GrammarDigits}}); e.Type != Final || e.Result.Text != "one two" {
		t.Errorf("digits grammar: got %+v", e)
	}
	other.mu.Lock()
	if len(other.clips) != 0 {
		t.Errorf("the second recognizer heard a closed-grammar turn")
	}
	other.mu.Unlock()
}

// TestSecondRecognizerNeverHoldsUpATurn: when the second engine has no
// decoder free (here PocketSphinx with a pool of one, held by another
// stream), the turn is heard by the first alone, without waiting.
func TestSecondRecognizerNeverHoldsUpATurn(t *testing.T) {
	cfg := sphinx.DefaultConfig()
	cfg.Decoders = 1
	busy, err := sphinx.New(cfg)
	if err != nil {
		t.Skipf("embedded recognizer: %v", err)
	}
	defer busy.Close()
	hints := HintsFromIntents(nil, []string{"play some music"}, DefaultEscapeWords)
	held, err := busy.NewStream(context.Background(), 8000, hints)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	clf, err := nlu.Train([]nlu.Intent{
		{Name: "lost_card", Examples: []string{"I lost my card", "my card was stolen"}},
		{Name: "check_balance", Examples: []string{"check my balance"}},
	}, nlu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	first := newTranscriber(t, "my card was stolen")
	start := time.Now()
	e := heardTurn(t, first.recognizer(t), Config{Classifier: clf, Second: busy, Hints: hints})
	if e.Type != Final || e.Result.Text != "my card was stolen" {
		t.Fatalf("got %+v, want the first recognizer's answer", e)
	}
	// The clip is ~2.5 s; a turn that waited for the held decoder would
	// end only at the listener's 5 s finish timeout or never.
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("turn took %v", d)
	}
}

//go:build cgo

package embedded

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/asr/sphinx"
	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/codec"
	"github.com/openivr/ivr/tts"
	"github.com/openivr/ivr/tts/sayas"
)

// readback is one dynamic value in its sentence and the readings a caller
// could wrongly hear instead: near values (one word different) and the
// sentence cut short.
type readback struct {
	prompt string   // with one {kind:value} field
	want   string   // the words a caller must hear
	others []string // other values for the same field
}

// expandWith puts value in place of the prompt's field value and expands.
func (r readback) expandWith(value string) (string, error) {
	open := strings.IndexByte(r.prompt, '{')
	colon := strings.IndexByte(r.prompt[open:], ':') + open
	end := strings.IndexByte(r.prompt, '}')
	return sayas.Expand(r.prompt[:colon+1] + value + r.prompt[end:])
}

func (r readback) value() string {
	colon := strings.IndexByte(r.prompt, ':')
	end := strings.IndexByte(r.prompt, '}')
	return r.prompt[colon+1 : end]
}

// readings returns the right reading (normalized words) and the wrong ones.
func (r readback) readings() (right string, wrong []string, err error) {
	t, err := sayas.Expand(r.prompt)
	if err != nil {
		return "", nil, err
	}
	right = asr.Normalize(t)
	for _, v := range r.others {
		t, err := r.expandWith(v)
		if err != nil {
			return "", nil, err
		}
		if w := asr.Normalize(t); w != right {
			wrong = append(wrong, w)
		}
	}
	return right, wrong, nil
}

var readbacks = []readback{
	{"Your balance is {amount:112.40 GBP}.", "your balance is one hundred and twelve pounds forty",
		[]string{"112.14 GBP", "120.40 GBP", "212.40 GBP", "111.40 GBP", "112.90 GBP", "112 GBP", "102.40 GBP", "112.60 GBP"}},
	{"A payment of {amount:42.50 GBP} was received.", "a payment of forty two pounds fifty was received",
		[]string{"42.15 GBP", "52.50 GBP", "43.50 GBP", "42.60 GBP", "42.58 GBP", "32.50 GBP", "42.05 GBP"}},
	{"Your new balance is {amount:1005 GBP}.", "your new balance is one thousand and five pounds",
		[]string{"1500 GBP", "1050 GBP", "1015 GBP", "105 GBP", "2005 GBP", "1006 GBP"}},
	{"That will be {amount:19.99 USD}.", "that will be nineteen dollars and ninety nine cents",
		[]string{"19.90 USD", "90.99 USD", "19.89 USD", "9.99 USD", "18.99 USD", "19.98 USD"}},
	{"Your parcel will arrive on {date:03-04}.", "your parcel will arrive on the fourth of march",
		[]string{"03-14", "04-04", "03-05", "03-24", "05-04", "03-06", "01-04"}},
	{"Your appointment is on {date:2025-06-21}.", "your appointment is on the twenty first of june twenty twenty five",
		[]string{"2025-06-20", "2025-07-21", "2024-06-21", "2025-06-27", "2025-06-11", "2035-06-21"}},
	{"Your reference number is {digits:427198}.", "your reference number is four two seven one nine eight",
		[]string{"427199", "457198", "427178", "421198", "42798", "472198", "4271980", "427158"}},
	{"Please call us back on {phone:020 7946 0018}.", "please call us back on zero two zero seven nine four six zero zero one eight",
		[]string{"020 7946 0019", "020 7964 0018", "020 7946 0013", "020 7946 018", "020 7946 0088", "020 7346 0018"}},
	{"We will call you at {time:09:05}.", "we will call you at nine oh five a m",
		[]string{"09:15", "09:50", "05:09", "21:05", "09:00", "08:05"}},
	{"You are number {number:3} in the queue.", "you are number three in the queue",
		[]string{"2", "13", "30", "4", "23"}},
	{"This is your {ordinal:3} attempt.", "this is your third attempt",
		[]string{"2", "13", "30", "4", "1"}},
}

var (
	rbRecOnce sync.Once
	rbRec     *sphinx.Recognizer
	rbRecErr  error
)

// readbackRecognizer loads the project's recognizer once, with hint
// phrases compiled as a grammar of exactly those sentences.
func readbackRecognizer(t testing.TB) *sphinx.Recognizer {
	t.Helper()
	if _, err := os.Stat(sphinx.DefaultModelDir); err != nil {
		t.Fatalf("pocketsphinx model missing (apt-get install pocketsphinx-en-us): %v", err)
	}
	rbRecOnce.Do(func() {
		cfg := sphinx.DefaultConfig()
		cfg.PhraseMode = sphinx.PhrasesGrammar
		cfg.Decoders = 2
		rbRec, rbRecErr = sphinx.New(cfg)
	})
	if rbRecErr != nil {
		t.Fatal(rbRecErr)
	}
	return rbRec
}

// telephoneChannel passes 8 kHz audio through a G.711 mu-law round trip
// with 300 ms of silence either side, as a caller's phone receives it.
func telephoneChannel(pcm []int16) []int16 {
	var c codec.PCMU
	pad := make([]int16, 2400)
	in := append(append(append([]int16{}, pad...), pcm...), pad...)
	return c.Decode(nil, c.Encode(nil, in))
}

// hear recognizes 8 kHz audio against a grammar of the candidate readings
// and returns what won.
func hear(t testing.TB, rec asr.Recognizer, pcm []int16, candidates []string) asr.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := rec.NewStream(ctx, audio.Rate8k, asr.Hints{Phrases: candidates})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for off := 0; off < len(pcm); off += 160 {
		if err := st.Write(pcm[off:min(off+160, len(pcm))]); err != nil {
			t.Fatal(err)
		}
	}
	res, err := st.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func say(t testing.TB, voice, text string) []int16 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clip, err := tts.Render(ctx, New(), tts.Request{Text: text, Voice: voice, Rate: audio.Rate8k})
	if err != nil {
		t.Fatal(err)
	}
	return clip.Samples
}

// minConfidence is the posterior a reading needs over the other
// candidates to count as heard: a forced choice that wins with less (audio
// that matches no candidate well) is not a confirmation.
const minConfidence = 0.5

// heardAs reports whether res confirms reading.
func heardAs(res asr.Result, reading string) bool {
	return res.Text == reading && res.Confidence >= minConfidence
}

// A dynamic value is read correctly: say-as turns each prompt into the
// words a caller must hear, the default voice speaks them, and after a
// G.711 round trip the project's recognizer, choosing among the right
// reading and readings of near values (one word off, or cut short), hears
// the right one. The same check hears each near value, spoken, as itself
// and not as the right reading, so a voice, a say-as rule or an audio path
// that garbled the value would fail it.
func TestDynamicValuesReadBack(t *testing.T) {
	rec := readbackRecognizer(t)
	for _, rb := range readbacks {
		t.Run(rb.value(), func(t *testing.T) {
			right, wrong, err := rb.readings()
			if err != nil {
				t.Fatal(err)
			}
			if right != rb.want {
				t.Fatalf("say-as reads %q as %q, want %q", rb.prompt, right, rb.want)
			}
			if len(wrong) != len(rb.others) {
				t.Fatalf("%d near values give only %d other readings", len(rb.others), len(wrong))
			}
			cands := append([]string{right}, wrong...)
			for i, v := range append([]string{rb.value()}, rb.others...) {
				text, err := rb.expandWith(v)
				if err != nil {
					t.Fatal(err)
				}
				res := hear(t, rec, telephoneChannel(say(t, DefaultVoice, text)), cands)
				if !heardAs(res, cands[i]) {
					t.Errorf("spoken %q, heard %q (confidence %.2f), alternatives %v", text, res.Text, res.Confidence, res.Alternatives)
				}
			}
		})
	}
}

// Without say-as the synthesizer reads the raw value its own way ("one
// hundred twelve point four zero G B P"), and the check must not confirm
// the right reading from that audio. Values whose raw reading is the same
// words (digits read one by one, a small number) are not asked.
func TestReadBackCatchesRawValues(t *testing.T) {
	rec := readbackRecognizer(t)
	for _, rb := range readbacks {
		raw := rb.prompt[:strings.IndexByte(rb.prompt, '{')] + rb.value() + rb.prompt[strings.IndexByte(rb.prompt, '}')+1:]
		if strings.Contains(rb.prompt, "{digits:") || strings.Contains(rb.prompt, "{phone:") || strings.Contains(rb.prompt, "{number:") {
			continue
		}
		right, wrong, err := rb.readings()
		if err != nil {
			t.Fatal(err)
		}
		res := hear(t, rec, telephoneChannel(say(t, DefaultVoice, raw)), append([]string{right}, wrong...))
		if heardAs(res, right) {
			t.Errorf("raw %q confirmed as %q (confidence %.2f)", raw, right, res.Confidence)
		}
	}
}

// BenchmarkReadBack measures, per voice, the share of the read-back
// sentences (each value and its near values) that the recognizer hears as
// what was spoken through the G.711 channel.
func BenchmarkReadBack(b *testing.B) {
	rec := readbackRecognizer(b)
	for _, v := range []string{"flite/kal16", "flite/kal", "flite/slt", "flite/awb", "flite/rms", "espeak-ng/en-gb", "espeak-ng/en-us"} {
		b.Run(strings.ReplaceAll(v, "/", "_"), func(b *testing.B) {
			var right, total int
			for b.Loop() {
				right, total = 0, 0
				for _, rb := range readbacks {
					r, wrong, err := rb.readings()
					if err != nil {
						b.Fatal(err)
					}
					cands := append([]string{r}, wrong...)
					values := append([]string{rb.value()}, rb.others...)
					for i, val := range values {
						text, err := rb.expandWith(val)
						if err != nil {
							b.Fatal(err)
						}
						total++
						if heardAs(hear(b, rec, telephoneChannel(say(b, v, text)), cands), cands[i]) {
							right++
						}
					}
				}
			}
			b.ReportMetric(100*float64(right)/float64(total), "%heard-right")
			b.ReportMetric(float64(total), "sentences")
		})
	}
}

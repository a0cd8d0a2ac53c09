// Package evalset generates the project's speech evaluation sets
// deterministically: caller requests for a bank and a courier intent set
// synthesized with several espeak-ng and flite voices, and spoken digits
// from human telephone recordings (Debian asterisk-core-sounds-en-wav) and
// synthetic voices. Every item goes through a telephone channel: 8 kHz,
// a 300-3400 Hz band-pass, a random level, line noise and a G.711
// round trip. Sets are written as WAV files plus labels.csv
// (file,intent,text), the format `ivr eval speech` reads.
//
// The audio is not committed; regenerate it with
//
//	go run ./speech/evalset/gen -set bank -split dev -out /tmp/bank-dev
package evalset

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/nlu"
)

//go:embed testdata/*.yaml
var intentFiles embed.FS

// Sets lists the set names Generate knows.
var Sets = []string{"bank", "courier", "digits-human", "digits-tts"}

// Splits lists the split names: dev for tuning, test for reporting once,
// and, for the request sets, train: the intents file's own examples and
// out-of-scope examples spoken through the channel, for adapting a
// classifier to the recognizer's errors without touching dev or test;
// for digits-tts, val: digits by five further voices that neither dev nor
// test uses, to check that a setting chosen on dev carries over to voices
// it was not chosen on.
var Splits = []string{"dev", "test", "train", "val"}

// Item is one labelled recording.
type Item struct {
	File   string // relative to the set directory
	Intent string
	Text   string
}

// Voice is a text-to-speech voice run as a command.
type Voice struct {
	Engine string // "espeak-ng" or "flite"
	Name   string // espeak-ng voice[+variant] or flite voice
}

func (v Voice) String() string { return v.Engine + ":" + v.Name }

// Voices are the synthetic voices the sets use; the dev split of the
// digits-tts set uses the first half and the test split the rest.
var Voices = []Voice{
	{"flite", "slt"},
	{"espeak-ng", "en-us"},
	{"flite", "kal"},
	{"espeak-ng", "en-gb+f3"},
	{"flite", "awb"},
	{"espeak-ng", "en-gb-scotland"},
	{"flite", "rms"},
	{"espeak-ng", "en-us+f2"},
	{"espeak-ng", "en-029+m3"},
	{"espeak-ng", "en-gb-x-rp+f4"},
}

// ValVoices speak the digits-tts val split: espeak-ng accents and
// variants that Voices does not use.
var ValVoices = []Voice{
	{"espeak-ng", "en-gb-x-gbclan"},
	{"espeak-ng", "en-gb-x-gbcwmd+f1"},
	{"espeak-ng", "en-us+m4"},
	{"espeak-ng", "en-gb-x-rp+m2"},
	{"espeak-ng", "en-029+f5"},
}

// Options control generation.
type Options struct {
	// PerText is how many renderings (voice and channel) each request
	// text gets; 0 means 2.
	PerText int
	// Seed varies the voices and channel draws; the same seed gives the
	// same set.
	Seed uint64
}

// IntentsYAML returns the intents file of a domain set ("bank",
// "courier", "digits-human" and "digits-tts" share "digits").
func IntentsYAML(set string) ([]byte, error) {
	name := set
	if strings.HasPrefix(set, "digits") {
		name = "digits"
	}
	return intentFiles.ReadFile("testdata/" + name + ".yaml")
}

// Generate writes set/split into dir: WAV files, labels.csv and the
// intents file (intents.yaml). It needs espeak-ng, flite and sox for the
// synthetic sets and asterisk-core-sounds-en-wav for digits-human.
func Generate(dir, set, split string, opts Options) ([]Item, error) {
	if opts.PerText <= 0 {
		opts.PerText = 2
	}
	if split != "dev" && split != "test" && split != "train" && split != "val" {
		return nil, fmt.Errorf("evalset: unknown split %q", split)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	y, err := IntentsYAML(set)
	if err != nil {
		return nil, fmt.Errorf("evalset: unknown set %q", set)
	}
	if err := os.WriteFile(filepath.Join(dir, "intents.yaml"), y, 0o644); err != nil {
		return nil, err
	}
	splitSeed := uint64(1)
	switch split {
	case "test":
		splitSeed = 2
	case "train":
		splitSeed = 3
	case "val":
		splitSeed = 4
	}
	rng := rand.New(rand.NewPCG(opts.Seed, splitSeed*1000+uint64(len(set))))
	var items []Item
	switch set {
	case "bank", "courier":
		utts := domainUtterances[set][split]
		if split == "train" {
			utts, err = exampleUtterances(y)
			if err != nil {
				return nil, err
			}
		}
		items, err = genRequests(dir, utts, opts, rng)
	case "digits-human", "digits-tts":
		if split == "train" {
			return nil, fmt.Errorf("evalset: %s has no train split", set)
		}
	}
	if split == "val" && set != "digits-tts" {
		return nil, fmt.Errorf("evalset: only digits-tts has a val split")
	}
	switch set {
	case "digits-human":
		items, err = genHumanDigits(dir, split, rng)
	case "digits-tts":
		items, err = genTTSDigits(dir, split, rng)
	}
	if err != nil {
		return nil, err
	}
	return items, writeLabels(filepath.Join(dir, "labels.csv"), items)
}

// exampleUtterances lists an intents file's examples (with synonym
// variants) and out-of-scope examples as utterances.
func exampleUtterances(y []byte) ([]utterance, error) {
	f, err := nlu.ParseFile("intents.yaml", y)
	if err != nil {
		return nil, err
	}
	var utts []utterance
	for i := range f.Intents {
		for _, p := range f.Intents[i].Phrases() {
			utts = append(utts, utterance{f.Intents[i].Name, p})
		}
	}
	for _, p := range f.OutOfScope {
		utts = append(utts, utterance{OOS, p})
	}
	return utts, nil
}

func genRequests(dir string, utts []utterance, opts Options, rng *rand.Rand) ([]Item, error) {
	var items []Item
	for i, u := range utts {
		for k := 0; k < opts.PerText; k++ {
			v := Voices[(i*opts.PerText+k+int(opts.Seed))%len(Voices)]
			clip, err := Synthesize(v, u.text, 0.85+0.3*rng.Float64())
			if err != nil {
				return nil, err
			}
			ch := RandomChannel(rng)
			name := fmt.Sprintf("%s-%03d-%d.wav", u.intent, i, k)
			if err := audio.WriteWAVFile(filepath.Join(dir, name), ch.Apply(clip, rng)); err != nil {
				return nil, err
			}
			items = append(items, Item{File: name, Intent: u.intent, Text: u.text})
		}
	}
	return items, nil
}

// AsteriskDigits is where asterisk-core-sounds-en-wav keeps its digits.
const AsteriskDigits = "/usr/share/asterisk/sounds/en/digits"

// genHumanDigits perturbs the ten human recordings (one professional
// voice): tempo, pitch, level, line noise and codec. Dev and test draw
// different perturbations of the same ten recordings, so the split
// separates conditions, not speakers.
func genHumanDigits(dir, split string, rng *rand.Rand) ([]Item, error) {
	reps := 5
	if split == "test" {
		reps = 10
	}
	var items []Item
	for d := 0; d < 10; d++ {
		src := filepath.Join(AsteriskDigits, strconv.Itoa(d)+".wav")
		if _, err := os.Stat(src); err != nil {
			return nil, fmt.Errorf("evalset: %w (apt-get install asterisk-core-sounds-en-wav)", err)
		}
		for k := 0; k < reps; k++ {
			tempo := 0.85 + 0.3*rng.Float64()
			cents := -300 + 600*rng.Float64()
			clip, err := soxPerturb(src, tempo, cents)
			if err != nil {
				return nil, err
			}
			ch := RandomChannel(rng)
			name := fmt.Sprintf("digit-%d-%02d.wav", d, k)
			if err := audio.WriteWAVFile(filepath.Join(dir, name), ch.Apply(clip, rng)); err != nil {
				return nil, err
			}
			w := digitWord[d]
			items = append(items, Item{File: name, Intent: w, Text: w})
		}
	}
	return items, nil
}

var digitWord = [10]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

// genTTSDigits speaks each digit with the synthetic voices: dev uses the
// first half of Voices and test the second, so the split separates voices.
func genTTSDigits(dir, split string, rng *rand.Rand) ([]Item, error) {
	vs := Voices[:len(Voices)/2]
	switch split {
	case "test":
		vs = Voices[len(Voices)/2:]
	case "val":
		vs = ValVoices
	}
	var items []Item
	for vi, v := range vs {
		for d := 0; d < 10; d++ {
			for k := 0; k < 2; k++ {
				clip, err := Synthesize(v, digitWord[d], 0.8+0.4*rng.Float64())
				if err != nil {
					return nil, err
				}
				ch := RandomChannel(rng)
				name := fmt.Sprintf("digit-%d-v%d-%d.wav", d, vi, k)
				if err := audio.WriteWAVFile(filepath.Join(dir, name), ch.Apply(clip, rng)); err != nil {
					return nil, err
				}
				items = append(items, Item{File: name, Intent: digitWord[d], Text: digitWord[d]})
			}
		}
	}
	return items, nil
}

// Synthesize speaks text with v; speed scales the speaking rate (1 is the
// voice's default; larger is faster).
func Synthesize(v Voice, text string, speed float64) (audio.Clip, error) {
	tmp, err := os.CreateTemp("", "evalset-*.wav")
	if err != nil {
		return audio.Clip{}, err
	}
	path := tmp.Name()
	tmp.Close()
	defer os.Remove(path)
	var cmd *exec.Cmd
	switch v.Engine {
	case "espeak-ng":
		wpm := int(math.Round(165 * speed))
		cmd = exec.Command("espeak-ng", "-v", v.Name, "-s", strconv.Itoa(wpm), "-w", path, text)
	case "flite":
		stretch := strconv.FormatFloat(1/speed, 'f', 3, 64)
		cmd = exec.Command("flite", "-voice", v.Name, "--setf", "duration_stretch="+stretch, "-t", text, "-o", path)
	default:
		return audio.Clip{}, fmt.Errorf("evalset: unknown TTS engine %q", v.Engine)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return audio.Clip{}, fmt.Errorf("evalset: %s: %w: %s (apt-get install espeak-ng flite)", v, err, stderr.String())
	}
	return audio.ReadWAVFile(path)
}

// soxPerturb changes the tempo (factor) and pitch (cents) of a recording.
func soxPerturb(src string, tempo, cents float64) (audio.Clip, error) {
	tmp, err := os.CreateTemp("", "evalset-*.wav")
	if err != nil {
		return audio.Clip{}, err
	}
	path := tmp.Name()
	tmp.Close()
	defer os.Remove(path)
	cmd := exec.Command("sox", src, "-r", "16000", path,
		"tempo", "-s", strconv.FormatFloat(tempo, 'f', 3, 64),
		"pitch", strconv.FormatFloat(cents, 'f', 0, 64))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return audio.Clip{}, fmt.Errorf("evalset: sox: %w: %s (apt-get install sox)", err, stderr.String())
	}
	return audio.ReadWAVFile(path)
}

func writeLabels(path string, items []Item) error {
	sort.Slice(items, func(i, j int) bool { return items[i].File < items[j].File })
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"file", "intent", "text"})
	for _, it := range items {
		w.Write([]string{it.File, it.Intent, it.Text})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

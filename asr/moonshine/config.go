package moonshine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/openivr/ivr/asr"
)

// Name is the engine's registry name.
const Name = "moonshine"

// DefaultModelDir is where scripts/fetch-speech-model.sh installs the
// model files; EnvModelDir overrides it.
const (
	DefaultModelDir = "/usr/local/share/openivr/moonshine"
	EnvModelDir     = "IVR_SPEECH_DIR"
)

// Files the engine reads from the model directory.
const (
	EncoderFile   = "encoder_model.onnx"
	DecoderFile   = "decoder_model_merged.onnx"
	RuntimeFile   = "libonnxruntime.so.1"
	TokenizerFile = "llama-tokenizer.js"
)

// ModelFiles lists every file the engine needs, in load order.
var ModelFiles = []string{RuntimeFile, TokenizerFile, EncoderFile, DecoderFile}

// Config shapes the engine. The zero value of a field means its default.
type Config struct {
	// ModelDir holds the model files; "" means $IVR_SPEECH_DIR, else
	// DefaultModelDir.
	ModelDir string
	// Decoders caps how many utterances run the model at once (each on
	// one thread); 0 means GOMAXPROCS. Streams beyond it wait in Finish.
	Decoders int
	// Condition prepares the audio for the model.
	Condition Conditioning
	// MaxTokensPerSecond bounds the free decode's length (0: 6, plus a
	// floor of 10 tokens).
	MaxTokensPerSecond float64
	// Beam, above 1, decodes free speech with a beam search of that width
	// instead of greedily, and reports the other finished hypotheses as
	// alternatives.
	Beam int
	// AltMargin, when positive, scores the hint phrases against the
	// audio after a free decode and reports those within AltMargin nats
	// (total log-probability) of it as alternatives. 0 leaves phrases
	// unscored: on the bank and courier dev sets it changed no intent and
	// added about 250 ms to Finish (measured with cmd/try).
	AltMargin float64
	// AltTemperature flattens the alternatives' confidences: an
	// alternative d nats under the free decode gets its confidence times
	// exp(-d/AltTemperature) (0: 1).
	AltTemperature float64
	// Calibration divides closed-grammar phrase probabilities by their
	// probability on silence raised to this power (0: off).
	Calibration float64
	// MaxAlternatives caps Result.Alternatives (0: 5).
	MaxAlternatives int
	// Bias, when positive, is the bonus in nats (added to a token's
	// logit) for tokens that spell words of the hint phrases (at least 3
	// letters of them) during free decoding; 0 is off.
	Bias float64
}

// DefaultConfig is the configuration tuned on the dev splits.
func DefaultConfig() Config {
	return Config{Condition: DefaultConditioning, Calibration: 0.5, Beam: 4, Bias: 3}
}

// ResolveModelDir returns dir, else $IVR_SPEECH_DIR, else DefaultModelDir.
func ResolveModelDir(dir string) string {
	if dir != "" {
		return dir
	}
	if d := os.Getenv(EnvModelDir); d != "" {
		return d
	}
	return DefaultModelDir
}

// CheckModelDir reports the first model file missing from dir, wrapping
// asr.ErrUnavailable and naming the script that installs it.
func CheckModelDir(dir string) error {
	for _, f := range ModelFiles {
		p := filepath.Join(dir, f)
		st, err := os.Stat(p)
		if err == nil && st.Mode().IsRegular() {
			continue
		}
		if err == nil {
			err = errors.New("not a regular file")
		} else if errors.Is(err, fs.ErrNotExist) {
			err = errors.New("missing")
		}
		return fmt.Errorf("%w: %s: model file %s: %v (install the model with scripts/fetch-speech-model.sh, or set %s)",
			asr.ErrUnavailable, Name, p, err, EnvModelDir)
	}
	return nil
}

func (c Config) withDefaults() Config {
	c.ModelDir = ResolveModelDir(c.ModelDir)
	if c.Decoders <= 0 {
		c.Decoders = runtime.GOMAXPROCS(0)
	}
	if c.MaxTokensPerSecond <= 0 {
		c.MaxTokensPerSecond = 6
	}
	if c.AltTemperature <= 0 {
		c.AltTemperature = 1
	}
	if c.MaxAlternatives <= 0 {
		c.MaxAlternatives = 5
	}
	return c
}

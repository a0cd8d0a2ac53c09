// Package sphinx is the embedded, offline speech recognizer: PocketSphinx
// (Debian libpocketsphinx 0.8+5prealpha with the pocketsphinx-en-us model)
// through cgo. Builds without cgo compile the package but New returns
// asr.ErrUnavailable.
//
// Every stream decodes with a search compiled from its hints: a JSGF
// grammar for closed answers (digits, yes/no) and a small bigram language
// model built from the intents' example phrases for open requests.
// Narrowband (telephone) audio is upsampled and its empty upper band is
// filled with a low noise floor and a mirror image before decoding (see
// asr.Conditioner); single digits are also decoded with a learned
// bandwidth extension (package asr/bwe) and the two results averaged.
package sphinx

import (
	"fmt"

	"github.com/openivr/ivr/asr"
	"github.com/openivr/ivr/asr/bwe"
)

// Name is the engine's registry name.
const Name = "sphinx"

// DefaultModelDir is where Debian's pocketsphinx-en-us installs its model.
const DefaultModelDir = "/usr/share/pocketsphinx/model/en-us"

// Phrase modes: how hints without a closed grammar are compiled.
const (
	// PhrasesLM builds a bigram language model from the phrases, so that
	// paraphrases in the same words are still recognized.
	PhrasesLM = "lm"
	// PhrasesGrammar allows exactly the phrases and nothing else.
	PhrasesGrammar = "jsgf"
)

// Config configures the embedded engine.
type Config struct {
	// ModelDir holds en-us/ (acoustic model) and cmudict-en-us.dict;
	// "" means DefaultModelDir.
	ModelDir string
	// Decoders is how many utterances decode at once (each decoder holds
	// its own copy of the acoustic model, ~25 MB); 0 means 4.
	Decoders int
	// Condition prepares audio for the 16 kHz model.
	Condition asr.ConditionConfig
	// GrammarFoldDB replaces Condition.FoldDB for closed grammars (digits,
	// yes/no, exact phrases), where the mirrored band measured better;
	// the phrase LM measured better without it.
	GrammarFoldDB float64
	// PhraseMode is PhrasesLM (default) or PhrasesGrammar.
	PhraseMode string
	// LM shapes the phrase language model.
	LM LMConfig
	// Args are extra decoder arguments as flag/value pairs
	// ("-wip", "1e-4"); they override the tuned defaults.
	Args []string
	// Batch buffers each utterance and decodes it whole when it ends, so
	// cepstral mean normalization sees the whole utterance (more accurate
	// on short answers) at the cost of decoding after the endpoint and
	// no partial results.
	Batch bool
	// BatchGrammars decodes closed grammars (digits, yes/no) in batch
	// mode even when Batch is false: their answers are short, so the
	// final pass costs little, and batch CMN measured better on them.
	BatchGrammars bool
	// GrammarWIP is the word insertion penalty of closed grammars (the
	// decoder default, 0.65, lets line noise become extra digits); 0 keeps
	// the decoder's.
	GrammarWIP float64
	// TargetDBFS is the speech level a batch-decoded utterance is scaled
	// to before conditioning (0 leaves the level alone); MaxGainDB caps the
	// gain.
	TargetDBFS float64
	MaxGainDB  float64
	// NBest caps the alternatives returned with a final result.
	NBest int
	// NBestPaths is how many lattice paths the confidences are computed
	// from (paths that differ only in silences share a text); 0 gives
	// confidences of 1 and no alternatives.
	NBestPaths int
	// AcousticScale scales path scores (nats) before the softmax that
	// turns them into confidences; smaller flattens them.
	AcousticScale float64
	// CMNInitNarrow is the prior cepstral mean of live (streaming)
	// decoding for narrowband input after conditioning; nil uses the
	// model's -cmninit, which describes wideband microphone speech.
	// Every utterance starts from it, so results do not depend on what the
	// decoder heard before.
	CMNInitNarrow []float32
	// CMNPrior is the weight of the prior mean, in frames (10 ms), when
	// CMNAdapt folds the utterance's own frames in; 0 means 500.
	CMNPrior int
	// NarrowbandMLLR is the MLLR transform of the model's means used for
	// narrowband (telephone) input: "" is the built-in telephone
	// transform, "none" none, anything else a transform file from
	// sphinxtrain's mllr_solve. Wideband input always uses the model as
	// it is.
	NarrowbandMLLR string
	// PhraseGrammarMin turns on a second, parallel decode for open
	// requests (PhrasesLM): the same audio also goes through a grammar
	// that allows exactly the hint phrases, on a second decoder, and its
	// result replaces the language model's when it heard a whole phrase
	// with at least this confidence. Callers who say an intent's example
	// are then heard almost word for word; paraphrases, which the grammar
	// cannot follow, keep the language model's result. 0 turns it off.
	// The second decoder is taken only when one is free at once (under
	// load the stream decodes with the language model alone).
	PhraseGrammarMin float64
	// BWE is the bandwidth extension for narrowband input (see
	// asr.ConditionConfig.BWE): "" or "none" none, "builtin" the model
	// embedded in package bwe, anything else a model file. New resolves it
	// into Condition.BWE.
	BWE string
	// BWEGainDB scales the synthesized band's energy, dB.
	BWEGainDB float64
	// BWEGrammars are the closed grammars (asr.GrammarDigit, ...) whose
	// streams get the extension; BWEPhrases gives it to open requests
	// (phrase language model and exact-phrase pass) too. On the dev sets
	// it lifted single digits on every set, was mixed on digit strings and
	// hurt the bank requests (BENCHMARKS.md).
	BWEGrammars []string
	BWEPhrases  bool
	// BWECombine decodes such streams twice, without the extension and
	// (on a second pooled decoder, when one is free at once) with it, and
	// averages the confidences.
	BWECombine bool
	// CMNAdapt updates the live cepstral mean after every write, so it
	// moves from the prior toward the caller's channel within the
	// utterance (pocketsphinx alone keeps the prior for the first 3 s).
	CMNAdapt bool
}

// DefaultConfig is the configuration tuned on the dev split.
func DefaultConfig() Config {
	cond := asr.DefaultCondition
	// The mirrored band at -8 dB, which the built-in MLLR transform was
	// estimated with, for phrases too (BENCHMARKS.md).
	cond.FoldDB = -8
	return Config{
		ModelDir:  DefaultModelDir,
		Decoders:  4,
		Condition: cond,
		// Batch cepstral means of the bank and courier dev splits after
		// conditioning (TestEstimateCMN), adapted toward the caller's
		// channel as the utterance goes.
		CMNInitNarrow: []float32{46.98, -9.44, -1.57, -0.73, -0.30, -15.40, 3.73, -12.67, -11.65, 5.55, -15.55, 3.11, -4.29},
		CMNPrior:      100,
		CMNAdapt:      true,
		PhraseMode:    PhrasesLM,
		LM:            DefaultLM,
		NBest:         4,
		NBestPaths:    30,
		// Path scores are sums of frame log-likelihoods, far too peaked
		// as probabilities; pocketsphinx's own posterior uses 1/20.
		AcousticScale: 0.05,
		// Tuned on the dev splits (BENCHMARKS.md): with the telephone CMN
		// prior, streaming closed grammars is as accurate as batch and
		// answers within ~20 ms of the endpoint instead of ~150-250 ms.
		BatchGrammars: false,
		GrammarWIP:    1e-3,
		GrammarFoldDB: -8,
		MaxGainDB:     30,
		// Tuned on the train splits (the intents' own examples spoken)
		// and dev (paraphrases), BENCHMARKS.md.
		PhraseGrammarMin: 0.95,
		// The learned bandwidth extension, for single digits only, 6 dB
		// above its prediction (the model, trained on Speech Commands'
		// mostly dull phone-microphone clips, predicts a held-out clip's
		// high band 6.7 dB low on average: asr/bwe tests).
		BWE:         "builtin",
		BWEGainDB:   6,
		BWEGrammars: []string{asr.GrammarDigit},
		// Decoding with and without the extension and averaging never
		// lost a voice on dev; the extension alone lost one voice on dev
		// and two of five on the TTS test split (BENCHMARKS.md).
		BWECombine: true,
	}
}

// ResolveCondition returns cfg.Condition with the bandwidth extension
// named by cfg.BWE loaded.
func ResolveCondition(cfg Config) (asr.ConditionConfig, error) {
	cc := cfg.Condition
	cc.BWEGainDB = cfg.BWEGainDB
	switch cfg.BWE {
	case "", "none":
		cc.BWE = nil
	case "builtin":
		m, err := bwe.Builtin()
		if err != nil {
			return cc, fmt.Errorf("sphinx: %w", err)
		}
		cc.BWE = m
	default:
		m, err := bwe.Load(cfg.BWE)
		if err != nil {
			return cc, fmt.Errorf("sphinx: %w", err)
		}
		cc.BWE = m
	}
	return cc, nil
}

// defaultArgs are the decoder arguments tuned on the dev split; Config.Args
// are appended after them and win.
var defaultArgs = []string{
	"-remove_silence", "no",
	"-bestpath", "yes",
	// The flat-lexicon second pass runs over the whole utterance after
	// the endpoint: ~100-300 ms of latency for no measured gain on dev.
	"-fwdflat", "no",
}

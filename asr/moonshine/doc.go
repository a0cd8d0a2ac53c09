// Package moonshine is an embedded offline speech recognizer: the
// Moonshine tiny English model (MIT, Useful Sensors) run with ONNX Runtime
// through cgo. It registers as "moonshine" in cgo builds; without cgo it
// registers nothing and New returns asr.ErrUnavailable.
//
// The model files (encoder, merged decoder, the ONNX Runtime shared
// library and the Llama tokenizer vocabulary) are installed once by
// scripts/fetch-speech-model.sh into DefaultModelDir, or the directory
// named by asr.Options.ModelDir or $IVR_SPEECH_DIR; nothing is fetched at
// run time.
//
// Recognition is per utterance: audio is buffered as it arrives and the
// model runs in Finish (an encoder pass, then greedy decoding with the
// key/value cache). Hints shape the result:
//
//   - no grammar: the free transcript is the result; with
//     Config.AltMargin, hint phrases that the decoder finds nearly as
//     probable (teacher-forced scoring) are added as alternatives;
//   - asr.GrammarDigit and asr.GrammarYesNo: every allowed phrase is
//     scored and the most probable one wins, as a closed grammar would;
//     each phrase's probability on silence is divided out (to the power
//     Config.Calibration) so that short common replies ("Oh.") do not
//     win on unclear audio;
//   - asr.GrammarDigits: the free transcript mapped to digit words ("12"
//     becomes "one two"); when that leaves fewer than two words, the
//     single-digit grammar decides.
//
// Texts are lower case in asr.Normalize form, as asr/sphinx reports them.
package moonshine

package sphinx

import (
	_ "embed"
	"fmt"
	"os"
	"strings"
	"sync"
)

// telephoneMLLR is a global MLLR transform of the en-us model's means for
// telephone audio after conditioning (band-fill -60 dBFS, fold -8 dB).
// It was estimated with sphinxtrain's bw and mllr_solve on the Google
// Speech Commands v0.02 test clips (CC BY 4.0, Pete Warden; many human
// speakers, no digits and none of the evaluation sets' words or voices)
// sent through the evaluation channel (speech/evalset.RandomChannel);
// BENCHMARKS.md has the commands.
//
//go:embed telephone.mllr
var telephoneMLLR []byte

var (
	mllrOnce  sync.Once
	mllrPaths [2]string // telephone, identity
	mllrErr   error
)

// writeMLLRs writes the built-in transforms to temporary files once per
// process (pocketsphinx reads transforms from files).
func writeMLLRs() {
	var id strings.Builder
	id.WriteString("1\n3\n")
	for range 3 {
		id.WriteString("13\n")
		for i := range 13 {
			for j := range 13 {
				if i == j {
					id.WriteString("1.0 ")
				} else {
					id.WriteString("0.0 ")
				}
			}
			id.WriteString("\n")
		}
		id.WriteString(strings.Repeat("0.0 ", 13) + "\n")
		id.WriteString(strings.Repeat("1.0 ", 13) + "\n")
	}
	for i, b := range [][]byte{telephoneMLLR, []byte(id.String())} {
		f, err := os.CreateTemp("", "ivr-*.mllr")
		if err != nil {
			mllrErr = fmt.Errorf("sphinx: %w", err)
			return
		}
		_, werr := f.Write(b)
		if cerr := f.Close(); werr != nil || cerr != nil {
			mllrErr = fmt.Errorf("sphinx: write MLLR transform: %v %v", werr, cerr)
			return
		}
		mllrPaths[i] = f.Name()
	}
}

// builtinMLLR returns the path of the built-in telephone transform.
func builtinMLLR() (string, error) {
	mllrOnce.Do(writeMLLRs)
	return mllrPaths[0], mllrErr
}

// identityMLLR returns the path of a transform that changes nothing,
// which restores the model's means.
func identityMLLR() (string, error) {
	mllrOnce.Do(writeMLLRs)
	return mllrPaths[1], mllrErr
}

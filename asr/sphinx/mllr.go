package sphinx

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// writeMLLRs writes the built-in transforms to files once per process
// (pocketsphinx reads transforms from files).
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
		p, err := sharedFile(b, ".mllr")
		if err != nil {
			mllrErr = err
			return
		}
		mllrPaths[i] = p
	}
}

// sharedFile writes b to a file in the temporary directory named by its
// content hash, once for all processes (the file is left for the next),
// and returns its path.
func sharedFile(b []byte, ext string) (string, error) {
	sum := sha256.Sum256(b)
	path := filepath.Join(os.TempDir(), "ivr-sphinx-"+hex.EncodeToString(sum[:8])+ext)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return path, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "ivr-sphinx-*.tmp")
	if err != nil {
		return "", fmt.Errorf("sphinx: %w", err)
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("sphinx: write %s: %w", path, err)
	}
	// Rename is atomic: concurrent processes write the same content.
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("sphinx: %w", err)
	}
	return path, nil
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

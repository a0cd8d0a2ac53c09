package main

import (
	"fmt"

	"github.com/openivr/ivr/asr"
)

// speechStatus says at start which recognizers this binary has, so a
// pure-Go build (no cgo, no embedded recognizer) is plain to see.
func speechStatus() []string {
	engines := asr.Available()
	var out []string
	hasEmbedded := false
	for _, e := range engines {
		if e == "sphinx" || e == "moonshine" {
			hasEmbedded = true
		}
	}
	if !hasEmbedded {
		out = append(out, "speech: no embedded recognizer in this build (built without cgo): callers use the keypad (DTMF); remote engines only")
	}
	out = append(out, fmt.Sprintf("speech: recognizers built in: %v", engines))
	return out
}

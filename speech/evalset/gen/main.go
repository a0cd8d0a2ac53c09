// Command gen writes one of the project's speech evaluation sets (WAV
// files, labels.csv and intents.yaml) into a directory:
//
//	go run ./speech/evalset/gen -set bank -split dev -out /tmp/eval/bank-dev
//
// Sets: bank, courier, digits-human, digits-tts; splits: dev, test, train (bank, courier), val (digits-tts: voices neither dev nor test uses).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/openivr/ivr/speech/evalset"
)

func main() {
	set := flag.String("set", "bank", fmt.Sprintf("set to generate: %v", evalset.Sets))
	split := flag.String("split", "dev", "split: dev (tuning), test (reporting), train (bank, courier), val (digits-tts, other voices)")
	out := flag.String("out", "", "output directory (required)")
	per := flag.Int("per", 2, "renderings per request text (voice and channel)")
	seed := flag.Uint64("seed", 0, "seed for voices and channel draws")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gen: -out is required")
		os.Exit(2)
	}
	items, err := evalset.Generate(*out, *set, *split, evalset.Options{PerText: *per, Seed: *seed})
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %d items to %s (labels.csv, intents.yaml)\n", len(items), *out)
}

package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/openivr/ivr/dtmf"
)

func init() {
	register("eval dtmf", "find DTMF digits in WAV files with the live-call detector", runEvalDTMF)
}

// evalDTMFFile is one file's result in the JSON summary.
type evalDTMFFile struct {
	Path   string `json:"path"`
	Digits string `json:"digits"`
	Error  string `json:"error,omitempty"`
	// With --expect-names: the keys the file name announces, and whether
	// the digits are exactly those.
	Want *string `json:"want,omitempty"`
	OK   *bool   `json:"ok,omitempty"`
}

// runEvalDTMF runs the call path's dtmf.Receiver over WAV files (directories
// are searched for *.wav) and prints "path<TAB>digits" per file, then one
// JSON line: {"files":N,"digits":M,"errors":E} (with --json, also each
// file's result). With --expect-names the keys announced by each file's
// name (dtmf.KeysFromFileName: the py-tonedetect convention, s = '*',
// p = '#') are compared with the digits: the JSON line adds "labelled"
// (files whose name announces keys) and "correct", each mismatch is
// reported on stderr, and the exit status is 1 if any labelled file
// differs.
func runEvalDTMF(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("eval dtmf", flag.ContinueOnError)
	fl.SetOutput(stderr)
	asJSON := fl.Bool("json", false, "include every file's result in the final JSON line")
	expect := fl.Bool("expect-names", false, "compare the digits with the keys each file name announces (0-9, A-D, s = *, p = #, P and d pauses, after -- a comment)")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: ivr eval dtmf [--json] [--expect-names] FILE|DIR...")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() == 0 {
		fl.Usage()
		return 2
	}
	var paths []string
	for _, a := range fl.Args() {
		found, err := wavPaths(a)
		if err != nil || len(found) == 0 {
			// Reported per file below, so one bad argument does not
			// hide the other results.
			found = []string{a}
		}
		paths = append(paths, found...)
	}
	results := []evalDTMFFile{}
	total, failed, labelled, correct := 0, 0, 0, 0
	for _, p := range paths {
		digits, err := dtmf.DetectFile(p)
		r := evalDTMFFile{Path: p, Digits: digits}
		if err != nil {
			r.Error = err.Error()
			failed++
			fmt.Fprintf(stderr, "ivr eval dtmf: %v\n", err)
		} else {
			total += len(digits)
			fmt.Fprintf(stdout, "%s\t%s\n", p, digits)
			if want := dtmf.KeysFromFileName(p); *expect && want != "" {
				ok := digits == want
				r.Want, r.OK = &want, &ok
				labelled++
				if ok {
					correct++
				} else {
					fmt.Fprintf(stderr, "ivr eval dtmf: %s: got %q, the name announces %q\n", p, digits, want)
				}
			}
		}
		results = append(results, r)
	}
	summary := map[string]any{"files": len(paths), "digits": total, "errors": failed}
	if *expect {
		summary["labelled"], summary["correct"] = labelled, correct
	}
	if *asJSON {
		summary["results"] = results
	}
	b, err := json.Marshal(summary)
	if err != nil {
		fmt.Fprintf(stderr, "ivr eval dtmf: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, string(b))
	if failed > 0 || correct < labelled {
		return 1
	}
	return 0
}

// wavPaths returns p itself, or the *.wav files under the directory p in
// lexical order.
func wavPaths(p string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == p && !d.IsDir() {
			out = append(out, path)
			return nil
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".wav") {
			out = append(out, path)
		}
		return nil
	})
	return out, err
}

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
}

// runEvalDTMF runs the call path's dtmf.Receiver over WAV files (directories
// are searched for *.wav) and prints "path<TAB>digits" per file, then one
// JSON line: {"files":N,"digits":M,"errors":E} (with --json, also each
// file's result).
func runEvalDTMF(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("eval dtmf", flag.ContinueOnError)
	fl.SetOutput(stderr)
	asJSON := fl.Bool("json", false, "include every file's result in the final JSON line")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: ivr eval dtmf [--json] FILE|DIR...")
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
	total, failed := 0, 0
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
		}
		results = append(results, r)
	}
	summary := map[string]any{"files": len(paths), "digits": total, "errors": failed}
	if *asJSON {
		summary["results"] = results
	}
	b, err := json.Marshal(summary)
	if err != nil {
		fmt.Fprintf(stderr, "ivr eval dtmf: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, string(b))
	if failed > 0 {
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

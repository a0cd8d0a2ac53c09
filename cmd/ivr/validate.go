package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/openivr/ivr/config"
)

func init() {
	register("validate", "check a config: schema errors and best-practice warnings as file:line", runValidate)
}

// runValidate prints every schema error and lint warning of each config
// as "file:line: message". Exit status: 0 clean (or warnings only), 1
// errors (or warnings with --strict), 2 usage.
func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	strict := fs.Bool("strict", false, "treat best-practice warnings as errors")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ivr validate [--strict] CONFIG...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	code := 0
	for _, path := range fs.Args() {
		cfg, err := config.Load(path)
		if err != nil {
			var es config.Errors
			if errors.As(err, &es) {
				for _, e := range es {
					fmt.Fprintf(stdout, "%s: error: %s\n", place(e), e.Msg)
				}
			} else {
				fmt.Fprintf(stdout, "%s: error: %v\n", path, err)
			}
			code = 1
			continue
		}
		ws := cfg.Lint()
		for _, w := range ws {
			fmt.Fprintf(stdout, "%s: warning: %s\n", place(w), w.Msg)
		}
		if len(ws) > 0 && *strict {
			code = 1
		}
		fmt.Fprintf(stderr, "%s: %d nodes, %d intents, %d warnings\n", path, len(cfg.Flow.Nodes), len(cfg.Intents), len(ws))
	}
	return code
}

func place(e *config.Error) string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return e.File
}

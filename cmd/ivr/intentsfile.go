package main

import (
	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/nlu"
)

// loadIntents reads the intents an evaluation command is given: a
// standalone intents file, or a line's main config (its intents: section),
// so owners evaluate exactly what their line serves. When the file is
// neither, the intents file's errors are reported (file:line: message).
func loadIntents(path string) (*nlu.File, error) {
	f, err := nlu.LoadFile(path)
	if err == nil {
		return f, nil
	}
	cfg, cerr := config.Load(path)
	if cerr != nil || len(cfg.Intents) == 0 {
		return nil, err
	}
	return &nlu.File{Intents: cfg.Intents, OutOfScope: cfg.OutOfScope}, nil
}

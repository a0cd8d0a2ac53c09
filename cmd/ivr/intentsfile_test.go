package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadIntentsFromMainConfig: eval commands take a line's main config as
// well as a standalone intents file, and report a broken intents file by
// file:line.
func TestLoadIntentsFromMainConfig(t *testing.T) {
	f, err := loadIntents("../../examples/bank/ivr.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Intents) < 3 || f.Intents[0].Name != "check_balance" || len(f.Intents[0].Examples) == 0 {
		t.Errorf("intents from the bank config: %+v", f.Intents)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("intents:\n  - name: a\n    exampels: [x]\n"), 0o644)
	if _, err := loadIntents(bad); err == nil || !strings.Contains(err.Error(), "bad.yaml:3:") {
		t.Errorf("err %v, want bad.yaml:3", err)
	}
	good := filepath.Join(dir, "intents.yaml")
	os.WriteFile(good, []byte("intents:\n  - name: a\n    examples: [x]\n"), 0o644)
	if f, err := loadIntents(good); err != nil || len(f.Intents) != 1 {
		t.Errorf("standalone file: %v, %+v", err, f)
	}
}

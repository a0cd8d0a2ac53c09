package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEvalVADGeneratedAndLabels(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := runEvalVAD([]string{"--items", "4", "--seed", "9", "--speech-dir", "../../../shared/data/speech", "--write", dir}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var res evalVADResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out.String())
	}
	if res.Items != 4 || res.Hops == 0 || res.AUC <= 0.5 || res.AUC > 1 || res.NsPerHop <= 0 {
		t.Fatalf("implausible result %+v", res.Result)
	}
	if !strings.Contains(out.String(), "ROC-AUC") {
		t.Fatalf("no human summary:\n%s", out.String())
	}

	// The written set reads back through --labels with the same score.
	out.Reset()
	if code := runEvalVAD([]string{"--json", "--labels", filepath.Join(dir, "labels.csv")}, &out, &errb); code != 0 {
		t.Fatalf("--labels exit %d: %s", code, errb.String())
	}
	var back evalVADResult
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &back); err != nil {
		t.Fatalf("--json output is not one JSON line: %v\n%s", err, out.String())
	}
	if back.Hops != res.Hops || back.AUC != res.AUC {
		t.Fatalf("labels round trip: %d hops AUC %v, generated %d hops AUC %v", back.Hops, back.AUC, res.Hops, res.AUC)
	}

	// Endpointer settings: a longer minimum speech is reported and can
	// only start fewer turns.
	out.Reset()
	if code := runEvalVAD([]string{"--json", "--labels", filepath.Join(dir, "labels.csv"), "--ep-min-speech", "400ms", "--ep-threshold", "0.7"}, &out, &errb); code != 0 {
		t.Fatalf("endpointer flags exit %d: %s", code, errb.String())
	}
	var strict evalVADResult
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &strict); err != nil {
		t.Fatal(err)
	}
	if strict.Endpoint.MinSpeechMs != 400 || strict.Endpoint.Detected > back.Endpoint.Detected || strict.Endpoint.FalseStarts > back.Endpoint.FalseStarts {
		t.Errorf("endpointer 400 ms / 0.7: %+v, default %+v", strict.Endpoint, back.Endpoint)
	}
}

func TestEvalVADBadFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runEvalVAD([]string{"--split", "dev"}, &out, &errb); code != 2 {
		t.Fatalf("bad split: exit %d", code)
	}
	missing := filepath.Join(t.TempDir(), "none.csv")
	if code := runEvalVAD([]string{"--labels", missing}, &out, &errb); code != 1 {
		t.Fatalf("missing labels: exit %d", code)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("labels file created")
	}
}

package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
)

func TestSayWritesWAV(t *testing.T) {
	if _, err := exec.LookPath("flite"); err != nil {
		t.Fatal("flite not installed: apt-get install flite")
	}
	out := filepath.Join(t.TempDir(), "out.wav")
	var stdout, stderr bytes.Buffer
	code := runSay([]string{"Your balance is {amount:112.40 GBP}.", "-o", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "one hundred and twelve pounds forty") {
		t.Fatalf("stdout %q: markup not expanded", stdout.String())
	}
	clip, err := audio.ReadWAVFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if clip.Rate != 8000 || clip.Duration() < 2*time.Second {
		t.Fatalf("%v at %d Hz", clip.Duration(), clip.Rate)
	}
}

func TestSayErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"hello"}, 2, "usage"},
		{[]string{"-o", filepath.Join(dir, "x.wav")}, 2, "usage"},
		{[]string{"{amount:lots}", "-o", filepath.Join(dir, "x.wav")}, 1, "say-as"},
		{[]string{"hi", "--engine", "nope", "-o", filepath.Join(dir, "x.wav")}, 2, "unknown engine"},
		{[]string{"hi", "--voice", "flite/nope", "-o", filepath.Join(dir, "x.wav")}, 1, "no voice"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if code := runSay(tt.args, &stdout, &stderr); code != tt.code || !strings.Contains(stderr.String(), tt.msg) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tt.args, code, stderr.String(), tt.code, tt.msg)
		}
	}
	var stdout bytes.Buffer
	if code := runSay([]string{"--list-voices"}, &stdout, &bytes.Buffer{}); code != 0 || !strings.Contains(stdout.String(), "flite/slt") {
		t.Errorf("--list-voices: %d %q", code, stdout.String())
	}
}

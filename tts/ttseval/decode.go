package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// decoder runs pocketsphinx_batch over raw 16 kHz files in dir.
type decoder struct {
	model string // model directory with en-us/, cmudict-en-us.dict, en-us.lm.bin
	dir   string
	mode  string // "grammar" or "lm"
	wip   float64
}

func (d decoder) writeAudio(id string, pcm []int16) error {
	var b bytes.Buffer
	if err := binary.Write(&b, binary.LittleEndian, pcm); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d.dir, id+".raw"), b.Bytes(), 0o644)
}

// writeGrammar writes a JSGF grammar that accepts any sequence of the
// test vocabulary's words: it keeps the recognizer to words a prompt can
// contain without telling it their order.
func (d decoder) writeGrammar(refs []sentence) error {
	seen := map[string]bool{}
	var words []string
	for _, r := range refs {
		for _, w := range r.words {
			if !seen[w] {
				seen[w] = true
				words = append(words, w)
			}
		}
	}
	sort.Strings(words)
	g := "#JSGF V1.0;\ngrammar words;\npublic <utt> = <w>+;\n<w> = " + strings.Join(words, " | ") + ";\n"
	return os.WriteFile(filepath.Join(d.dir, "words.jsgf"), []byte(g), 0o644)
}

// decode recognizes every id and returns id -> hypothesis.
func (d decoder) decode(ids []string) (map[string]string, error) {
	ctl := filepath.Join(d.dir, "batch.ctl")
	if err := os.WriteFile(ctl, []byte(strings.Join(ids, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	hyp := filepath.Join(d.dir, "batch.hyp")
	args := []string{
		"-hmm", filepath.Join(d.model, "en-us"),
		"-dict", filepath.Join(d.model, "cmudict-en-us.dict"),
		"-adcin", "yes", "-adchdr", "0", "-samprate", "16000",
		"-cepdir", d.dir, "-cepext", ".raw", "-ctl", ctl, "-hyp", hyp,
		"-logfn", filepath.Join(d.dir, "batch.log"),
		"-wip", strconv.FormatFloat(d.wip, 'g', -1, 64),
	}
	if d.mode == "grammar" {
		args = append(args, "-jsgf", filepath.Join(d.dir, "words.jsgf"))
	} else {
		args = append(args, "-lm", filepath.Join(d.model, "en-us.lm.bin"))
	}
	cmd := exec.Command("pocketsphinx_batch", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pocketsphinx_batch (apt-get install pocketsphinx pocketsphinx-en-us): %v: %s", err, out)
	}
	f, err := os.Open(hyp)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseHyp(f)
}

// parseHyp reads pocketsphinx hypothesis lines: "words words (id score)".
func parseHyp(f *os.File) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		open := strings.LastIndexByte(line, '(')
		if open < 0 || !strings.HasSuffix(line, ")") {
			continue
		}
		f := strings.Fields(line[open+1 : len(line)-1])
		if len(f) == 0 {
			continue
		}
		out[f[0]] = strings.TrimSpace(line[:open])
	}
	return out, sc.Err()
}

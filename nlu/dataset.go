package nlu

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// OutOfScopeLabel is the intent label that marks an out-of-scope request
// in data sets (CLINC150 and the eval CSVs).
const OutOfScopeLabel = "oos"

// Example is one labelled utterance of a data set.
type Example struct {
	Text   string
	Intent string // OutOfScopeLabel for an out-of-scope request
}

// ReadCSV reads labelled utterances from CSV with the columns text,intent.
// A first row that names the columns (any case, any order, other columns
// allowed: "intent,text,source") is a header: the text and intent columns
// are taken from where it puts them. Quoting follows RFC 4180; blank lines
// and a leading byte-order mark are ignored. Errors carry the line number.
func ReadCSV(r io.Reader) ([]Example, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var out []Example
	// Without a header a row is exactly text,intent (a third field is
	// more likely an unquoted comma than a column to ignore).
	ti, ii, want, exact := 0, 1, 2, true
	for first := true; ; first = false {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		if first {
			if t, i, ok := csvHeader(rec); ok {
				ti, ii, want, exact = t, i, max(t, i)+1, false
				continue
			}
		}
		if len(rec) < want || exact && len(rec) != want {
			return nil, fmt.Errorf("line %d: want %d fields (text,intent), got %d", line, want, len(rec))
		}
		text, intent := strings.TrimSpace(rec[ti]), strings.TrimSpace(rec[ii])
		if intent == "" {
			return nil, fmt.Errorf("line %d: empty intent", line)
		}
		out = append(out, Example{Text: text, Intent: intent})
	}
}

// csvHeader finds the text and intent columns of a header row.
func csvHeader(rec []string) (text, intent int, ok bool) {
	text, intent = -1, -1
	for i, f := range rec {
		switch strings.ToLower(strings.TrimSpace(f)) {
		case "text", "utterance", "sentence":
			text = i
		case "intent", "label":
			intent = i
		}
	}
	return text, intent, text >= 0 && intent >= 0
}

// ReadCSVFile reads a CSV file with ReadCSV; errors are prefixed with the
// file name.
func ReadCSVFile(path string) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ex, err := ReadCSV(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ex, nil
}

// WriteCSV writes examples as CSV with a text,intent header.
func WriteCSV(w io.Writer, examples []Example) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"text", "intent"}); err != nil {
		return err
	}
	for _, e := range examples {
		if err := cw.Write([]string{e.Text, e.Intent}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadCLINC150 reads the CLINC150 data_full.json file and returns its
// splits by key: "train", "val", "test", "oos_train", "oos_val",
// "oos_test".
func ReadCLINC150(path string) (map[string][]Example, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw map[string][][2]string
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make(map[string][]Example, len(raw))
	for k, rows := range raw {
		ex := make([]Example, len(rows))
		for i, r := range rows {
			ex[i] = Example{Text: r[0], Intent: r[1]}
		}
		out[k] = ex
	}
	return out, nil
}

// ReadLineAligned reads a split stored as two line-aligned files, seq.in
// (one utterance a line) and label, the layout of HWU64 and SNIPS in the
// few-shot intent detection collections.
func ReadLineAligned(dir string) ([]Example, error) {
	texts, err := readLines(filepath.Join(dir, "seq.in"))
	if err != nil {
		return nil, err
	}
	labels, err := readLines(filepath.Join(dir, "label"))
	if err != nil {
		return nil, err
	}
	if len(texts) != len(labels) {
		return nil, fmt.Errorf("%s: %d utterances but %d labels", dir, len(texts), len(labels))
	}
	out := make([]Example, len(texts))
	for i := range texts {
		out[i] = Example{Text: texts[i], Intent: labels[i]}
	}
	return out, nil
}

func readLines(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return lines, nil
}

// IntentsFromExamples groups labelled examples into intents in order of
// first appearance. Rows labelled OutOfScopeLabel are returned apart, as
// out-of-scope examples for Options.OutOfScope.
func IntentsFromExamples(examples []Example) (intents []Intent, outOfScope []string) {
	at := map[string]int{}
	for _, e := range examples {
		if e.Intent == OutOfScopeLabel {
			outOfScope = append(outOfScope, e.Text)
			continue
		}
		i, ok := at[e.Intent]
		if !ok {
			i = len(intents)
			at[e.Intent] = i
			intents = append(intents, Intent{Name: e.Intent})
		}
		intents[i].Examples = append(intents[i].Examples, e.Text)
	}
	return intents, outOfScope
}

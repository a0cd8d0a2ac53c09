package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/openivr/ivr/nlu"
)

func init() {
	register("eval nlu", "evaluate the intent classifier on a labelled test set", runEvalNLU)
}

// nluData is one evaluation's training material and labelled rows.
type nluData struct {
	intents []nlu.Intent
	oos     []string
	val     []nlu.Example
	test    []nlu.Example
}

func runEvalNLU(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eval nlu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	intentsFile := fs.String("intents", "", "YAML intents file to train on")
	trainCSV := fs.String("train", "", "CSV (text,intent) to train on instead of --intents; intent oos marks out-of-scope examples")
	testCSV := fs.String("test", "", "CSV (text,intent) to evaluate; intent oos marks out-of-scope requests")
	valCSV := fs.String("val", "", "optional CSV of held-out rows to fit the confidence temperature and out-of-scope threshold")
	clinc := fs.String("clinc", "", "CLINC150 data_full.json: train on train+oos_train, calibrate on val+oos_val, test on test+oos_test")
	hwu := fs.String("hwu", "", "directory of a seq.in/label data set (HWU64, SNIPS): calibrate on valid, test on test")
	hwuTrain := fs.String("hwu-train", "train", "training split under --hwu (train, train_5, train_10)")
	noOOS := fs.Bool("no-oos-train", false, "ignore out-of-scope training rows")
	threshold := fs.Float64("threshold", 0, "confidence threshold (overrides calibration)")
	export := fs.String("export", "", "write train.csv, val.csv and test.csv of the loaded data to this directory and exit")
	perIntent := fs.Bool("per-intent", true, "print per-intent results")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "ivr eval nlu:", err)
		return 1
	}
	d, err := loadNLUData(*intentsFile, *trainCSV, *testCSV, *valCSV, *clinc, *hwu, *hwuTrain)
	if err != nil {
		fmt.Fprintln(stderr, "ivr eval nlu:", err)
		fs.Usage()
		return 2
	}
	if *noOOS {
		d.oos = nil
	}
	if *export != "" {
		if err := exportNLUData(*export, d); err != nil {
			return fail(err)
		}
		return 0
	}
	if len(d.test) == 0 {
		return fail(errors.New("no test rows (use --test, --clinc or --hwu)"))
	}
	opts := nlu.Options{OutOfScope: d.oos, Threshold: *threshold}
	if len(d.val) > 0 {
		opts.CalibrationFolds = -1 // calibrated on the validation rows below
	}
	start, cpu0 := time.Now(), processCPU()
	c, err := nlu.Train(d.intents, opts)
	if err != nil {
		return fail(err)
	}
	trainTime, trainCPU := time.Since(start), processCPU()-cpu0
	if len(d.val) > 0 {
		c.Calibrate(d.val)
		if *threshold > 0 {
			c.SetThreshold(*threshold)
		}
	}
	calibTime := time.Since(start) - trainTime
	bar := newProgressBar(stderr, "classifying")
	rep := c.Evaluate(d.test, bar.update)
	bar.done()
	printNLUReport(stdout, rep, *perIntent)
	fmt.Fprintf(stdout, "training %v wall, %v CPU (%d rows)\n", trainTime.Round(time.Millisecond), trainCPU.Round(time.Millisecond), countExamples(d.intents)+len(d.oos))
	out := map[string]any{
		"accuracy":      round4(rep.Accuracy),
		"oos_recall":    round4(rep.OOSRecall),
		"oos_precision": round4(rep.OOSPrecision),
		"n":             rep.N,
		"n_in_scope":    rep.InScope,
		"n_oos":         rep.OutOfScope,
		"intents":       len(d.intents),
		"train_rows":    countExamples(d.intents) + len(d.oos),
		"train_ms":      trainTime.Milliseconds(),
		"train_cpu_ms":  trainCPU.Milliseconds(),
		"calibrate_ms":  calibTime.Milliseconds(),
		"p50_us":        rep.P50.Microseconds(),
		"p99_us":        rep.P99.Microseconds(),
		"threshold":     round4(rep.Threshold),
		"temperature":   round4(rep.Temperature),
	}
	b, _ := json.Marshal(out)
	fmt.Fprintln(stdout, string(b))
	return 0
}

func loadNLUData(intentsFile, trainCSV, testCSV, valCSV, clinc, hwu, hwuTrain string) (*nluData, error) {
	d := &nluData{}
	sources := 0
	for _, s := range []string{intentsFile, trainCSV, clinc, hwu} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return nil, errors.New("give exactly one of --intents, --train, --clinc, --hwu")
	}
	var err error
	switch {
	case intentsFile != "":
		var f *nlu.File
		if f, err = loadIntents(intentsFile); err != nil {
			return nil, err
		}
		d.intents, d.oos = f.Intents, f.OutOfScope
	case trainCSV != "":
		var rows []nlu.Example
		if rows, err = nlu.ReadCSVFile(trainCSV); err != nil {
			return nil, err
		}
		d.intents, d.oos = nlu.IntentsFromExamples(rows)
	case clinc != "":
		splits, err := nlu.ReadCLINC150(clinc)
		if err != nil {
			return nil, err
		}
		d.intents, d.oos = nlu.IntentsFromExamples(append(splits["train"], splits["oos_train"]...))
		d.val = append(splits["val"], splits["oos_val"]...)
		d.test = append(splits["test"], splits["oos_test"]...)
	case hwu != "":
		train, err := nlu.ReadLineAligned(filepath.Join(hwu, hwuTrain))
		if err != nil {
			return nil, err
		}
		d.intents, d.oos = nlu.IntentsFromExamples(train)
		if d.val, err = nlu.ReadLineAligned(filepath.Join(hwu, "valid")); err != nil {
			return nil, err
		}
		if d.test, err = nlu.ReadLineAligned(filepath.Join(hwu, "test")); err != nil {
			return nil, err
		}
	}
	if testCSV != "" {
		if d.test, err = nlu.ReadCSVFile(testCSV); err != nil {
			return nil, err
		}
	}
	if valCSV != "" {
		if d.val, err = nlu.ReadCSVFile(valCSV); err != nil {
			return nil, err
		}
	}
	if len(d.intents) == 0 {
		return nil, nlu.ErrNoIntents
	}
	return d, nil
}

func exportNLUData(dir string, d *nluData) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var train []nlu.Example
	for _, in := range d.intents {
		for _, e := range in.Examples {
			train = append(train, nlu.Example{Text: e, Intent: in.Name})
		}
	}
	for _, t := range d.oos {
		train = append(train, nlu.Example{Text: t, Intent: nlu.OutOfScopeLabel})
	}
	for name, rows := range map[string][]nlu.Example{"train.csv": train, "val.csv": d.val, "test.csv": d.test} {
		if len(rows) == 0 {
			continue
		}
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		err = nlu.WriteCSV(f, rows)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func countExamples(intents []nlu.Intent) int {
	n := 0
	for _, in := range intents {
		n += len(in.Examples)
	}
	return n
}

// processCPU returns the user and system CPU time of this process: on
// a shared, loaded machine wall time also counts other processes' turns.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func round4(v float64) float64 { return float64(int64(v*10000+0.5)) / 10000 }

func printNLUReport(w io.Writer, rep nlu.Report, perIntent bool) {
	if perIntent {
		fmt.Fprintf(w, "%-32s %7s %7s %9s %7s\n", "intent", "support", "correct", "precision", "recall")
		for _, r := range rep.PerIntent {
			fmt.Fprintf(w, "%-32s %7d %7d %9.3f %7.3f\n", r.Intent, r.Support, r.Correct, r.Precision(), r.Recall())
		}
		fmt.Fprintln(w, strings.Repeat("-", 66))
	}
	fmt.Fprintf(w, "rows %d (in scope %d, out of scope %d)\n", rep.N, rep.InScope, rep.OutOfScope)
	fmt.Fprintf(w, "in-scope accuracy %.2f %%\n", 100*rep.Accuracy)
	if rep.OutOfScope > 0 {
		fmt.Fprintf(w, "out-of-scope recall %.2f %%, precision %.2f %%\n", 100*rep.OOSRecall, 100*rep.OOSPrecision)
	}
	fmt.Fprintf(w, "threshold %.3f, temperature %.4f, latency p50 %v p99 %v\n", rep.Threshold, rep.Temperature, rep.P50, rep.P99)
}

// progressBar draws a bar on stderr when it is a terminal; otherwise it
// does nothing.
type progressBar struct {
	w     io.Writer
	label string
	on    bool
	last  time.Time
}

func newProgressBar(w io.Writer, label string) *progressBar {
	on := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			on = true
		}
	}
	return &progressBar{w: w, label: label, on: on}
}

func (p *progressBar) update(done, total int) {
	if !p.on || total == 0 || (done < total && time.Since(p.last) < 100*time.Millisecond) {
		return
	}
	p.last = time.Now()
	const width = 40
	n := done * width / total
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d", p.label, strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total)
}

func (p *progressBar) done() {
	if p.on {
		fmt.Fprintln(p.w)
	}
}

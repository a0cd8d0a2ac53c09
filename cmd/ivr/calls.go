package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/openivr/ivr/store"
)

func init() {
	register("calls", "list call records (newest first)", runCalls)
}

func runCalls(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("calls", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "config file whose data_dir to read (default: the demo line's)")
	dataDir := fs.String("data-dir", "", "data directory (overrides the config)")
	last := fs.Int("last", 0, "show only the newest N calls")
	asJSON := fs.Bool("json", false, "print a JSON array")
	stats := fs.Bool("queues", false, "print queue statistics (waits, answered, abandoned, callbacks) instead of calls")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := loadConfig(serveFlags{config: *cfgPath, dataDir: *dataDir})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	st, err := store.Open(cfg.Resolve(cfg.DataDir))
	if err != nil {
		fmt.Fprintf(stderr, "ivr calls: %v\n", err)
		return 1
	}
	defer st.Close()
	recs, err := st.List(context.Background(), store.Query{Limit: *last})
	if err != nil {
		fmt.Fprintf(stderr, "ivr calls: %v\n", err)
		return 1
	}
	if *stats {
		return printQueueStats(stdout, stderr, recs, *asJSON)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(recs); err != nil {
			fmt.Fprintf(stderr, "ivr calls: %v\n", err)
			return 1
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tCALL ID\tFROM\tCHANNEL\tDURATION\tEND\tPATH\tDIGITS\tTRANSFER\tQUEUE")
	for _, r := range recs {
		dur := "-"
		if r.EndedAt != nil {
			dur = r.EndedAt.Sub(r.StartedAt).Round(100 * time.Millisecond).String()
		}
		tr := ""
		if r.Transfer != nil {
			tr = r.Transfer.Target + ":" + r.Transfer.Outcome
		}
		q := ""
		if r.Queue != nil {
			q = fmt.Sprintf("%s:%s %s waited %s", r.Queue.Queue, r.Queue.Outcome, r.Queue.Agent,
				(time.Duration(r.Queue.WaitMS) * time.Millisecond).Round(time.Second))
			if r.Queue.CallbackOf != "" {
				q += " (callback)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.StartedAt.Local().Format("2006-01-02 15:04:05"),
			short(r.CallID, 16), short(r.From, 32), r.Channel, dur, r.EndReason, strings.Join(r.Path, ">"), r.Digits, tr, q)
	}
	tw.Flush()
	return 0
}

func short(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

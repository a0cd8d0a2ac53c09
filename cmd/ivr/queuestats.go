package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/openivr/ivr/models"
)

// queueStats summarises a queue over call records.
type queueStats struct {
	Queue     string `json:"queue"`
	Calls     int    `json:"calls"` // callers who joined (callback calls not counted)
	Answered  int    `json:"answered"`
	Abandoned int    `json:"abandoned"`
	TimedOut  int    `json:"timed_out"`
	// CallbacksRequested by waiting callers; CallbacksPlaced are the
	// calls the IVR made back, CallbacksAnswered those that reached an agent.
	CallbacksRequested int   `json:"callbacks_requested"`
	CallbacksPlaced    int   `json:"callbacks_placed"`
	CallbacksAnswered  int   `json:"callbacks_answered"`
	AvgWaitMS          int64 `json:"avg_wait_ms"` // until answered, for answered calls
	MaxWaitMS          int64 `json:"max_wait_ms"`
	AvgTalkMS          int64 `json:"avg_talk_ms"`
	// AnsweredWithin20s is the service level: the share of answered
	// calls (of those that did not time out or call back) answered within 20 s.
	AnsweredWithin20s float64        `json:"answered_within_20s"`
	ByAgent           map[string]int `json:"by_agent"`
}

func summariseQueues(recs []*models.CallRecord) []*queueStats {
	by := map[string]*queueStats{}
	waits := map[string][2]int64{} // sum, n of answered waits
	talks := map[string][2]int64{}
	fast := map[string]int{}
	for _, r := range recs {
		q := r.Queue
		if q == nil {
			continue
		}
		s := by[q.Queue]
		if s == nil {
			s = &queueStats{Queue: q.Queue, ByAgent: map[string]int{}}
			by[q.Queue] = s
		}
		if q.CallbackOf != "" {
			s.CallbacksPlaced++
			if q.Outcome == models.QueueAnswered {
				s.CallbacksAnswered++
				s.ByAgent[q.Agent]++
				t := talks[q.Queue]
				talks[q.Queue] = [2]int64{t[0] + q.TalkMS, t[1] + 1}
			}
			continue
		}
		s.Calls++
		s.MaxWaitMS = max(s.MaxWaitMS, q.WaitMS)
		switch q.Outcome {
		case models.QueueAnswered:
			s.Answered++
			s.ByAgent[q.Agent]++
			w := waits[q.Queue]
			waits[q.Queue] = [2]int64{w[0] + q.WaitMS, w[1] + 1}
			t := talks[q.Queue]
			talks[q.Queue] = [2]int64{t[0] + q.TalkMS, t[1] + 1}
			if time.Duration(q.WaitMS)*time.Millisecond <= 20*time.Second {
				fast[q.Queue]++
			}
		case models.QueueAbandoned:
			s.Abandoned++
		case models.QueueTimeout, models.QueueEmpty:
			s.TimedOut++
		case models.QueueCalledBack:
			s.CallbacksRequested++
		}
	}
	out := make([]*queueStats, 0, len(by))
	for name, s := range by {
		if w := waits[name]; w[1] > 0 {
			s.AvgWaitMS = w[0] / w[1]
		}
		if t := talks[name]; t[1] > 0 {
			s.AvgTalkMS = t[0] / t[1]
		}
		if n := s.Answered + s.Abandoned; n > 0 {
			s.AnsweredWithin20s = float64(fast[name]) / float64(n)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Queue < out[j].Queue })
	return out
}

func printQueueStats(stdout, stderr io.Writer, recs []*models.CallRecord, asJSON bool) int {
	stats := summariseQueues(recs)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(stats); err != nil {
			fmt.Fprintf(stderr, "ivr calls: %v\n", err)
			return 1
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "QUEUE\tCALLS\tANSWERED\tABANDONED\tTIMED OUT\tCALLBACKS (asked/placed/answered)\tAVG WAIT\tMAX WAIT\tAVG TALK\tIN 20 S")
	ms := func(v int64) string { return (time.Duration(v) * time.Millisecond).Round(time.Second).String() }
	for _, s := range stats {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d/%d/%d\t%s\t%s\t%s\t%.0f%%\n", s.Queue, s.Calls, s.Answered, s.Abandoned, s.TimedOut,
			s.CallbacksRequested, s.CallbacksPlaced, s.CallbacksAnswered, ms(s.AvgWaitMS), ms(s.MaxWaitMS), ms(s.AvgTalkMS), 100*s.AnsweredWithin20s)
	}
	tw.Flush()
	return 0
}

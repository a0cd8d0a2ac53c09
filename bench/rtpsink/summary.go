//go:build linux

package main

import (
	"math"
	"slices"
	"time"
)

// summary is the JSON the peer prints when it stops.
type summary struct {
	Calls          int `json:"calls"`            // ports opened, one per SIPp call
	CallsWithMedia int `json:"calls_with_media"` // the IVR sent RTP to the port
	CallsAnswered  int `json:"calls_answered"`   // this peer sent RTP back
	CallsEnded     int `json:"calls_ended"`      // the IVR's RTP stopped (hangup) before the peer stopped
	// NoMedia lists the calls (1-based, SIPp's call numbers) that never
	// received RTP from the IVR.
	NoMedia     []int `json:"no_media"`
	KeysSent    int   `json:"keys_sent"` // completed RFC 4733 key presses, all calls
	KeysPerCall int   `json:"keys_per_call"`

	PacketsRx   uint64 `json:"packets_rx"`
	PacketsTx   uint64 `json:"packets_tx"`
	EventsRx    uint64 `json:"events_rx"`    // telephone-event packets from the IVR
	OtherPT     uint64 `json:"other_pt"`     // packets of a payload type not offered
	SeqGaps     uint64 `json:"seq_gaps"`     // sequence number discontinuities (loss or reordering)
	SSRCChanges uint64 `json:"ssrc_changes"` // the IVR changed SSRC mid-call
	Foreign     uint64 `json:"foreign"`      // packets from another source than the first
	Malformed   uint64 `json:"malformed"`

	// MissingPackets counts 20 ms slots between a call's first and last
	// packet that carried no packet: ticks the IVR's clock skipped.
	MissingPackets uint64 `json:"missing_packets"`
	// ClockDrift compares the wall time between a call's first and last
	// audio packets with the RTP timestamps' (ms; positive: the stream fell
	// behind real time).
	ClockDriftMaxMS  float64 `json:"clock_drift_max_ms"`
	ClockDriftMeanMS float64 `json:"clock_drift_mean_ms"`

	// Interval is the gap between consecutive packets of one call, from
	// the kernel's receive timestamps; AppInterval the same gap as seen by
	// this program's goroutine (adds the peer's own scheduling delay).
	Interval    intervalStats `json:"interval_ms"`
	AppInterval intervalStats `json:"app_interval_ms"`
	// Steady is Interval restricted to the window when every call that got
	// media was up at once (nil when they never all overlapped).
	Steady *window `json:"steady,omitempty"`

	// Utterances lists what each call said (-utterances), in call order;
	// UtterancesComplete counts those sent to the end.
	Utterances         []uttResult `json:"utterances,omitempty"`
	UtterancesComplete int         `json:"utterances_complete"`
	// Speaking is Interval restricted to the window from the first
	// utterance's start to recognitionTail after the last one's speech
	// ended: while the server recognizes (nil without utterances).
	Speaking *window `json:"speaking,omitempty"`
}

// recognitionTail is how long after the last speech the Speaking window
// runs on: the endpointer's silence (500 ms) and the decoders' queue.
const recognitionTail = 3 * time.Second

// intervalStats summarises packet intervals in milliseconds.
type intervalStats struct {
	Count   int     `json:"count"`
	P50     float64 `json:"p50"`
	P90     float64 `json:"p90"`
	P99     float64 `json:"p99"`
	P999    float64 `json:"p999"`
	Max     float64 `json:"max"`
	Under18 int     `json:"under_18"` // intervals < 18 ms
	Over22  int     `json:"over_22"`  // intervals > 22 ms
	Over30  int     `json:"over_30"`
	Over40  int     `json:"over_40"`
}

// window is a time range of the run, in seconds since the peer started
// and as Unix time (to line it up with procmon's samples).
type window struct {
	FromS    float64       `json:"from_s"`
	ToS      float64       `json:"to_s"`
	FromUnix float64       `json:"from_unix"`
	ToUnix   float64       `json:"to_unix"`
	Interval intervalStats `json:"interval_ms"`
}

// Summary computes the statistics; call it after Close.
func (p *peer) Summary() summary {
	s := summary{Calls: len(p.calls), KeysPerCall: len(p.cfg.Keys), NoMedia: []int{}}
	var all, app []uint32
	var lastStart, firstEnd int64 = 0, math.MaxInt64
	var driftSum float64
	var driftN int
	for _, c := range p.calls {
		r := &c.rx
		s.PacketsTx += c.txPkts
		s.KeysSent += c.keysPressed
		if c.txPkts > 0 {
			s.CallsAnswered++
		}
		if c.ended {
			s.CallsEnded++
		}
		s.Foreign += r.foreign
		s.Malformed += r.malformed
		if r.pkts == 0 {
			s.NoMedia = append(s.NoMedia, c.idx+1)
			continue
		}
		s.CallsWithMedia++
		s.PacketsRx += r.pkts
		s.EventsRx += r.events
		s.OtherPT += r.otherPT
		s.SeqGaps += r.seqGaps
		s.SSRCChanges += r.ssrcChanges
		all = append(all, r.intervals...)
		app = append(app, r.appIntervals...)

		first, last := c.firstRx, c.lastRx
		lastStart = max(lastStart, first)
		firstEnd = min(firstEnd, last)
		wall := time.Duration(last - first)
		slots := uint64(math.Round(float64(wall)/float64(frameInterval))) + 1
		if slots > r.pkts {
			s.MissingPackets += slots - r.pkts
		}
		if r.audio > 1 {
			rtpSamples := float64(r.tsWraps)*(1<<32) + float64(r.lastTS) - float64(r.firstTS)
			drift := float64(wall)/1e6 - rtpSamples/8 // ms at 8 kHz
			s.ClockDriftMaxMS = max(s.ClockDriftMaxMS, drift)
			driftSum += drift
			driftN++
		}
	}
	if driftN > 0 {
		s.ClockDriftMeanMS = driftSum / float64(driftN)
	}
	s.Interval = stats(all)
	s.AppInterval = stats(app)
	p.utterSummary(&s)

	if s.CallsWithMedia > 0 && lastStart < firstEnd {
		s.Steady = p.window(lastStart, firstEnd)
	}
	return s
}

// window is the IVR's packet intervals received between two Unix ns times.
func (p *peer) window(fromNS, toNS int64) *window {
	epoch := p.epoch.UnixNano()
	from := uint32(max(fromNS-epoch, 0) / int64(time.Millisecond))
	to := uint32(max(toNS-epoch, 0) / int64(time.Millisecond))
	var in []uint32
	for _, c := range p.calls {
		for i, at := range c.rx.at {
			if at > from && at <= to {
				in = append(in, c.rx.intervals[i])
			}
		}
	}
	return &window{
		FromS: float64(from) / 1e3, ToS: float64(to) / 1e3,
		FromUnix: float64(fromNS/1e6) / 1e3, ToUnix: float64(toNS/1e6) / 1e3,
		Interval: stats(in),
	}
}

// utterSummary adds the utterances and the Speaking window to s.
func (p *peer) utterSummary(s *summary) {
	var first, last int64
	for _, c := range p.calls {
		u := &c.utt
		if u.u == nil {
			continue
		}
		r := uttResult{
			Call: c.idx + 1, File: u.u.File, Intent: u.u.Intent, Text: u.u.Text,
			StartUnix: unixSeconds(u.start), VoicedStartUnix: unixSeconds(u.voicedStart),
			VoicedEndUnix: unixSeconds(u.voicedEnd), EndUnix: unixSeconds(u.end), ReplyUnix: unixSeconds(u.reply),
			Complete: u.frame >= len(u.u.Frames),
		}
		if r.Complete {
			s.UtterancesComplete++
		}
		s.Utterances = append(s.Utterances, r)
		if u.start != 0 && (first == 0 || u.start < first) {
			first = u.start
		}
		last = max(last, u.voicedEnd)
	}
	if first != 0 && last > first {
		s.Speaking = p.window(first, last+int64(recognitionTail))
	}
}

// stats sorts ns (in place) and summarises it in milliseconds.
func stats(ns []uint32) intervalStats {
	st := intervalStats{Count: len(ns)}
	if len(ns) == 0 {
		return st
	}
	slices.Sort(ns)
	ms := func(v uint32) float64 { return math.Round(float64(v)/1e3) / 1e3 } // µs resolution
	st.P50 = ms(percentile(ns, 0.50))
	st.P90 = ms(percentile(ns, 0.90))
	st.P99 = ms(percentile(ns, 0.99))
	st.P999 = ms(percentile(ns, 0.999))
	st.Max = ms(ns[len(ns)-1])
	for _, v := range ns {
		switch {
		case v < 18e6:
			st.Under18++
		case v > 40e6:
			st.Over40++
			st.Over30++
			st.Over22++
		case v > 30e6:
			st.Over30++
			st.Over22++
		case v > 22e6:
			st.Over22++
		}
	}
	return st
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []uint32, q float64) uint32 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

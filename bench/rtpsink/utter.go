//go:build linux

package main

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/speech"
)

// utterance is a recording a caller says (-utterances): 8 kHz mono
// 16-bit WAV, sent as 20 ms PCMU frames in place of the fill audio.
type utterance struct {
	File   string // as given in the labels file
	Intent string
	Text   string
	Frames [][]byte // PCMU, samplesPerFrame bytes each (the last one padded with silence)
	// VoicedStart and VoicedEnd bound the speech in frames: VoicedStart
	// is the first frame whose level is voicedAboveFloorDB above the
	// recording's noise floor (its quietest frames: the 10th percentile
	// of the frame levels), VoicedEnd one past the last such frame. The
	// audio after VoicedEnd is the recording's own trailing silence, not
	// the caller's speech.
	VoicedStart, VoicedEnd int
}

// voicedAboveFloorDB is how far above the noise floor a frame is speech.
const voicedAboveFloorDB = 10

// silenceFrame is PCMU digital silence (mu-law 0xFF is +0).
var silenceFrame = func() []byte {
	f := make([]byte, samplesPerFrame)
	for i := range f {
		f[i] = 0xff
	}
	return f
}()

// loadUtterances reads a labels file (speech.ReadLabels: file,intent[,text],
// an optional header, paths relative to the file) and the WAVs it names.
func loadUtterances(path string) ([]utterance, error) {
	items, err := speech.ReadLabels(path)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	out := make([]utterance, 0, len(items))
	for _, it := range items {
		clip, err := audio.ReadWAVFile(it.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", it.Path, err)
		}
		u, err := newUtterance(clip.Rate, clip.Samples)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", it.Path, err)
		}
		// File is the name as the labels file gives it.
		u.File = it.Path
		if rel, err := filepath.Rel(dir, it.Path); err == nil && !strings.HasPrefix(rel, "..") {
			u.File = rel
		}
		u.Intent, u.Text = it.Intent, it.Text
		out = append(out, u)
	}
	return out, nil
}

// newUtterance encodes 8 kHz samples as PCMU frames and finds the speech.
func newUtterance(rate int, samples []int16) (utterance, error) {
	if rate != 8000 {
		return utterance{}, fmt.Errorf("sample rate %d Hz: want 8000 (the call's PCMU rate)", rate)
	}
	if len(samples) == 0 {
		return utterance{}, errors.New("no samples")
	}
	var u utterance
	n := (len(samples) + samplesPerFrame - 1) / samplesPerFrame
	levels := make([]float64, n)
	for k := range n {
		fr := make([]byte, samplesPerFrame)
		copy(fr, silenceFrame)
		var sum float64
		seg := samples[k*samplesPerFrame : min((k+1)*samplesPerFrame, len(samples))]
		for i, s := range seg {
			fr[i] = linearToULaw(s)
			sum += float64(s) * float64(s)
		}
		u.Frames = append(u.Frames, fr)
		levels[k] = 10*math.Log10(sum/samplesPerFrame+1e-9) - 20*math.Log10(32768)
	}
	sorted := slices.Clone(levels)
	slices.Sort(sorted)
	floor, loudest := sorted[len(sorted)/10], sorted[len(sorted)-1]
	thr := floor + voicedAboveFloorDB
	u.VoicedStart, u.VoicedEnd = -1, -1
	for k, l := range levels {
		if l >= thr {
			if u.VoicedStart < 0 {
				u.VoicedStart = k
			}
			u.VoicedEnd = k + 1
		}
	}
	if u.VoicedStart < 0 {
		return utterance{}, fmt.Errorf("no speech: the loudest 20 ms is %.1f dBFS, the noise floor %.1f dBFS", loudest, floor)
	}
	return u, nil
}

// uttState is one call's playing of its utterance.
type uttState struct {
	u     *utterance // nil: the call says nothing
	frame int        // next frame to send; -1 before the start
	// Unix ns when the packets were sent: the first frame, the first and
	// last voiced frames, and the last frame.
	start, voicedStart, voicedEnd, end int64
	// reply is the kernel receive time (Unix ns) of the IVR's first
	// audible packet after the speech ended and the IVR had been quiet
	// for replyQuietPackets packets (the barged-in prompt stopped): the
	// caller starts hearing the flow's reaction. quiet counts the quiet
	// packets since the speech ended.
	reply int64
	quiet int
}

const (
	// replyQuietPackets of IVR silence after the speech must come before
	// an audible packet counts as the reply: a prompt the caller's speech
	// did not stop is not a reply.
	replyQuietPackets = 5
	// replyLevelDBFS: a PCMU packet at least this loud (RMS) is audible.
	replyLevelDBFS = -45
)

// observe looks at a PCMU packet from the IVR received at kern.
func (s *uttState) observe(payload []byte, kern int64) {
	if s.u == nil || s.voicedEnd == 0 || s.reply != 0 || kern < s.voicedEnd {
		return
	}
	if ulawLevelDBFS(payload) < replyLevelDBFS {
		s.quiet++
		return
	}
	if s.quiet >= replyQuietPackets {
		s.reply = kern
	}
}

// ulawLevelDBFS is the RMS level of PCMU samples in dBFS.
func ulawLevelDBFS(b []byte) float64 {
	if len(b) == 0 {
		return -120
	}
	var sum float64
	for _, c := range b {
		v := float64(ulawToLinear(c))
		sum += v * v
	}
	return 10*math.Log10(sum/float64(len(b))+1e-9) - 20*math.Log10(32768)
}

// ulawToLinear is the G.711 mu-law decoder.
func ulawToLinear(c byte) int16 {
	c = ^c
	t := (int(c&0x0f) << 3) + 0x84
	t <<= (c & 0x70) >> 4
	if c&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

// uttResult is one call's utterance in the summary. Times are Unix
// seconds when the packet carrying that frame was sent (0: not sent).
type uttResult struct {
	Call            int     `json:"call"` // SIPp's call number (1-based)
	File            string  `json:"file"`
	Intent          string  `json:"intent"`
	Text            string  `json:"text,omitempty"`
	StartUnix       float64 `json:"start_unix"`
	VoicedStartUnix float64 `json:"voiced_start_unix"`
	// VoicedEndUnix is when the last frame of speech was sent: the end of
	// the caller's speech as the server receives it.
	VoicedEndUnix float64 `json:"voiced_end_unix"`
	EndUnix       float64 `json:"end_unix"`
	Complete      bool    `json:"complete"` // every frame was sent
	// ReplyUnix is when the IVR's reaction became audible: its first
	// audible packet after it had gone quiet following the speech
	// (kernel receive time; 0: none heard).
	ReplyUnix float64 `json:"reply_unix"`
}

// nextUttFrame returns the frame to send at now, or nil when the call is
// not speaking. startAt is when the utterance is due (Unix ns; 0: not yet
// known).
func (s *uttState) nextUttFrame(now, startAt int64) []byte {
	if s.u == nil || s.frame >= len(s.u.Frames) {
		return nil
	}
	if s.frame < 0 {
		if startAt == 0 || now < startAt {
			return nil
		}
		s.frame, s.start = 0, now
	}
	k := s.frame
	if k == s.u.VoicedStart {
		s.voicedStart = now
	}
	if k == s.u.VoicedEnd-1 {
		s.voicedEnd = now
	}
	if k == len(s.u.Frames)-1 {
		s.end = now
	}
	s.frame++
	return s.u.Frames[k]
}

func unixSeconds(ns int64) float64 {
	if ns == 0 {
		return 0
	}
	return float64(ns/1e3) / 1e6 // µs resolution
}

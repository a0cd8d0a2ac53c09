package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openivr/ivr/codec"
	"github.com/openivr/ivr/dtmf"
)

// TestSIPpCallerMenuEscapeAgent is the call of issue 2's "done when": a
// SIPp caller dials the demo line, hears audio (it echoes what it gets, so
// the record's inbound level shows the prompts reached it), presses 3 as an
// RFC 2833 event (a message, then back to the menu), then 0 (the escape
// hatch) and is bridged to a SIPp agent; the path is in `ivr calls --json`.
func TestSIPpCallerMenuEscapeAgent(t *testing.T) {
	agentPort, callerPort := freePort(t), freePort(t)
	agentURI := fmt.Sprintf("sip:operator@127.0.0.1:%d", agentPort)
	s := startIVR(t, "", "IVR_OPERATOR_URI="+agentURI)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	agent := sipp(ctx, t, "agent.xml", "-i", "127.0.0.1", "-p", fmt.Sprint(agentPort),
		"-mp", fmt.Sprint(mediaPort(t)), "-rtp_echo")
	agentDone := make(chan error, 1)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { agentDone <- agent.Wait() }()

	caller := sipp(ctx, t, "caller_menu.xml", "-i", "127.0.0.1", "-p", fmt.Sprint(callerPort),
		"-mp", fmt.Sprint(mediaPort(t)), "-rtp_echo", "-s", "ivr", fmt.Sprintf("127.0.0.1:%d", s.sipPort))
	runSipp(t, caller)
	select {
	case err := <-agentDone:
		if err != nil {
			t.Errorf("SIPp agent: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("the agent's call did not end after the caller hung up")
	}

	recs := s.waitEnded(t, 1)
	r := recs[0]
	if want := []string{"main", "accounting", "main", "operator"}; !equalPath(r.Path, want) {
		t.Errorf("path %v, want %v", r.Path, want)
	}
	if r.Digits != "30" {
		t.Errorf("digits %q, want \"30\"", r.Digits)
	}
	if r.Channel != "sip" || r.From == "" || r.StartedAt.IsZero() {
		t.Errorf("record fields: channel %q from %q started %v", r.Channel, r.From, r.StartedAt)
	}
	if r.EscapeNode != "main" {
		t.Errorf("escape node %q, want main", r.EscapeNode)
	}
	if r.Transfer == nil || r.Transfer.Outcome != "answered" || r.Transfer.URI != agentURI || r.Transfer.Method != "bridge" {
		t.Errorf("transfer %+v, want answered bridge to %s", r.Transfer, agentURI)
	}
	if r.EndReason != "transferred" {
		t.Errorf("end reason %q, want transferred", r.EndReason)
	}
	if r.Media == nil || r.Media.PacketsOut < 100 || r.Media.InPeakDBFS < -30 {
		t.Errorf("media %+v: the caller should have heard (and echoed) loud prompts", r.Media)
	}
}

// TestSIPpSIPInfoDigits navigates with SIP INFO (application/dtmf-relay).
func TestSIPpSIPInfoDigits(t *testing.T) {
	s := startIVR(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	runSipp(t, sipp(ctx, t, "caller_info.xml", "-i", "127.0.0.1", "-p", fmt.Sprint(freePort(t)),
		"-mp", fmt.Sprint(mediaPort(t)), "-s", "ivr", fmt.Sprintf("127.0.0.1:%d", s.sipPort)))
	r := s.waitEnded(t, 1)[0]
	if want := []string{"main", "directory", "main"}; !equalPath(r.Path, want) {
		t.Errorf("path %v, want %v", r.Path, want)
	}
	if r.Digits != "4" || r.EndReason != "caller_hangup" {
		t.Errorf("digits %q end %q, want \"4\" caller_hangup", r.Digits, r.EndReason)
	}
}

// TestSIPpInBandDigits navigates with in-band tones from a phone that
// offers no telephone-event: SIPp streams a mu-law WAV holding the tone.
func TestSIPpInBandDigits(t *testing.T) {
	s := startIVR(t, "")
	dir := t.TempDir()
	scen, err := os.ReadFile(filepath.Join(repoRoot(), "test", "sipp", "caller_inband.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "caller_inband.xml"), scen, 0o644); err != nil {
		t.Fatal(err)
	}
	// 4 for 120 ms at -12 dBFS per tone, between short silences.
	pcm := append(make([]int16, 1600), dtmf.Tone('4', 8000, 120*time.Millisecond, -12)...)
	pcm = append(pcm, make([]int16, 8000)...)
	if err := writeMulawWAV(filepath.Join(dir, "keys.wav"), pcm); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := sipp(ctx, t, "caller_inband.xml", "-i", "127.0.0.1", "-p", fmt.Sprint(freePort(t)),
		"-mp", fmt.Sprint(mediaPort(t)), "-s", "ivr", fmt.Sprintf("127.0.0.1:%d", s.sipPort))
	cmd.Args[2] = filepath.Join(dir, "caller_inband.xml")
	cmd.Dir = dir
	runSipp(t, cmd)
	r := s.waitEnded(t, 1)[0]
	if want := []string{"main", "directory", "main"}; !equalPath(r.Path, want) {
		t.Errorf("path %v, want %v", r.Path, want)
	}
	if r.Digits != "4" {
		t.Errorf("digits %q, want \"4\" (one press, once)", r.Digits)
	}
}

// writeMulawWAV writes 8 kHz G.711 mu-law WAV (format tag 7), the form
// SIPp's rtp_stream plays as payload type 0.
func writeMulawWAV(path string, pcm []int16) error {
	data := (codec.PCMU{}).Encode(nil, pcm)
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(4+8+18+8+len(data)))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, le, uint32(18))
	binary.Write(&b, le, uint16(7)) // mu-law
	binary.Write(&b, le, uint16(1)) // mono
	binary.Write(&b, le, uint32(8000))
	binary.Write(&b, le, uint32(8000)) // bytes per second
	binary.Write(&b, le, uint16(1))    // block align
	binary.Write(&b, le, uint16(8))    // bits per sample
	binary.Write(&b, le, uint16(0))    // extension size
	b.WriteString("data")
	binary.Write(&b, le, uint32(len(data)))
	b.Write(data)
	return os.WriteFile(path, b.Bytes(), 0o644)
}

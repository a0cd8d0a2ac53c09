package e2e

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
)

// TestBaresipCall calls the demo line from baresip, a real softphone: it
// hears the greeting (baresip's sndfile module dumps the decoded audio to
// a WAV file, which must hold speech), presses 4 (RFC 4733 from baresip's
// own DTMF sender), hears the message and the menu again, and hangs up.
func TestBaresipCall(t *testing.T) {
	bin := need(t, "baresip", "baresip")
	s := startIVR(t, "")
	dir := t.TempDir()
	// A silent microphone for 12 s: baresip ends the call when its file ends.
	if err := audio.WriteWAVFile(filepath.Join(dir, "mic.wav"), audio.Clip{Rate: 8000, Samples: make([]int16, 8000*12)}); err != nil {
		t.Fatal(err)
	}
	rtpBase := mediaPort(t)
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
audio_player alsa,null
audio_alert alsa,null
audio_source aufile,%s
audio_srate 8000
audio_channels 1
rtp_ports %d-%d
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module alsa.so
module sndfile.so
module stdio.so
module_app account.so
module_app menu.so
snd_path %s
`, freePort(t), filepath.Join(dir, "mic.wav"), rtpBase, rtpBase+3, dir)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte("<sip:baresip@127.0.0.1>;regint=0;audio_codecs=PCMU\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-f", dir, "-e", fmt.Sprintf("/dial sip:ivr@127.0.0.1:%d", s.sipPort))
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	logf, _ := os.Create(filepath.Join(dir, "baresip.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The keypad: baresip's console sends a typed digit as DTMF in a call.
	time.Sleep(3 * time.Second)
	io.WriteString(stdin, "4")
	time.Sleep(4 * time.Second)
	io.WriteString(stdin, "b") // hang up
	time.Sleep(time.Second)
	io.WriteString(stdin, "q") // quit
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		b, _ := os.ReadFile(logf.Name())
		t.Fatalf("baresip: %v\n%s", err, tail(string(b), 3000))
	}

	dumps, _ := filepath.Glob(filepath.Join(dir, "dump-*-dec.wav"))
	if len(dumps) != 1 {
		b, _ := os.ReadFile(logf.Name())
		t.Fatalf("baresip wrote %d decoded dumps, want 1\n%s", len(dumps), tail(string(b), 3000))
	}
	clip, err := audio.ReadWAVFile(dumps[0])
	if err != nil {
		t.Fatal(err)
	}
	// The greeting plays from the answer: the first two seconds must be
	// speech, not silence (RMS well above the -60 dBFS of an idle line).
	n := min(len(clip.Samples), 2*clip.Rate)
	if n < clip.Rate {
		t.Fatalf("only %d samples of received audio", len(clip.Samples))
	}
	if db := rmsDBFS(clip.Samples[:n]); db < -35 {
		t.Errorf("received audio at %.1f dBFS in the first 2 s: the caller heard no greeting", db)
	}

	r := s.waitEnded(t, 1)[0]
	if want := []string{"main", "directory", "main"}; !equalPath(r.Path, want) {
		t.Errorf("path %v, want %v", r.Path, want)
	}
	if r.Digits != "4" || r.EndReason != "caller_hangup" {
		t.Errorf("digits %q end %q, want \"4\" caller_hangup", r.Digits, r.EndReason)
	}
}

func rmsDBFS(s []int16) float64 {
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	rms := math.Sqrt(sum/float64(len(s))) / 32768
	if rms == 0 {
		return -96
	}
	return 20 * math.Log10(rms)
}

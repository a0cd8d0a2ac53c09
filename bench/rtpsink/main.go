//go:build linux

// Command rtpsink is the media half of the call-path load benchmark
// (bench/load/run.sh): one UDP port per SIPp call, acting as the caller's
// phone. It answers the IVR's RTP with its own 20 ms PCMU stream from the
// same port (so the IVR's symmetric latching sees a real peer), presses
// keys as RFC 4733 events at fixed offsets into the call, optionally says
// a recorded request (-utterances; bench/load/speech.sh), and timestamps
// every packet it receives from the IVR with the kernel's receive time
// (SO_TIMESTAMPNS) so the measured packet interval is the server's pacing,
// not this program's scheduling. One thread serves all ports through
// epoll, to leave the shared cores to the server. On SIGTERM or SIGINT it
// writes a JSON summary.
//
// The ports are written as a SIPp injection file (-inf): line k holds the
// port and IP address of call k, which the scenario (bench/load/caller.xml)
// puts into the SDP's m= and c= lines.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	var (
		n        = flag.Int("calls", 500, "number of calls (one UDP port each)")
		addr     = flag.String("addr", "127.0.0.1", "IP address to bind the ports to")
		csvPath  = flag.String("csv", "ports.csv", "SIPp injection file to write: SEQUENTIAL, then port;ip; per call")
		jsonPath = flag.String("json", "", "write the summary here as well as to stdout")
		keys     = flag.String("keys", "4@5s,3@15s", "keys to press as RFC 4733 events, key@offset from the first IVR packet; empty for none")
		pt       = flag.Int("pt", 0, "payload type of PCMU in the SDP the scenario sends")
		dtmfPT   = flag.Int("dtmf-pt", 101, "telephone-event payload type in the SDP the scenario sends")
		idle     = flag.Duration("idle", time.Second, "a call has ended when the IVR sent nothing for this long")
		maxRun   = flag.Duration("max-run", 30*time.Minute, "stop on its own after this long")
		progress = flag.Duration("progress", 5*time.Second, "log a progress line this often; 0 for none")
		utters   = flag.String("utterances", "", "labels CSV (file,intent[,text], paths relative to it) of 8 kHz 16-bit mono WAVs: call k says utterance k mod count, as PCMU in place of the fill audio (paused while a key press is sent)")
		utterAt  = flag.Duration("utter-at", 2*time.Second, "with -utterances: start the utterance this long after the call's first IVR packet (with -utter-sync: after every call's)")
		sync     = flag.Bool("utter-sync", false, "with -utterances: all calls start their utterance together, -utter-at after the last call received its first IVR packet")
		fill     = flag.String("fill", "", `audio outside utterances and key presses: "tone" (-20 dBFS 400 Hz) or "silence"; default tone, silence with -utterances`)
	)
	flag.Parse()
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	log.SetPrefix("rtpsink: ")

	ks, err := parseKeys(*keys)
	if err != nil {
		log.Fatalf("-keys: %v", err)
	}
	var us []utterance
	if *utters != "" {
		if us, err = loadUtterances(*utters); err != nil {
			log.Fatalf("-utterances: %v", err)
		}
		if *fill == "" {
			*fill = "silence"
		}
	}
	ip := net.ParseIP(*addr)
	if ip == nil {
		log.Fatalf("-addr %q: not an IP address", *addr)
	}
	p, err := newPeer(peerConfig{
		Calls: *n, IP: ip, PT: uint8(*pt), DTMFPT: uint8(*dtmfPT), Keys: ks, Idle: *idle,
		Utterances: us, UtterAt: *utterAt, UtterSync: *sync, Fill: *fill,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := writeInjectionFile(*csvPath, ip, p.Ports()); err != nil {
		log.Fatal(err)
	}
	log.Printf("%d ports open on %s (%d..%d), written to %s", *n, ip, p.Ports()[0], p.Ports()[len(p.Ports())-1], *csvPath)

	p.Start()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	var tick <-chan time.Time
	if *progress > 0 {
		t := time.NewTicker(*progress)
		defer t.Stop()
		tick = t.C
	}
	deadline := time.After(*maxRun)
wait:
	for {
		select {
		case <-sig:
			break wait
		case <-deadline:
			log.Printf("-max-run %v reached", *maxRun)
			break wait
		case <-tick:
			pr := p.Progress()
			log.Printf("active %d, ended %d, rx %d, tx %d, keys %d", pr.Active, pr.Ended, pr.Rx, pr.Tx, pr.Keys)
		}
	}
	p.Close()
	sum := p.Summary()
	out, err := json.Marshal(sum)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(out))
	if *jsonPath != "" {
		if err := os.WriteFile(*jsonPath, append(out, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// writeInjectionFile writes the SIPp -inf file atomically, so a script
// waiting for it never reads half of it.
func writeInjectionFile(path string, ip net.IP, ports []int) error {
	var b strings.Builder
	b.WriteString("SEQUENTIAL\n")
	for _, p := range ports {
		fmt.Fprintf(&b, "%d;%s;\n", p, ip)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

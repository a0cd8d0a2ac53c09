//go:build linux

package main

import (
	"encoding/binary"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestPeerAgainstFakeIVR plays the IVR's side: it sends 20 ms packets to
// each port and checks that the peer answers from that port with PCMU,
// presses the configured key as RFC 4733 events, and measures ~20 ms
// intervals.
func TestPeerAgainstFakeIVR(t *testing.T) {
	p, ivr, closePeer := startPeer(t, peerConfig{
		Calls: 2, IP: net.IPv4(127, 0, 0, 1), PT: 0, DTMFPT: 101,
		Keys: []keyPress{{Key: '4', At: 200 * time.Millisecond}}, Idle: 300 * time.Millisecond,
	})
	ports := p.Ports()
	const sent = 30 // 600 ms
	go func() {
		pkt := make([]byte, 12+160)
		pkt[0] = 0x80
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := range sent {
			<-tick.C
			for j, port := range ports {
				binary.BigEndian.PutUint16(pkt[2:], uint16(i))
				binary.BigEndian.PutUint32(pkt[4:], uint32(i*160))
				binary.BigEndian.PutUint32(pkt[8:], uint32(j+1))
				ivr.WriteToUDP(pkt, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
			}
		}
	}()

	// Read what the peer sends back for the call on ports[0].
	var audio, events, ends int
	var key byte = 0xff
	ivr.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 1500)
	for audio+events < 2*sent-4 {
		n, from, err := ivr.ReadFromUDP(buf)
		if err != nil {
			break
		}
		if from.Port != ports[0] {
			continue
		}
		switch pt := buf[1] & 0x7f; pt {
		case 0:
			if n != 12+160 {
				t.Fatalf("audio packet of %d bytes", n)
			}
			audio++
		case 101:
			if n != 16 {
				t.Fatalf("event packet of %d bytes", n)
			}
			events++
			key = buf[12]
			if buf[13]&0x80 != 0 {
				ends++
			}
		default:
			t.Fatalf("unexpected payload type %d", pt)
		}
	}
	if audio < 10 {
		t.Errorf("got %d audio packets back, want the peer to answer every 20 ms", audio)
	}
	if events != eventPackets+endRepeats || ends != endRepeats || key != 4 {
		t.Errorf("key press: %d event packets (%d with E), key %d; want %d, %d, 4", events, ends, key, eventPackets+endRepeats, endRepeats)
	}

	time.Sleep(500 * time.Millisecond) // longer than Idle: both calls end
	closePeer()
	s := p.Summary()
	if s.CallsWithMedia != 2 || s.CallsEnded != 2 || s.CallsAnswered != 2 {
		t.Errorf("calls with media %d, ended %d, answered %d; want 2 each", s.CallsWithMedia, s.CallsEnded, s.CallsAnswered)
	}
	if s.PacketsRx != 2*sent || s.SeqGaps != 0 || s.Foreign != 0 {
		t.Errorf("rx %d (want %d), seq gaps %d, foreign %d", s.PacketsRx, 2*sent, s.SeqGaps, s.Foreign)
	}
	if s.KeysSent != 2 {
		t.Errorf("keys sent %d, want 2", s.KeysSent)
	}
	if s.Interval.Count != 2*(sent-1) || s.Interval.P50 < 15 || s.Interval.P50 > 25 {
		t.Errorf("intervals %+v, want %d around 20 ms", s.Interval, 2*(sent-1))
	}
	if s.Steady == nil {
		t.Error("no steady window although both calls overlapped")
	}
}

func TestReaderKernelTimestamp(t *testing.T) {
	c, err := openPort(0, [4]byte{127, 0, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(c.fd)
	src, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	before := time.Now().UnixNano()
	if _, err := src.WriteToUDP([]byte("hello"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: c.port}); err != nil {
		t.Fatal(err)
	}
	r := newReader()
	var n int
	var ts int64
	for deadline := time.Now().Add(time.Second); ; {
		if n, ts, err = r.read(c.fd); err != syscall.EAGAIN || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err != nil || string(r.buf[:n]) != "hello" {
		t.Fatalf("read = %q, %v", r.buf[:n], err)
	}
	if ts < before || ts > time.Now().UnixNano() {
		t.Errorf("kernel timestamp %d not between send (%d) and now", ts, before)
	}
	if got, want := r.fromPort(), src.LocalAddr().(*net.UDPAddr).Port; got != want {
		t.Errorf("source port %d, want %d", got, want)
	}
	if kernelTimestamp(nil) != 0 || kernelTimestamp(make([]byte, 15)) != 0 {
		t.Error("empty control data should give 0")
	}
}

func TestLinearToULaw(t *testing.T) {
	for _, tc := range []struct {
		in   int16
		want byte
	}{
		{0, 0xff}, {-1, 0x7f}, {32767, 0x80}, {-32768, 0x00}, {1000, 0xce}, {-1000, 0x4e},
	} {
		if got := linearToULaw(tc.in); got != tc.want {
			t.Errorf("linearToULaw(%d) = %#x, want %#x", tc.in, got, tc.want)
		}
	}
}

func TestParseKeys(t *testing.T) {
	ks, err := parseKeys("4@5s, 3@15s")
	if err != nil || len(ks) != 2 || ks[0].Key != '4' || ks[1].At != 15*time.Second {
		t.Fatalf("parseKeys = %v, %v", ks, err)
	}
	for _, bad := range []string{"4", "x@1s", "4@-1s", "4@5s,3@5s", "44@1s"} {
		if _, err := parseKeys(bad); err == nil {
			t.Errorf("parseKeys(%q) accepted", bad)
		}
	}
	if ks, err := parseKeys(""); err != nil || ks != nil {
		t.Errorf("empty: %v, %v", ks, err)
	}
}

func TestStats(t *testing.T) {
	var ns []uint32
	for i := range 1000 {
		ns = append(ns, uint32(20e6+i*1000)) // 20.000..20.999 ms
	}
	ns[0], ns[1] = 45e6, 10e6
	st := stats(ns)
	if st.Count != 1000 || st.Max != 45 || st.Over40 != 1 || st.Over22 != 1 || st.Under18 != 1 {
		t.Errorf("stats = %+v", st)
	}
	if st.P50 < 20.49 || st.P50 > 20.51 || st.P99 < 20.98 || st.P99 > 20.999 {
		t.Errorf("percentiles = %+v", st)
	}
}

// startPeer starts a peer and a UDP socket that plays the IVR. The func closes
// the peer (once; the test's end does it if the test did not).
func startPeer(t *testing.T, cfg peerConfig) (*peer, *net.UDPConn, func()) {
	t.Helper()
	p, err := newPeer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	var once sync.Once
	stop := func() { once.Do(p.Close) }
	t.Cleanup(stop)
	ivr, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ivr.Close() })
	return p, ivr, stop
}

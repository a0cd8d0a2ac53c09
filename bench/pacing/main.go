// Command pacing compares two ways for a Go server to pace 20 ms RTP on
// many calls, without the rest of the IVR, so the load benchmark's
// interval numbers can be attributed. It sends to the ports of a running
// bench/rtpsink (its -csv file), which measures the intervals and answers
// every 20 ms, like the callers of a real run.
//
//   - tickers: what telephony/rtp does today: per call a goroutine with a
//     time.Ticker that sends one packet per tick (a late tick is dropped).
//   - shared: one goroutine for all calls, each call on its own phase of
//     the 20 ms period (1 ms slots), sending against absolute deadlines,
//     so a late slot is sent late but never skipped.
//
// In both modes each call has a receive goroutine that resets a read
// deadline per packet, as telephony/rtp's receive loop does, so the
// inbound load is the same.
//
//	pacing -mode tickers -csv ports.csv -dur 30s
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	period = 20 * time.Millisecond
	slots  = 20 // 1 ms phases of the period
)

// stream is one call's outbound RTP state.
type stream struct {
	conn   *net.UDPConn
	remote *net.UDPAddr
	seq    uint16
	ts     uint32
	pkt    []byte
}

func (s *stream) send() error {
	binary.BigEndian.PutUint16(s.pkt[2:], s.seq)
	binary.BigEndian.PutUint32(s.pkt[4:], s.ts)
	s.seq++
	s.ts += 160
	_, err := s.conn.WriteToUDP(s.pkt, s.remote)
	return err
}

func main() {
	mode := flag.String("mode", "tickers", "tickers or shared")
	csvPath := flag.String("csv", "ports.csv", "rtpsink's injection file (SEQUENTIAL, then port;ip;)")
	dur := flag.Duration("dur", 30*time.Second, "how long to send")
	ramp := flag.Duration("ramp", 10*time.Second, "start the calls evenly over this time")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("pacing: ")
	if *mode != "tickers" && *mode != "shared" {
		log.Fatalf("-mode %q: want tickers or shared", *mode)
	}
	remotes, err := readPorts(*csvPath)
	if err != nil {
		log.Fatal(err)
	}
	var streams []*stream
	for i, r := range remotes {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: r.IP})
		if err != nil {
			log.Fatal(err)
		}
		pkt := make([]byte, 12+160)
		pkt[0], pkt[1] = 0x80, 0 // RTP v2, PCMU
		binary.BigEndian.PutUint32(pkt[8:], uint32(i+1))
		for j := 12; j < len(pkt); j++ {
			pkt[j] = 0xff // mu-law silence
		}
		streams = append(streams, &stream{conn: c, remote: r, pkt: pkt})
	}

	var rx, sendErrs atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, s := range streams {
		wg.Add(1)
		go func() { // the receive side, as telephony/rtp's recvLoop
			defer wg.Done()
			buf := make([]byte, 1500)
			for {
				s.conn.SetReadDeadline(time.Now().Add(time.Second))
				if _, _, err := s.conn.ReadFromUDP(buf); err == nil {
					rx.Add(1)
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
	}

	start := time.Now()
	gap := *ramp / time.Duration(len(streams))
	switch *mode {
	case "tickers":
		for i, s := range streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Until(start.Add(time.Duration(i) * gap)))
				tick := time.NewTicker(period)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
					}
					if s.send() != nil {
						sendErrs.Add(1)
					}
				}
			}()
		}
	case "shared":
		wg.Add(1)
		go func() {
			defer wg.Done()
			// next[i] is stream i's next deadline; its phase is its start.
			next := make([]time.Time, len(streams))
			for i := range streams {
				next[i] = start.Add(time.Duration(i) * gap)
			}
			for slot := start; ; slot = slot.Add(period / slots) {
				time.Sleep(time.Until(slot))
				select {
				case <-stop:
					return
				default:
				}
				now := time.Now()
				for i, s := range streams {
					for !next[i].After(now) { // late: catch up, never skip
						if s.send() != nil {
							sendErrs.Add(1)
						}
						next[i] = next[i].Add(period)
					}
				}
			}
		}()
	}
	time.Sleep(*ramp + *dur)
	close(stop)
	for _, s := range streams {
		s.conn.SetReadDeadline(time.Now())
	}
	wg.Wait()
	fmt.Printf(`{"mode":%q,"calls":%d,"rx":%d,"send_errors":%d}`+"\n", *mode, len(streams), rx.Load(), sendErrs.Load())
}

// readPorts reads rtpsink's SIPp injection file.
func readPorts(path string) ([]*net.UDPAddr, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []*net.UDPAddr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), ";")
		if len(p) < 2 || p[0] == "SEQUENTIAL" {
			continue
		}
		port, err := strconv.Atoi(p[0])
		ip := net.ParseIP(p[1])
		if err != nil || ip == nil {
			return nil, fmt.Errorf("%s: bad line %q", path, sc.Text())
		}
		out = append(out, &net.UDPAddr{IP: ip, Port: port})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no ports", path)
	}
	return out, sc.Err()
}

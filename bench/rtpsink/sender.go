//go:build linux

package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"syscall"
	"time"
)

const (
	samplesPerFrame = 160 // 20 ms at 8 kHz
	// A key press is eventPackets packets of a growing duration (100 ms of
	// tone), then the end packet sent endRepeats times (RFC 4733 section
	// 2.5.1.4: the final packet is retransmitted for reliability).
	eventPackets = 5
	endRepeats   = 3
	eventVolume  = 10 // dBm0 below the overload point, as phones send
)

// toneFrame is one 20 ms PCMU frame of a 400 Hz tone at -20 dBFS. 400 Hz
// is exactly 8 periods in 160 samples, so the frame repeats seamlessly;
// a steady tone cannot be taken for an in-band DTMF digit.
var toneFrame = func() []byte {
	f := make([]byte, samplesPerFrame)
	amp := 32767 * math.Pow(10, -20.0/20)
	for i := range f {
		f[i] = linearToULaw(int16(amp * math.Sin(2*math.Pi*400*float64(i)/8000)))
	}
	return f
}()

// sendDue sends every packet that is due at now: each call sends every
// 20 ms on its own phase, which starts with the IVR's first packet. It
// also ends calls whose IVR stream stopped.
//
// A call ends when the loop read nothing of it for Idle: the IVR hung
// up. Read time, not the kernel's arrival time, decides, because a loop
// starved of CPU reads a backlog of old packets; a pass that itself comes
// late ends nothing, and a packet read after an end resumes the call.
func (p *peer) sendDue(buf []byte, now int64, loopLate bool) {
	idle := int64(p.cfg.Idle)
	step := int64(frameInterval)
	for _, c := range p.calls {
		if c.ended || c.remote == nil {
			continue
		}
		if now-c.lastRead > idle && !loopLate {
			c.ended = true // stop sending
			continue
		}
		tx := &c.tx
		if tx.next == 0 {
			tx.next = c.firstRx
		}
		if now < tx.next {
			continue
		}
		if now-tx.next > 5*step {
			tx.next = now // starved: resume without a burst
		}
		n := p.packet(c, buf, now)
		if err := syscall.Sendto(c.fd, buf[:n], 0, c.remote); err == nil {
			c.txPkts++
		}
		tx.next += step
	}
}

// packet writes the call's next packet into buf: audio, or the next
// packet of a key press that is due. It returns the packet's length.
func (p *peer) packet(c *call, buf []byte, now int64) int {
	tx := &c.tx
	if tx.evtPkt < 0 && tx.keyIdx < len(p.cfg.Keys) {
		k := p.cfg.Keys[tx.keyIdx]
		if time.Duration(now-c.firstRx) >= k.At {
			tx.evtPkt, tx.evtTS, tx.evtKey = 0, tx.ts, eventCode(k.Key)
		}
	}
	// RFC 3550 section 5.1 header: V=2, no padding/extension/CSRC.
	buf[0] = 0x80
	binary.BigEndian.PutUint16(buf[2:], tx.seq)
	binary.BigEndian.PutUint32(buf[8:], tx.ssrc)
	n := 12
	if tx.evtPkt >= 0 {
		k := tx.evtPkt
		buf[1] = p.cfg.DTMFPT
		if k == 0 {
			buf[1] |= 0x80 // marker: first packet of an event (RFC 4733 section 2.5.1.3)
		}
		binary.BigEndian.PutUint32(buf[4:], tx.evtTS)
		n += putEvent(buf[12:], tx.evtKey, k >= eventPackets, min(k+1, eventPackets)*samplesPerFrame)
		tx.evtPkt++
		if tx.evtPkt == eventPackets+endRepeats {
			tx.evtPkt = -1
			tx.keyIdx++
			c.keysPressed++
		}
	} else {
		buf[1] = p.cfg.PT
		if tx.marker {
			buf[1] |= 0x80
			tx.marker = false
		}
		binary.BigEndian.PutUint32(buf[4:], tx.ts)
		fr := c.utt.nextUttFrame(now, p.utterStart(c))
		if fr == nil {
			fr = p.fill
		}
		n += copy(buf[12:], fr)
	}
	tx.seq++
	tx.ts += samplesPerFrame // the media clock runs through events too
	return n
}

// utterStart is when call c is due to start its utterance (Unix ns), or
// 0 while that is not known yet (UtterSync before every call has media).
func (p *peer) utterStart(c *call) int64 {
	if p.cfg.UtterSync {
		if p.syncedAt == 0 {
			return 0
		}
		return p.syncedAt + int64(p.cfg.UtterAt)
	}
	return c.firstRx + int64(p.cfg.UtterAt)
}

// putEvent writes an RFC 4733 section 2.3 payload and returns its length.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
func putEvent(b []byte, event uint8, end bool, duration int) int {
	b[0] = event
	b[1] = eventVolume
	if end {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], uint16(duration))
	return 4
}

// eventCode maps a key to its RFC 4733 section 3.2 event code.
func eventCode(k byte) uint8 {
	switch {
	case k >= '0' && k <= '9':
		return k - '0'
	case k == '*':
		return 10
	case k == '#':
		return 11
	case k >= 'A' && k <= 'D':
		return 12 + k - 'A'
	}
	return 0
}

// parseKeys reads "4@5s,3@15s".
func parseKeys(s string) ([]keyPress, error) {
	var ks []keyPress
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for _, f := range strings.Split(s, ",") {
		key, at, ok := strings.Cut(strings.TrimSpace(f), "@")
		if !ok || len(key) != 1 || !strings.Contains("0123456789*#ABCD", key) {
			return nil, fmt.Errorf("%q: want key@offset, key one of 0-9 * # A-D", f)
		}
		d, err := time.ParseDuration(at)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%q: bad offset", f)
		}
		if len(ks) > 0 && d <= ks[len(ks)-1].At {
			return nil, fmt.Errorf("%q: offsets must increase", f)
		}
		ks = append(ks, keyPress{Key: key[0], At: d})
	}
	return ks, nil
}

// linearToULaw is the ITU-T G.711 mu-law encoder (the classic Sun
// reference algorithm: bias 0x84, segment search, inverted bits).
func linearToULaw(s int16) byte {
	const bias, clip = 0x84, 32635
	x := int(s)
	sign := 0
	if x < 0 {
		x, sign = -x, 0x80
	}
	if x > clip {
		x = clip
	}
	x += bias
	exp := 7
	for mask := 0x4000; x&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (x >> (exp + 3)) & 0x0f
	return ^byte(sign | exp<<4 | mant)
}

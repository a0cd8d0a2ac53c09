package rtp

// jitterBuffer puts packets back in sequence order. A gap is waited for
// while fewer than depth packets queue behind it; then it is declared lost
// and concealed. It keeps copies in preallocated slots, so the receive path
// does not allocate.
type jitterBuffer struct {
	depth   int
	slots   [jitterSlots]jbSlot
	next    uint16 // sequence number to play next
	started bool
	waiting int // packets held in slots
}

const jitterSlots = 32 // must exceed depth; power of two for the index mask

type jbSlot struct {
	used    bool
	skip    bool // a sequence number used by another payload type (RFC 4733)
	seq     uint16
	payload []byte
}

func newJitterBuffer(depth int) *jitterBuffer {
	if depth >= jitterSlots {
		depth = jitterSlots - 1
	}
	jb := &jitterBuffer{depth: depth}
	for i := range jb.slots {
		jb.slots[i].payload = make([]byte, 0, 1500)
	}
	return jb
}

// push stores a packet. It reports late for packets already played or held
// twice (duplicates), which are dropped.
func (jb *jitterBuffer) push(seq uint16, payload []byte) (late bool) {
	if !jb.started {
		jb.started = true
		jb.next = seq
	}
	d := int16(seq - jb.next) // distance with wrap-around (RFC 3550 A.1)
	switch {
	case d < 0 && d > -jitterSlots*4:
		return true
	case d < 0 || int(d) >= jitterSlots:
		// A jump (the peer restarted its stream or lost many packets):
		// resynchronise on this packet.
		jb.reset(seq)
	}
	sl := &jb.slots[seq%jitterSlots]
	if sl.used {
		return true
	}
	sl.used, sl.skip, sl.seq = true, false, seq
	sl.payload = append(sl.payload[:0], payload...)
	jb.waiting++
	return false
}

// skip marks a sequence number as taken by a packet that is not audio,
// so the buffer steps over it instead of declaring it lost.
func (jb *jitterBuffer) skip(seq uint16) {
	if !jb.started {
		jb.started = true
		jb.next = seq
	}
	d := int16(seq - jb.next)
	if d < 0 || int(d) >= jitterSlots {
		return // already behind us, or too far ahead to matter
	}
	sl := &jb.slots[seq%jitterSlots]
	if sl.used {
		return
	}
	sl.used, sl.skip, sl.seq = true, true, seq
	jb.waiting++
}

// pop emits packets that are ready, in order; lost marks a concealed gap.
func (jb *jitterBuffer) pop(emit func(payload []byte, lost bool)) {
	for jb.waiting > 0 {
		sl := &jb.slots[jb.next%jitterSlots]
		if sl.used && sl.seq == jb.next {
			sl.used = false
			jb.waiting--
			jb.next++
			if !sl.skip {
				emit(sl.payload, false)
			}
			continue
		}
		if jb.waiting < jb.depth {
			return // wait a little longer for the missing packet
		}
		jb.next++
		emit(nil, true)
	}
}

func (jb *jitterBuffer) reset(seq uint16) {
	for i := range jb.slots {
		jb.slots[i].used = false
	}
	jb.waiting = 0
	jb.next = seq
}

package rtp

import (
	"fmt"
	"testing"
)

// TestJitterBuffer runs packet orders through the buffer and checks what
// comes out: payloads in sequence, gaps concealed once the buffer is deep
// enough, late and duplicate packets dropped.
func TestJitterBuffer(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []uint16
		out  string // payload seqs in order, "L" for a concealed loss
		late int
	}{
		{"in order", []uint16{1, 2, 3, 4}, "1 2 3 4", 0},
		{"swapped pair", []uint16{1, 3, 2, 4}, "1 2 3 4", 0},
		{"one lost", []uint16{1, 3, 4, 5, 6}, "1 L 3 4 5 6", 0},
		{"lost then late", []uint16{1, 3, 4, 5, 2, 6}, "1 L 3 4 5 6", 1},
		{"duplicate", []uint16{1, 2, 2, 3}, "1 2 3", 1},
		{"wrap", []uint16{65534, 65535, 0, 1}, "65534 65535 0 1", 0},
		{"reorder across wrap", []uint16{65535, 1, 0, 2}, "65535 0 1 2", 0},
		{"restart far ahead", []uint16{1, 2, 5000, 5001}, "1 2 5000 5001", 0},
		{"burst lost", []uint16{1, 5, 6, 7, 8}, "1 L L L 5 6 7 8", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jb := newJitterBuffer(3)
			var got []string
			late := 0
			for _, seq := range tc.in {
				if jb.push(seq, []byte(fmt.Sprint(seq))) {
					late++
				}
				jb.pop(func(p []byte, lost bool) {
					if lost {
						got = append(got, "L")
					} else {
						got = append(got, string(p))
					}
				})
			}
			if s := join(got); s != tc.out {
				t.Errorf("out %q, want %q", s, tc.out)
			}
			if late != tc.late {
				t.Errorf("late %d, want %d", late, tc.late)
			}
		})
	}
}

func join(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out
}

func BenchmarkJitterBufferInOrder(b *testing.B) {
	jb := newJitterBuffer(3)
	payload := make([]byte, 160)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		jb.push(uint16(i), payload)
		jb.pop(func([]byte, bool) {})
	}
}

// TestJitterSkip: sequence numbers taken by telephone-events are stepped
// over, not concealed as lost audio.
func TestJitterSkip(t *testing.T) {
	jb := newJitterBuffer(3)
	var got []string
	emit := func(p []byte, lost bool) {
		if lost {
			got = append(got, "L")
		} else {
			got = append(got, string(p))
		}
	}
	jb.push(1, []byte("1"))
	jb.pop(emit)
	jb.skip(2)
	jb.skip(3)
	jb.pop(emit)
	jb.push(4, []byte("4"))
	jb.pop(emit)
	if s := join(got); s != "1 4" {
		t.Errorf("out %q, want \"1 4\"", s)
	}
}

package hold

import (
	"bytes"
	"encoding/binary"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
)

// FuzzPlayer drives a player with a random mix of reads of any size,
// announcements (either mode, odd rates, silent or tiny clips), odd
// timing options and a stop, over tracks shorter than a frame or a fade.
// It checks that reads are always whole until the stop, that every
// announcement finishes once enough has been read, and that nothing
// panics or hangs.
func FuzzPlayer(f *testing.F) {
	f.Add([]byte{0, 10, 1, 200, 2, 3, 0, 255, 1, 7, 0, 90, 3})
	f.Add([]byte{5, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0})
	f.Add([]byte{9, 250, 1, 4, 1, 4, 1, 4, 0, 255, 0, 255, 0, 255})
	f.Add([]byte{3, 1, 0, 0, 0, 3, 1, 9, 9})
	dir := f.TempDir()
	paths := []string{
		writeWAV(f, dir, "short.wav", r8, tone(r8, 440, 6000, 120*time.Millisecond)),
		writeWAV(f, dir, "dip.wav", r8, dipTrack(3*time.Second, time.Second, 500*time.Millisecond)),
		writeWAV(f, dir, "mid.wav", audio.Rate16k, tone(audio.Rate16k, 550, 6000, 700*time.Millisecond)),
	}
	lib := NewLibrary(nil)
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) == 0 || len(ops) > 400 {
			return
		}
		cfg := ops[0]
		var opts []Option
		if cfg&1 != 0 {
			opts = append(opts, WithFades(0, 0), WithPauses(0, 0))
		}
		if cfg&2 != 0 {
			opts = append(opts, WithLookahead(0), WithUrgentWithin(-time.Second))
		}
		if cfg&4 != 0 {
			opts = append(opts, WithFades(5*time.Second, 5*time.Second))
		}
		rate := []int{r8, audio.Rate16k, 11025, 0}[cfg>>3&3]
		var tracks []string
		if cfg&32 == 0 {
			tracks = paths
		}
		p := NewPlayer(lib, tracks, rate, int(int8(cfg)), opts...)
		var dones []<-chan struct{}
		stopped := false
		buf := make([]int16, 2048)
		for i := 1; i+1 < len(ops); i += 2 {
			op, arg := ops[i], int(ops[i+1])
			switch op % 4 {
			case 0, 3: // a read of any size
				k := arg * 7
				n, err := p.ReadPCM(buf[:k])
				if stopped {
					if n != 0 || err != io.EOF {
						t.Fatalf("read after stop: %d, %v", n, err)
					}
				} else if n != k || err != nil {
					t.Fatalf("read %d: %d, %v", k, n, err)
				}
			case 1:
				cr := []int{r8, audio.Rate16k, 48000, 0, -1, 11025}[arg%6]
				var s []int16
				switch arg % 3 {
				case 0:
					s = noise(uint64(arg), 5000, arg*37)
				case 1:
					s = make([]int16, arg)
				}
				dones = append(dones, p.Announce(audio.Clip{Rate: cr, Samples: s}, Mode(arg&1)))
			case 2:
				if arg%5 == 0 {
					p.Stop()
					stopped = true
				}
			}
		}
		if !stopped {
			// Every announcement ends within its wait, the pauses and
			// its length (at most ~1 s here): read 30 s.
			for range 30 * 50 {
				if n, err := p.ReadPCM(buf[:p.Rate()/50]); n != p.Rate()/50 || err != nil {
					t.Fatalf("read: %d, %v", n, err)
				}
			}
		}
		for i, d := range dones {
			if !closed(d) {
				t.Fatalf("announcement %d never finished", i)
			}
		}
		p.Stop()
	})
}

// FuzzDecode feeds arbitrary bytes to the music decoder: it must return
// a track or an error, without panicking and without allocating far
// beyond the file's size (a malformed header must not cost gigabytes).
func FuzzDecode(f *testing.F) {
	var good bytes.Buffer
	ws := &writeSeeker{}
	if err := audio.WriteWAV(ws, audio.Clip{Rate: r8, Samples: tone(r8, 440, 6000, 200*time.Millisecond)}); err != nil {
		f.Fatal(err)
	}
	good.Write(ws.b)
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:60])
	// A fmt chunk claiming 2 GB.
	huge := append([]byte{}, good.Bytes()[:44]...)
	binary.LittleEndian.PutUint32(huge[16:], 0x7fffffff)
	f.Add(huge)
	f.Add([]byte("RIFF\x24\x00\x00\x00WAVEdata\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for _, rate := range []int{r8, audio.Rate16k} {
			tr, err := decodeBytes(b, rate)
			if err == nil && (tr == nil || len(tr.Samples) < rate/10 || tr.Rate != rate) {
				t.Fatalf("rate %d: no error, track %+v", rate, tr)
			}
		}
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > uint64(200*len(b))+16<<20 {
			t.Fatalf("decoding %d bytes allocated %d MB", len(b), grew>>20)
		}
	})
}

// writeSeeker is an in-memory io.WriteSeeker for the WAV encoder.
type writeSeeker struct {
	b   []byte
	off int
}

func (w *writeSeeker) Write(p []byte) (int, error) {
	if need := w.off + len(p); need > len(w.b) {
		w.b = append(w.b, make([]byte, need-len(w.b))...)
	}
	copy(w.b[w.off:], p)
	w.off += len(p)
	return len(p), nil
}

func (w *writeSeeker) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		w.off = int(off)
	case io.SeekCurrent:
		w.off += int(off)
	case io.SeekEnd:
		w.off = len(w.b) + int(off)
	}
	return int64(w.off), nil
}

package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// memFile is an in-memory io.WriteSeeker for the encoder.
type memFile struct {
	b   []byte
	off int
}

func (m *memFile) Write(p []byte) (int, error) {
	if need := m.off + len(p); need > len(m.b) {
		m.b = append(m.b, make([]byte, need-len(m.b))...)
	}
	copy(m.b[m.off:], p)
	m.off += len(p)
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		m.off = int(off)
	case io.SeekCurrent:
		m.off += int(off)
	case io.SeekEnd:
		m.off = len(m.b) + int(off)
	}
	return int64(m.off), nil
}

func wavBytes(t testing.TB, c Clip) []byte {
	t.Helper()
	m := &memFile{}
	if err := WriteWAV(m, c); err != nil {
		t.Fatal(err)
	}
	return m.b
}

func TestWAVRoundTrip(t *testing.T) {
	in := Clip{Rate: 8000, Samples: []int16{0, 1000, -1000, 32767, -32768, 5}}
	out, err := ReadWAV(bytes.NewReader(wavBytes(t, in)))
	if err != nil {
		t.Fatal(err)
	}
	if out.Rate != 8000 || len(out.Samples) != len(in.Samples) {
		t.Fatalf("got %d Hz, %d samples", out.Rate, len(out.Samples))
	}
	for i := range in.Samples {
		if out.Samples[i] != in.Samples[i] {
			t.Errorf("sample %d: %d, want %d", i, out.Samples[i], in.Samples[i])
		}
	}
	path := filepath.Join(t.TempDir(), "x.wav")
	if err := WriteWAVFile(path, in); err != nil {
		t.Fatal(err)
	}
	if c, err := ReadWAVFile(path); err != nil || len(c.Samples) != len(in.Samples) {
		t.Errorf("file round trip: %v, %d samples", err, len(c.Samples))
	}
}

// TestWAVCraftedHeadersRefused: chunk sizes beyond the file, absurd rates
// and depths are refused before the decoder allocates what they claim.
func TestWAVCraftedHeadersRefused(t *testing.T) {
	good := wavBytes(t, Clip{Rate: 8000, Samples: make([]int16, 100)})
	fmtAt := bytes.Index(good, []byte("fmt "))
	dataAt := bytes.Index(good, []byte("data"))
	for name, mutate := range map[string]func(b []byte){
		"fmt chunk claims 2 GB":  func(b []byte) { binary.LittleEndian.PutUint32(b[fmtAt+4:], 1<<31) },
		"data chunk claims 4 GB": func(b []byte) { binary.LittleEndian.PutUint32(b[dataAt+4:], 0xFFFFFFFF) },
		"rate 1 GHz":             func(b []byte) { binary.LittleEndian.PutUint32(b[fmtAt+12:], 1e9) },
		"rate 0":                 func(b []byte) { binary.LittleEndian.PutUint32(b[fmtAt+12:], 0) },
		"1000 channels":          func(b []byte) { binary.LittleEndian.PutUint16(b[fmtAt+10:], 1000) },
		"12-bit samples":         func(b []byte) { binary.LittleEndian.PutUint16(b[fmtAt+22:], 12) },
		"not RIFF":               func(b []byte) { copy(b, "RIFX") },
	} {
		b := bytes.Clone(good)
		mutate(b)
		if _, err := ReadWAV(bytes.NewReader(b)); !errors.Is(err, ErrNotWAV) {
			t.Errorf("%s: err %v, want ErrNotWAV", name, err)
		}
	}
	if _, err := ReadWAV(bytes.NewReader(good[:30])); err == nil {
		t.Error("a truncated header was accepted")
	}
}

func FuzzReadWAV(f *testing.F) {
	f.Add(wavBytes(f, Clip{Rate: 8000, Samples: make([]int16, 50)}))
	f.Add(wavBytes(f, Clip{Rate: 16000, Samples: []int16{1, 2, 3}}))
	f.Add(codedWAV(formatALaw, 1, 8000, 8, []byte{1, 2, 3, 4}, false))
	f.Add(codedWAV(formatFloat, 2, 16000, 32, make([]byte, 16), true))
	if b, err := os.ReadFile("/usr/share/asterisk/sounds/en/digits/1.wav"); err == nil && len(b) < 1<<16 {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ReadWAV(bytes.NewReader(b))
		if err != nil {
			return
		}
		if c.Rate < minWAVRate || c.Rate > maxWAVRate {
			t.Fatalf("accepted rate %d", c.Rate)
		}
		if len(c.Samples) > len(b) {
			t.Fatalf("%d samples from %d bytes", len(c.Samples), len(b))
		}
	})
}

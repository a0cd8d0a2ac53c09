package audio

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/zaf/g711"
)

// WAV format tags (the fmt chunk's first field; WAVE_FORMAT_EXTENSIBLE
// carries the real one in its sub-format GUID).
const (
	formatPCM        = 1
	formatFloat      = 3
	formatALaw       = 6
	formatMuLaw      = 7
	formatExtensible = 0xFFFE
)

// wavFormat is what the fmt chunk says, and where the data chunk is.
type wavFormat struct {
	tag      int
	chans    int
	rate     int
	bits     int
	dataOff  int64
	dataSize int64
}

// readFormat walks the chunks (already bounds-checked by checkChunks) and
// returns the fmt chunk's description and the data chunk's place. The
// reader is left at the start.
func readFormat(r io.ReadSeeker) (wavFormat, error) {
	var f wavFormat
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return f, err
	}
	off := int64(12)
	haveFmt := false
	for off+8 <= size {
		if _, err := r.Seek(off, io.SeekStart); err != nil {
			return f, err
		}
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return f, fmt.Errorf("%w: chunk header at %d: %v", ErrNotWAV, off, err)
		}
		n := int64(binary.LittleEndian.Uint32(ch[4:]))
		switch string(ch[:4]) {
		case "fmt ":
			if n < 16 {
				return f, fmt.Errorf("%w: fmt chunk of %d bytes", ErrNotWAV, n)
			}
			b := make([]byte, min(n, 40))
			if _, err := io.ReadFull(r, b); err != nil {
				return f, fmt.Errorf("%w: fmt chunk: %v", ErrNotWAV, err)
			}
			f.tag = int(binary.LittleEndian.Uint16(b[0:]))
			f.chans = int(binary.LittleEndian.Uint16(b[2:]))
			f.rate = int(binary.LittleEndian.Uint32(b[4:]))
			f.bits = int(binary.LittleEndian.Uint16(b[14:]))
			if f.tag == formatExtensible {
				if len(b) < 26 {
					return f, fmt.Errorf("%w: extensible fmt chunk of %d bytes", ErrNotWAV, n)
				}
				// The sub-format GUID starts with the format tag.
				f.tag = int(binary.LittleEndian.Uint16(b[24:]))
			}
			haveFmt = true
		case "data":
			f.dataOff, f.dataSize = off+8, n
		}
		off += 8 + n + n&1
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return f, err
	}
	if !haveFmt {
		return f, fmt.Errorf("%w: no fmt chunk", ErrNotWAV)
	}
	return f, nil
}

// decodeCoded reads float, A-law and mu-law WAV data (the forms telephone
// recordings and audio editors write) as mono 16-bit PCM.
func decodeCoded(r io.ReadSeeker, f wavFormat) (Clip, error) {
	if f.rate < minWAVRate || f.rate > maxWAVRate {
		return Clip{}, fmt.Errorf("%w: sample rate %d (want %d-%d Hz)", ErrNotWAV, f.rate, minWAVRate, maxWAVRate)
	}
	if f.chans < 1 || f.chans > maxWAVChan {
		return Clip{}, fmt.Errorf("%w: %d channels", ErrNotWAV, f.chans)
	}
	width := 1
	switch {
	case f.tag == formatFloat && (f.bits == 32 || f.bits == 64):
		width = f.bits / 8
	case (f.tag == formatALaw || f.tag == formatMuLaw) && f.bits == 8:
	default:
		return Clip{}, fmt.Errorf("%w: %d-bit samples in format %d", ErrNotWAV, f.bits, f.tag)
	}
	if f.dataOff == 0 {
		return Clip{}, fmt.Errorf("%w: no data chunk", ErrNotWAV)
	}
	if _, err := r.Seek(f.dataOff, io.SeekStart); err != nil {
		return Clip{}, err
	}
	raw := make([]byte, f.dataSize)
	if _, err := io.ReadFull(r, raw); err != nil {
		return Clip{}, fmt.Errorf("%w: data chunk: %v", ErrNotWAV, err)
	}
	frame := width * f.chans
	n := len(raw) / frame
	out := make([]int16, n)
	for i := 0; i < n; i++ {
		sum := 0
		for c := 0; c < f.chans; c++ {
			b := raw[i*frame+c*width:]
			switch {
			case f.tag == formatALaw:
				sum += int(g711.DecodeAlawFrame(b[0]))
			case f.tag == formatMuLaw:
				sum += int(g711.DecodeUlawFrame(b[0]))
			case width == 4:
				sum += floatSample(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))))
			default:
				sum += floatSample(math.Float64frombits(binary.LittleEndian.Uint64(b)))
			}
		}
		out[i] = clamp16(sum / f.chans)
	}
	return Clip{Rate: f.rate, Samples: out}, nil
}

// floatSample scales a [-1, 1] sample to 16 bits (NaN reads as silence).
func floatSample(v float64) int {
	if v != v {
		return 0
	}
	return int(math.Round(max(-1, min(1, v)) * 32767))
}

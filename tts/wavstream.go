package tts

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrBadWAV reports a WAV stream this package cannot read.
var ErrBadWAV = errors.New("tts: bad WAV stream")

// WAVFormat is the format of a streamed WAV file's sample data.
type WAVFormat struct {
	Rate     int   // Hz
	Channels int   // interleaved
	Bits     int   // 8 (unsigned), 16, 24 or 32 (signed integer PCM)
	DataSize int64 // bytes in the data chunk; -1 when the writer did not know
}

// Chunk limits that keep a malformed header from costing much.
const (
	maxFmtChunk  = 1 << 10 // bytes
	maxSkipBytes = 1 << 20 // bytes of non-audio chunks before "data"
)

// ReadWAVHeader reads a RIFF/WAVE header from r up to the first byte of
// sample data, without seeking, so it works on pipes and HTTP bodies.
// Streaming writers (espeak-ng --stdout, speech servers) put a placeholder
// in the size fields; a data size of 0 or one that reaches past 2 GiB is
// reported as -1 (read to the end).
//
//	offset  size  field
//	0       4     "RIFF"
//	4       4     file size - 8 (little endian)
//	8       4     "WAVE"
//	12      ...   chunks: 4-byte id, 4-byte size, body, pad byte if odd
//	              "fmt ": tag(2) channels(2) rate(4) byterate(4) align(2) bits(2)
//	              "data": samples, interleaved
func ReadWAVHeader(r io.Reader) (WAVFormat, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return WAVFormat{}, fmt.Errorf("%w: header: %v", ErrBadWAV, err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return WAVFormat{}, fmt.Errorf("%w: not RIFF/WAVE", ErrBadWAV)
	}
	var f WAVFormat
	haveFmt := false
	skipped := int64(0)
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return WAVFormat{}, fmt.Errorf("%w: chunk header: %v", ErrBadWAV, err)
		}
		id := string(ch[0:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > maxFmtChunk {
				return WAVFormat{}, fmt.Errorf("%w: fmt chunk of %d bytes", ErrBadWAV, size)
			}
			body := make([]byte, size+size&1)
			if _, err := io.ReadFull(r, body); err != nil {
				return WAVFormat{}, fmt.Errorf("%w: fmt chunk: %v", ErrBadWAV, err)
			}
			tag := binary.LittleEndian.Uint16(body[0:2])
			f.Channels = int(binary.LittleEndian.Uint16(body[2:4]))
			f.Rate = int(binary.LittleEndian.Uint32(body[4:8]))
			f.Bits = int(binary.LittleEndian.Uint16(body[14:16]))
			if tag != 1 && tag != 0xFFFE {
				return WAVFormat{}, fmt.Errorf("%w: format tag %d (only integer PCM)", ErrBadWAV, tag)
			}
			if f.Channels < 1 || f.Channels > 8 {
				return WAVFormat{}, fmt.Errorf("%w: %d channels", ErrBadWAV, f.Channels)
			}
			if f.Rate < 1000 || f.Rate > 384000 {
				return WAVFormat{}, fmt.Errorf("%w: sample rate %d", ErrBadWAV, f.Rate)
			}
			switch f.Bits {
			case 8, 16, 24, 32:
			default:
				return WAVFormat{}, fmt.Errorf("%w: %d bits per sample", ErrBadWAV, f.Bits)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return WAVFormat{}, fmt.Errorf("%w: data before fmt", ErrBadWAV)
			}
			f.DataSize = size
			if size == 0 || size >= 0x7F000000 {
				f.DataSize = -1
			}
			return f, nil
		default:
			skipped += size + size&1
			if skipped > maxSkipBytes {
				return WAVFormat{}, fmt.Errorf("%w: %d bytes of chunks before data", ErrBadWAV, skipped)
			}
			if _, err := io.CopyN(io.Discard, r, size+size&1); err != nil {
				return WAVFormat{}, fmt.Errorf("%w: chunk %q: %v", ErrBadWAV, id, err)
			}
		}
	}
}

// CopyWAV reads a WAV stream from r and writes its samples to p as they
// arrive, mixed to mono. It returns nil at the end of the data, ErrClosed
// if the consumer closed p, or the read error. It does not call Finish.
func CopyWAV(p *Pipe, r io.Reader) error {
	f, err := ReadWAVHeader(r)
	if err != nil {
		return err
	}
	if f.DataSize >= 0 {
		r = io.LimitReader(r, f.DataSize)
	}
	return copyPCM(p, r, f)
}

// CopyPCM reads raw signed 16-bit little-endian mono samples at rate Hz from
// r and writes them to p as they arrive. See CopyWAV for the results.
func CopyPCM(p *Pipe, r io.Reader, rate int) error {
	return copyPCM(p, r, WAVFormat{Rate: rate, Channels: 1, Bits: 16, DataSize: -1})
}

func copyPCM(p *Pipe, r io.Reader, f WAVFormat) error {
	frame := f.Channels * f.Bits / 8 // bytes per sample frame
	buf := make([]byte, 8192-8192%frame)
	pcm := make([]int16, 0, len(buf)/frame)
	have := 0 // bytes in buf, possibly a partial frame at the end
	for {
		n, err := r.Read(buf[have:])
		have += n
		whole := have - have%frame
		if whole > 0 {
			pcm = decodeFrames(pcm[:0], buf[:whole], f)
			if werr := p.Write(f.Rate, pcm); werr != nil {
				return werr
			}
			have = copy(buf, buf[whole:have])
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// decodeFrames appends one mono sample per interleaved frame in b.
func decodeFrames(dst []int16, b []byte, f WAVFormat) []int16 {
	bps := f.Bits / 8
	if f.Channels == 1 && f.Bits == 16 {
		for i := 0; i+1 < len(b); i += 2 {
			dst = append(dst, int16(binary.LittleEndian.Uint16(b[i:])))
		}
		return dst
	}
	for i := 0; i+bps*f.Channels <= len(b); i += bps * f.Channels {
		sum := 0
		for c := 0; c < f.Channels; c++ {
			s := b[i+c*bps:]
			switch f.Bits {
			case 8:
				sum += (int(s[0]) - 128) << 8
			case 16:
				sum += int(int16(binary.LittleEndian.Uint16(s)))
			case 24:
				sum += int(int32(uint32(s[0])<<8|uint32(s[1])<<16|uint32(s[2])<<24) >> 16)
			case 32:
				sum += int(int32(binary.LittleEndian.Uint32(s)) >> 16)
			}
		}
		dst = append(dst, int16(sum/f.Channels))
	}
	return dst
}

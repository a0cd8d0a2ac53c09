package audio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	goaudio "github.com/go-audio/audio"
	"github.com/go-audio/wav"
)

// ErrNotWAV reports input that is not a PCM WAV file.
var ErrNotWAV = errors.New("not a PCM WAV file")

// Clip is a whole decoded recording: mono 16-bit PCM at Rate.
type Clip struct {
	Rate    int
	Samples []int16
}

// Duration is the playing time of the clip.
func (c Clip) Duration() time.Duration { return Frame{Rate: c.Rate, Samples: c.Samples}.Duration() }

// ReadWAVFile decodes a WAV file of any common rate and depth (8, 16, 24, 32
// bit integer PCM, mono or multi-channel; channels are mixed down to mono).
func ReadWAVFile(path string) (Clip, error) {
	// One read: the WAV decoder makes many small reads, each a system
	// call on an *os.File.
	b, err := os.ReadFile(path)
	if err != nil {
		return Clip{}, err
	}
	c, err := ReadWAV(bytes.NewReader(b))
	if err != nil {
		return Clip{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Bounds on what a WAV header may claim before anything is allocated.
const (
	minWAVRate = 4000
	maxWAVRate = 192000
	maxWAVChan = 16
)

// checkChunks walks the RIFF chunk headers and refuses a file whose
// chunks claim more bytes than it has (a crafted or truncated header
// would otherwise make the decoder allocate what the header says).
func checkChunks(r io.ReadSeeker) error {
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return err
	}
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil || string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return ErrNotWAV
	}
	off := int64(12)
	for off+8 <= size {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return fmt.Errorf("%w: chunk header at %d: %v", ErrNotWAV, off, err)
		}
		n := int64(uint32(ch[4]) | uint32(ch[5])<<8 | uint32(ch[6])<<16 | uint32(ch[7])<<24)
		if n > size-off-8 {
			return fmt.Errorf("%w: chunk %q claims %d bytes, the file has %d after it", ErrNotWAV, ch[0:4], n, size-off-8)
		}
		off += 8 + n + n&1 // chunks are padded to even sizes
		if _, err := r.Seek(off, io.SeekStart); err != nil {
			return err
		}
	}
	_, err = r.Seek(0, io.SeekStart)
	return err
}

// ReadWAV decodes a WAV stream; see ReadWAVFile.
func ReadWAV(r io.ReadSeeker) (Clip, error) {
	if err := checkChunks(r); err != nil {
		return Clip{}, err
	}
	f, err := readFormat(r)
	if err != nil {
		return Clip{}, err
	}
	switch f.tag {
	case formatPCM:
	case formatFloat, formatALaw, formatMuLaw:
		return decodeCoded(r, f)
	default:
		return Clip{}, fmt.Errorf("%w: format tag %#x (integer PCM, float, A-law and mu-law are read)", ErrNotWAV, f.tag)
	}
	d := wav.NewDecoder(r)
	if !d.IsValidFile() {
		return Clip{}, ErrNotWAV
	}
	if rate := int(d.SampleRate); rate < minWAVRate || rate > maxWAVRate {
		return Clip{}, fmt.Errorf("%w: sample rate %d (want %d-%d Hz)", ErrNotWAV, rate, minWAVRate, maxWAVRate)
	}
	if c := int(d.NumChans); c < 1 || c > maxWAVChan {
		return Clip{}, fmt.Errorf("%w: %d channels", ErrNotWAV, c)
	}
	switch d.BitDepth {
	case 8, 16, 24, 32:
	default:
		return Clip{}, fmt.Errorf("%w: %d-bit samples", ErrNotWAV, d.BitDepth)
	}
	buf, err := d.FullPCMBuffer()
	if err != nil {
		return Clip{}, fmt.Errorf("decode: %w", err)
	}
	ch := buf.Format.NumChannels
	if ch < 1 {
		ch = 1
	}
	depth := int(d.BitDepth)
	if depth == 0 {
		depth = buf.SourceBitDepth
	}
	shift := depth - 16
	n := len(buf.Data) / ch
	out := make([]int16, n)
	for i := 0; i < n; i++ {
		sum := 0
		for c := 0; c < ch; c++ {
			v := buf.Data[i*ch+c]
			switch {
			case depth == 8: // unsigned 8-bit
				v = (v - 128) << 8
			case shift > 0:
				v >>= shift
			}
			sum += v
		}
		out[i] = clamp16(sum / ch)
	}
	if buf.Format.SampleRate <= 0 {
		return Clip{}, fmt.Errorf("%w: sample rate %d", ErrNotWAV, buf.Format.SampleRate)
	}
	return Clip{Rate: buf.Format.SampleRate, Samples: out}, nil
}

// WriteWAVFile writes mono 16-bit PCM as a WAV file.
func WriteWAVFile(path string, c Clip) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteWAV(f, c); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WriteWAV writes mono 16-bit PCM as WAV to w.
func WriteWAV(w io.WriteSeeker, c Clip) error {
	e := wav.NewEncoder(w, c.Rate, 16, 1, 1)
	data := make([]int, len(c.Samples))
	for i, s := range c.Samples {
		data[i] = int(s)
	}
	buf := &goaudio.IntBuffer{Format: &goaudio.Format{NumChannels: 1, SampleRate: c.Rate}, Data: data, SourceBitDepth: 16}
	if err := e.Write(buf); err != nil {
		return err
	}
	return e.Close()
}

// Round16 rounds a sample to the nearest 16-bit value, saturating at the
// limits instead of wrapping.
func Round16(x float64) int16 {
	x = math.Round(x)
	if x > 32767 {
		return 32767
	}
	if x < -32768 {
		return -32768
	}
	return int16(x)
}

func clamp16(v int) int16 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}

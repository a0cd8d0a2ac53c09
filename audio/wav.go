package audio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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

// ReadWAV decodes a WAV stream; see ReadWAVFile.
func ReadWAV(r io.ReadSeeker) (Clip, error) {
	d := wav.NewDecoder(r)
	if !d.IsValidFile() {
		return Clip{}, ErrNotWAV
	}
	if d.WavAudioFormat != 1 && d.WavAudioFormat != 0xFFFE {
		return Clip{}, fmt.Errorf("%w: format tag %d (only integer PCM)", ErrNotWAV, d.WavAudioFormat)
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

func clamp16(v int) int16 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}

package audio

import "io"

// Source yields mono PCM at a fixed rate for the outbound media clock.
//
// ReadPCM never blocks: it fills p with as many samples as are ready and
// returns 0, nil when none are ready yet (a streaming synthesizer still
// working), so the clock sends silence instead of stalling. It returns
// io.EOF once the source is exhausted.
type Source interface {
	Rate() int
	ReadPCM(p []int16) (int, error)
}

// ClipSource plays a decoded clip once.
type ClipSource struct {
	clip Clip
	off  int
}

// NewClipSource returns a Source over c.
func NewClipSource(c Clip) *ClipSource { return &ClipSource{clip: c} }

// Rate is the clip's sample rate.
func (s *ClipSource) Rate() int { return s.clip.Rate }

// ReadPCM copies the next samples into p.
func (s *ClipSource) ReadPCM(p []int16) (int, error) {
	if s.off >= len(s.clip.Samples) {
		return 0, io.EOF
	}
	n := copy(p, s.clip.Samples[s.off:])
	s.off += n
	return n, nil
}

var _ Source = (*ClipSource)(nil)

package tts

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/openivr/ivr/audio"
)

// clipStream plays a clip that is already whole: a cached or recorded
// prompt. Its audio is ready at once.
type clipStream struct {
	src    *audio.ClipSource
	closed atomic.Bool
}

// ClipStream returns a Stream that plays c once. The clip's samples are
// shared, not copied: do not change them while the stream plays.
func ClipStream(c audio.Clip) Stream {
	return &clipStream{src: audio.NewClipSource(c)}
}

func (s *clipStream) Rate() int { return s.src.Rate() }

func (s *clipStream) ReadPCM(p []int16) (int, error) {
	if s.closed.Load() {
		return 0, io.EOF
	}
	return s.src.ReadPCM(p)
}

func (s *clipStream) Wait(ctx context.Context) error { return nil }
func (s *clipStream) Err() error                     { return nil }
func (s *clipStream) Close() error                   { s.closed.Store(true); return nil }

// ReadAll reads s to the end and returns its audio as one clip. It closes
// s. A stream that ends with an error returns that error.
func ReadAll(ctx context.Context, s Stream) (audio.Clip, error) {
	defer s.Close()
	c := audio.Clip{Rate: s.Rate()}
	buf := make([]int16, 4096)
	for {
		n, err := s.ReadPCM(buf)
		c.Samples = append(c.Samples, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			return audio.Clip{}, err
		}
		if n == 0 {
			if err := s.Wait(ctx); err != nil {
				return audio.Clip{}, err
			}
		}
	}
	if err := s.Err(); err != nil {
		return audio.Clip{}, err
	}
	return c, nil
}

// Render synthesizes req with s and returns the whole clip.
func Render(ctx context.Context, s Synthesizer, req Request) (audio.Clip, error) {
	st, err := s.Synthesize(ctx, req)
	if err != nil {
		return audio.Clip{}, err
	}
	c, err := ReadAll(ctx, st)
	if err != nil {
		return audio.Clip{}, fmt.Errorf("%s: %w", s.Name(), err)
	}
	return c, nil
}

var _ Stream = (*clipStream)(nil)

package audio

import "io"

// Convert returns src as a Source at rate, resampling on the fly when the
// rates differ. Prompts are normally converted once at load; this is for
// streamed audio (synthesis, the other leg of a bridge).
func Convert(src Source, rate int) Source {
	if src.Rate() == rate {
		return src
	}
	return &convertSource{src: src, rs: NewResampler(src.Rate(), rate), in: make([]int16, 0, 1024)}
}

type convertSource struct {
	src  Source
	rs   *Resampler
	in   []int16 // scratch input block
	out  []int16 // resampled samples not yet read
	eof  bool
	done bool
}

func (c *convertSource) Rate() int { return c.rs.OutRate() }

func (c *convertSource) ReadPCM(p []int16) (int, error) {
	for len(c.out) < len(p) && !c.eof {
		// Ask for about as many input samples as p needs, rounded up.
		want := len(p)*c.rs.InRate()/c.rs.OutRate() + 1
		if want > cap(c.in) {
			want = cap(c.in)
		}
		n, err := c.src.ReadPCM(c.in[:want])
		c.out = c.rs.Process(c.out, c.in[:n])
		if err == io.EOF {
			c.eof = true
			c.out = c.rs.Flush(c.out)
			break
		}
		if err != nil {
			return 0, err
		}
		if n == 0 {
			break // nothing ready upstream
		}
	}
	n := copy(p, c.out)
	c.out = c.out[:copy(c.out, c.out[n:])]
	if n == 0 && c.eof {
		return 0, io.EOF
	}
	return n, nil
}

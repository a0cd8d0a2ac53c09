package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
)

// writeMixw converts pocketsphinx's quantized sendump (n_feat x n_density
// x n_senone bytes of -log weights, base 1.0001 shifted right by 10) back
// into a sphinxtrain mixture_weights file (s3 header, senone x feature x
// density float32, checksum).
func writeMixw(sendump, out string) error {
	b, err := os.ReadFile(sendump)
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	off := 0
	next := func() int {
		v := int(int32(le.Uint32(b[off:])))
		off += 4
		return v
	}
	// Title and header strings, then strings until a zero length.
	for i := 0; ; i++ {
		n := next()
		if n == 0 && i >= 2 {
			break
		}
		off += n
	}
	const nFeat = 3
	rows, cols := next(), next() // densities, senones
	data := b[off:]
	if len(data) != nFeat*rows*cols {
		return fmt.Errorf("sendump: %d bytes of weights, want %d x %d x %d", len(data), nFeat, rows, cols)
	}
	k := 1024 * math.Log(1.0001)
	w := make([]float32, cols*nFeat*rows)
	for f := 0; f < nFeat; f++ {
		for d := 0; d < rows; d++ {
			for s := 0; s < cols; s++ {
				w[(s*nFeat+f)*rows+d] = float32(math.Exp(-float64(data[(f*rows+d)*cols+s]) * k))
			}
		}
	}
	for i := 0; i < len(w); i += rows {
		var z float32
		for _, v := range w[i : i+rows] {
			z += v
		}
		for j := i; j < i+rows; j++ {
			w[j] /= z
		}
	}
	var sum uint32
	acc := func(v uint32) { sum = (sum<<20 | sum>>12) + v }
	var buf bytes.Buffer
	buf.WriteString("s3\nversion 1.0\nchksum0 yes\nendhdr\n")
	binary.Write(&buf, le, uint32(0x11223344))
	for _, d := range []uint32{uint32(cols), nFeat, uint32(rows), uint32(len(w))} {
		acc(d)
		binary.Write(&buf, le, d)
	}
	for _, v := range w {
		acc(math.Float32bits(v))
	}
	binary.Write(&buf, le, w)
	binary.Write(&buf, le, sum)
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

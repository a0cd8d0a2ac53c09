package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/zaf/g711"
)

// codedWAV builds a WAV file with the given fmt fields around data; with
// extensible set, the tag goes into a WAVE_FORMAT_EXTENSIBLE sub-format.
func codedWAV(tag, chans, rate, bits int, data []byte, extensible bool) []byte {
	var fmtc bytes.Buffer
	w := func(v any) { binary.Write(&fmtc, binary.LittleEndian, v) }
	outerTag := tag
	if extensible {
		outerTag = formatExtensible
	}
	w(uint16(outerTag))
	w(uint16(chans))
	w(uint32(rate))
	w(uint32(rate * chans * bits / 8))
	w(uint16(chans * bits / 8))
	w(uint16(bits))
	if extensible {
		w(uint16(22))
		w(uint16(bits))
		w(uint32(0))
		w(uint16(tag))
		fmtc.Write([]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71})
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(4+8+fmtc.Len()+8+len(data)))
	b.WriteString("WAVE")
	b.WriteString("fmt ")
	binary.Write(&b, binary.LittleEndian, uint32(fmtc.Len()))
	b.Write(fmtc.Bytes())
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

// TestWAVCodedFormats: A-law, mu-law and float WAV files (what telephone
// recorders and audio editors write) read as the PCM they encode.
func TestWAVCodedFormats(t *testing.T) {
	pcm := []int16{0, 1000, -1000, 20000, -20000, 32000}
	var alaw, ulaw []byte
	for _, s := range pcm {
		alaw = append(alaw, g711.EncodeAlawFrame(s))
		ulaw = append(ulaw, g711.EncodeUlawFrame(s))
	}
	floats := []float64{0, 0.5, -0.5, 1, -1, 2, math.NaN()}
	want := []int16{0, 16384, -16384, 32767, -32767, 32767, 0}
	var f32, f64 []byte
	for _, v := range floats {
		f32 = binary.LittleEndian.AppendUint32(f32, math.Float32bits(float32(v)))
		f64 = binary.LittleEndian.AppendUint64(f64, math.Float64bits(v))
	}
	check := func(name string, file []byte, want []int16, tol int) {
		t.Helper()
		c, err := ReadWAV(bytes.NewReader(file))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.Rate != 8000 || len(c.Samples) != len(want) {
			t.Fatalf("%s: %d Hz, %d samples, want 8000 Hz, %d", name, c.Rate, len(c.Samples), len(want))
		}
		for i, s := range c.Samples {
			if d := int(s) - int(want[i]); d > tol || d < -tol {
				t.Errorf("%s: sample %d = %d, want %d (+/- %d)", name, i, s, want[i], tol)
			}
		}
	}
	// G.711 keeps 13-14 bits: within 2 % of the sample (1 step near 0).
	check("A-law", codedWAV(formatALaw, 1, 8000, 8, alaw, false), pcm, 700)
	check("mu-law", codedWAV(formatMuLaw, 1, 8000, 8, ulaw, false), pcm, 700)
	check("float32", codedWAV(formatFloat, 1, 8000, 32, f32, false), want, 1)
	check("float64", codedWAV(formatFloat, 1, 8000, 64, f64, false), want, 1)
	check("extensible float32", codedWAV(formatFloat, 1, 8000, 32, f32, true), want, 1)
	// Two channels are mixed: (0.5 + -0.5) / 2 = 0, (1 + 1) / 2 = 1.
	var st []byte
	for _, v := range []float32{0.5, -0.5, 1, 1} {
		st = binary.LittleEndian.AppendUint32(st, math.Float32bits(v))
	}
	check("stereo float", codedWAV(formatFloat, 2, 8000, 32, st, false), []int16{0, 32767}, 1)

	for name, file := range map[string][]byte{
		"16-bit A-law":      codedWAV(formatALaw, 1, 8000, 16, alaw, false),
		"24-bit float":      codedWAV(formatFloat, 1, 8000, 24, f32, false),
		"ADPCM":             codedWAV(2, 1, 8000, 4, alaw, false),
		"A-law at 1 Hz":     codedWAV(formatALaw, 1, 1, 8, alaw, false),
		"A-law, 0 channels": codedWAV(formatALaw, 0, 8000, 8, alaw, false),
	} {
		if _, err := ReadWAV(bytes.NewReader(file)); !errors.Is(err, ErrNotWAV) {
			t.Errorf("%s: err %v, want ErrNotWAV", name, err)
		}
	}
}

// TestWAVCodedFromSox reads A-law, mu-law and float files written by sox and
// compares them with the 16-bit original.
func TestWAVCodedFromSox(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("sox not installed (scripts/deps.sh installs it)")
	}
	dir := t.TempDir()
	orig := Clip{Rate: 8000, Samples: make([]int16, 8000)}
	for i := range orig.Samples {
		orig.Samples[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	src := filepath.Join(dir, "src.wav")
	if err := WriteWAVFile(src, orig); err != nil {
		t.Fatal(err)
	}
	for _, enc := range [][]string{
		{"-e", "a-law"}, {"-e", "u-law"}, {"-e", "floating-point", "-b", "32"},
		{"-e", "floating-point", "-b", "64"}, {"-e", "a-law", "-c", "2"},
	} {
		out := filepath.Join(dir, "out.wav")
		args := append([]string{src}, enc...)
		if out, err := exec.Command(sox, append(args, out)...).CombinedOutput(); err != nil {
			t.Fatalf("sox %v: %v: %s", enc, err, out)
		}
		c, err := ReadWAVFile(out)
		if err != nil {
			t.Fatalf("%v: %v", enc, err)
		}
		if c.Rate != 8000 || len(c.Samples) != len(orig.Samples) {
			t.Fatalf("%v: %d Hz, %d samples", enc, c.Rate, len(c.Samples))
		}
		worst := 0
		for i, s := range c.Samples {
			worst = max(worst, abs(int(s)-int(orig.Samples[i])))
		}
		if worst > 260 { // G.711's largest step at this level is 256
			t.Errorf("%v: largest difference %d from the original", enc, worst)
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

package vadeval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/openivr/ivr/audio"
)

// LabelsFile is the name of the labels CSV in a set directory. Its header
// is "file,start,end" and each row is one speech segment of a WAV file (path
// relative to the CSV) in seconds; a file with no speech has one row with
// empty start and end, so it is still part of the set.
const LabelsFile = "labels.csv"

// WriteDir writes items as WAV files and their speech segments to
// dir/labels.csv.
func WriteDir(dir string, items []Item) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, LabelsFile))
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"file", "start", "end", "background", "channel"})
	for _, it := range items {
		name := it.Name + ".wav"
		if err := audio.WriteWAVFile(filepath.Join(dir, name), audio.Clip{Rate: it.Rate, Samples: it.Samples}); err != nil {
			f.Close()
			return err
		}
		segs := Segments(it.Speech)
		if len(segs) == 0 {
			w.Write([]string{name, "", "", it.Background, it.Channel})
		}
		for _, s := range segs {
			w.Write([]string{name, secs(s[0]), secs(s[1]), it.Background, it.Channel})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func secs(hop int) string { return strconv.FormatFloat(float64(hop*HopMs)/1000, 'f', 3, 64) }

// Segments turns per-hop labels into [start, end) hop ranges of speech.
func Segments(labels []bool) [][2]int {
	var out [][2]int
	for i := 0; i < len(labels); {
		if !labels[i] {
			i++
			continue
		}
		j := i
		for j < len(labels) && labels[j] {
			j++
		}
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}

// ReadLabels reads a labels CSV (see LabelsFile) and the WAV files it
// names, and labels each 20 ms hop whose centre lies in a speech segment.
func ReadLabels(path string) ([]Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(header) < 3 || header[0] != "file" || header[1] != "start" || header[2] != "end" {
		return nil, fmt.Errorf("%s: header %q: want file,start,end", path, strings.Join(header, ","))
	}
	type seg struct{ start, end float64 }
	segs := map[string][]seg{}
	meta := map[string][2]string{}
	var order []string
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if len(rec) < 3 || rec[0] == "" {
			return nil, fmt.Errorf("%s:%d: want file,start,end", path, line)
		}
		name := rec[0]
		if _, seen := segs[name]; !seen {
			order = append(order, name)
			segs[name] = nil
			if len(rec) >= 5 {
				meta[name] = [2]string{rec[3], rec[4]}
			}
		}
		if rec[1] == "" && rec[2] == "" {
			continue
		}
		s, err1 := strconv.ParseFloat(rec[1], 64)
		e, err2 := strconv.ParseFloat(rec[2], 64)
		if err1 != nil || err2 != nil || !(e >= s) || s < 0 || math.IsInf(e, 0) {
			return nil, fmt.Errorf("%s:%d: bad segment %q..%q", path, line, rec[1], rec[2])
		}
		segs[name] = append(segs[name], seg{s, e})
	}
	dir := filepath.Dir(path)
	items := make([]Item, 0, len(order))
	for _, name := range order {
		c, err := readWAV(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		hop := c.Rate * HopMs / 1000
		if hop == 0 {
			return nil, fmt.Errorf("%s: rate %d too low", name, c.Rate)
		}
		labels := make([]bool, len(c.Samples)/hop)
		for h := range labels {
			centre := (float64(h) + 0.5) * HopMs / 1000
			for _, s := range segs[name] {
				if centre >= s.start && centre < s.end {
					labels[h] = true
					break
				}
			}
		}
		m := meta[name]
		items = append(items, Item{Name: strings.TrimSuffix(name, filepath.Ext(name)), Rate: c.Rate,
			Samples: c.Samples[:len(labels)*hop], Speech: labels, Background: m[0], Channel: m[1]})
	}
	return items, nil
}

package vadeval

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/openivr/ivr/audio"
)

// Default locations of the real recordings the generator mixes. The Debian
// packages asterisk-core-sounds-en-wav and asterisk-moh-opsound-wav provide
// the first two; the third is the project's shared test data.
const (
	DefaultSoundsDir = "/usr/share/asterisk/sounds/en"
	DefaultMOHDir    = "/usr/share/asterisk/moh"
)

// ErrNoSources reports that a split has no speech or no music to mix.
var ErrNoSources = errors.New("vadeval: no source recordings")

// nonSpeech lists Asterisk sounds that are tones or animal noise, not
// speech (their transcripts are in brackets).
var nonSpeech = map[string]bool{
	"ascending-2tone": true, "descending-2tone": true, "beep": true, "beeperr": true, "tt-monkeys": true,
}

// testMusic names the hold-music files held out for the test split; the
// others train.
var testMusic = map[string]bool{"macroform-the_simplicity": true, "reno_project-system": true}

// source is one recording resampled to the set's rate.
type source struct {
	name    string
	samples []int16
}

// sources holds the recordings of one split at one rate.
type sources struct {
	prompts []source // Asterisk prompts: one professional voice
	words   []source // Speech Commands: many voices, one word each
	music   []source // hold music
	noises  []source // recorded background noise (Speech Commands _silence_)
}

// inSplit assigns a recording to the test split by a hash of its key (a
// file name, or a speaker ID so one speaker never lands in both splits).
func inSplit(key string, split Split) bool {
	h := fnv.New32a()
	h.Write([]byte(key))
	test := h.Sum32()%5 == 0
	return test == (split == Test)
}

func loadSources(cfg Config) (*sources, error) {
	s := &sources{}
	load := func(path string) ([]int16, error) {
		c, err := readWAV(path)
		if err != nil {
			return nil, err
		}
		if c.Rate == cfg.Rate {
			return c.Samples, nil
		}
		return audio.Resample(c.Samples, c.Rate, cfg.Rate), nil
	}

	// Asterisk prompts, split by file name.
	var prompts []string
	root, err := filepath.EvalSymlinks(cfg.SoundsDir)
	if err != nil {
		return nil, fmt.Errorf("prompts (apt-get install asterisk-core-sounds-en-wav): %w", err)
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "silence" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".wav") {
			name := strings.TrimSuffix(d.Name(), ".wav")
			if !nonSpeech[name] {
				prompts = append(prompts, path)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("prompts (apt-get install asterisk-core-sounds-en-wav): %w", err)
	}
	sort.Strings(prompts)
	for _, p := range prompts {
		rel, _ := filepath.Rel(root, p)
		if !inSplit(rel, cfg.Split) {
			continue
		}
		x, err := load(p)
		if err != nil {
			return nil, err
		}
		s.prompts = append(s.prompts, source{name: "prompt:" + rel, samples: x})
	}

	// Speech Commands words, split by speaker (the hash before _nohash_).
	if cfg.SpeechDir != "" {
		root := filepath.Join(cfg.SpeechDir, "speech_commands")
		entries, err := os.ReadDir(root)
		if err != nil {
			return nil, fmt.Errorf("speech commands: %w", err)
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			files, err := filepath.Glob(filepath.Join(root, e.Name(), "*.wav"))
			if err != nil {
				return nil, err
			}
			sort.Strings(files)
			for _, f := range files {
				base := filepath.Base(f)
				if e.Name() == "_silence_" {
					if !inSplit(base, cfg.Split) {
						continue
					}
					x, err := load(f)
					if err != nil {
						return nil, err
					}
					s.noises = append(s.noises, source{name: "noise:" + e.Name() + "/" + base, samples: x})
					continue
				}
				speaker := base
				if i := strings.Index(base, "_nohash_"); i > 0 {
					speaker = base[:i]
					if j := strings.LastIndex(speaker, "_"); j >= 0 { // _unknown_ files: word_speaker
						speaker = speaker[j+1:]
					}
				}
				if !inSplit(speaker, cfg.Split) {
					continue
				}
				x, err := load(f)
				if err != nil {
					return nil, err
				}
				s.words = append(s.words, source{name: "word:" + e.Name() + "/" + base, samples: x})
			}
		}
	}

	// Hold music, split by file.
	music, _ := filepath.Glob(filepath.Join(cfg.MOHDir, "*.wav"))
	sort.Strings(music)
	for _, m := range music {
		name := strings.TrimSuffix(filepath.Base(m), ".wav")
		if testMusic[name] != (cfg.Split == Test) {
			continue
		}
		x, err := load(m)
		if err != nil {
			return nil, err
		}
		s.music = append(s.music, source{name: "music:" + name, samples: x})
	}
	if cfg.Split == Train && cfg.ExtraTrainMusicDir != "" {
		extra, err := filepath.Glob(filepath.Join(cfg.ExtraTrainMusicDir, "*.wav"))
		if err != nil {
			return nil, err
		}
		sort.Strings(extra)
		for _, m := range extra {
			x, err := load(m)
			if err != nil {
				return nil, err
			}
			s.music = append(s.music, source{name: "music:extra/" + filepath.Base(m), samples: x})
		}
	}
	if len(s.prompts) == 0 || len(s.music) == 0 {
		return nil, fmt.Errorf("%w: %d prompts in %s, %d music files in %s (apt-get install asterisk-core-sounds-en-wav asterisk-moh-opsound-wav)",
			ErrNoSources, len(s.prompts), cfg.SoundsDir, len(s.music), cfg.MOHDir)
	}
	return s, nil
}

// readWAV reads a whole WAV file into memory first: the WAV decoder reads
// sample by sample, which is slow on an unbuffered file.
func readWAV(path string) (audio.Clip, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return audio.Clip{}, err
	}
	c, err := audio.ReadWAV(bytes.NewReader(b))
	if err != nil {
		return audio.Clip{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

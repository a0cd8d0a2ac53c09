package dtmf

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
)

// Talk-off: no digit may be reported from real speech or music. The
// material is human telephone prompts (asterisk-core-sounds-en-wav), hold
// music (asterisk-moh-opsound-wav) and the human speech clips under
// ../shared/data/speech, each played at its own level and 12 dB louder
// (clipped), as a loud caller or hot line would be.

// talkOffSets lists the corpus globs, with the Debian package that
// provides each.
var talkOffSets = []struct {
	name, pkg string
	globs     []string
}{
	{"asterisk prompts", "asterisk-core-sounds-en-wav", []string{"/usr/share/asterisk/sounds/en/*.wav", "/usr/share/asterisk/sounds/en/*/*.wav"}},
	{"music on hold", "asterisk-moh-opsound-wav", []string{"/usr/share/asterisk/moh/*.wav"}},
	{"speech commands", "", []string{"../../shared/data/speech/*/*.wav", "../../shared/data/speech/*/*/*.wav"}},
}

// talkOffFiles returns the files of a set, failing with an install hint
// when the package is missing.
func talkOffFiles(t *testing.T, name, pkg string, globs []string) []string {
	t.Helper()
	var files []string
	for _, g := range globs {
		m, err := filepath.Glob(g)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		if pkg != "" {
			t.Fatalf("%s: no WAV files; install them with: apt-get install %s", name, pkg)
		}
		t.Fatalf("%s: no WAV files under %v", name, globs)
	}
	return files
}

// louder returns s amplified by gain with clipping.
func louder(s []int16, gain float64) []int16 {
	out := make([]int16, len(s))
	for i, v := range s {
		out[i] = int16(max(-32768, min(32767, float64(v)*gain)))
	}
	return out
}

// playTalkOff runs the live-call detector over each file at each gain and
// calls found for every one that gave digits; it returns the audio played
// and the number of digits found.
func playTalkOff(t *testing.T, files []string, gains []float64, found func(f string, gain float64, digits string)) (time.Duration, int) {
	t.Helper()
	var played time.Duration
	n := 0
	for _, f := range files {
		c, err := readWAV(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		for _, g := range gains {
			clip := audio.Clip{Rate: c.Rate, Samples: c.Samples}
			if g != 1 {
				clip.Samples = louder(c.Samples, g)
			}
			played += clip.Duration()
			got, err := DetectClip(clip)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if got != "" {
				n += len(got)
				found(f, g, got)
			}
		}
	}
	return played, n
}

func TestTalkOff(t *testing.T) {
	gains := []float64{1, 4}
	if testing.Short() || raceEnabled {
		gains = gains[:1]
	}
	for _, set := range talkOffSets {
		t.Run(set.name, func(t *testing.T) {
			files := talkOffFiles(t, set.name, set.pkg, set.globs)
			played, falses := playTalkOff(t, files, gains, func(f string, g float64, got string) {
				t.Errorf("%s (gain %.0f): talk-off digits %q", f, g, got)
			})
			t.Logf("%s: %d files, %.1f min of audio, %d false digits (%.1f per hour)", set.name, len(files), played.Minutes(), falses, float64(falses)/played.Hours())
		})
	}
}

// TestTalkOffDir plays every WAV file of the directory named by
// DTMF_TALKOFF_DIR (skipped when unset), at its own level and 12 dB louder,
// and reports the digits found: for held-out material that the thresholds
// were not chosen on (BENCHMARKS.md, DTMF). It fails on any digit only when
// DTMF_TALKOFF_STRICT is set.
func TestTalkOffDir(t *testing.T) {
	dir := os.Getenv("DTMF_TALKOFF_DIR")
	if dir == "" {
		t.Skip("DTMF_TALKOFF_DIR not set")
	}
	files := talkOffFiles(t, dir, "", []string{filepath.Join(dir, "*.wav")})
	played, falses := playTalkOff(t, files, []float64{1, 4}, func(f string, g float64, got string) {
		t.Logf("%s (gain %.0f): digits %q", filepath.Base(f), g, got)
	})
	t.Logf("%s: %d files, %.1f min of audio, %d false digits", dir, len(files), played.Minutes(), falses)
	if falses > 0 && os.Getenv("DTMF_TALKOFF_STRICT") != "" {
		t.Errorf("%d false digits", falses)
	}
}

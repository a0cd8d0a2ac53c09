package hold

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/config"
)

const r8 = audio.Rate8k

func ms(rate int, n int) int { return audio.SamplesPer(rate, time.Duration(n)*time.Millisecond) }

// clipNoise is an announcement whose samples can be found exactly in the
// output: loud noise with loud ends, so no trimming applies.
func clipNoise(seed uint64, n int) []int16 {
	s := noise(seed, 8000, n)
	s[0], s[n-1] = 5000, -5000
	return s
}

// firstDiff is the first index where a and b differ, or -1.
func firstDiff(a, b []int16) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func TestLoopsInOrderAcrossTrackJoins(t *testing.T) {
	dir := t.TempDir()
	a := tone(r8, 440, 6000, 1300*time.Millisecond)
	b := tone(r8, 660, 5000, 770*time.Millisecond)
	c := tone(r8, 550, 7000, 2111*time.Millisecond)
	paths := []string{writeWAV(t, dir, "a.wav", r8, a), writeWAV(t, dir, "b.wav", r8, b), writeWAV(t, dir, "c.wav", r8, c)}
	lib := NewLibrary(nil)
	if errs := lib.Preload(paths, r8); len(errs) > 0 {
		t.Fatal(errs)
	}
	// Starting at b: b c a, three times over. The output is the tracks
	// end to end, sample for sample: nothing added or lost at the joins.
	want := slices.Concat(b, c, a, b, c, a, b, c, a)
	for _, frame := range []int{160, 320, 7, 333} {
		p := NewPlayer(lib, paths, r8, 1, patient)
		if p.Pattern() || len(p.Skipped()) > 0 {
			t.Fatalf("pattern %v, skipped %v", p.Pattern(), p.Skipped())
		}
		got := read(t, p, len(want), frame)
		if i := firstDiff(got, want); i >= 0 {
			t.Fatalf("frame %d: output differs from the tracks end to end at sample %d (%.3f s)", frame, i, float64(i)/r8)
		}
	}
}

func TestStartPicksTheFirstTrack(t *testing.T) {
	dir := t.TempDir()
	tr := [][]int16{tone(r8, 440, 6000, time.Second), tone(r8, 660, 6000, time.Second), tone(r8, 550, 6000, time.Second)}
	var paths []string
	for i, s := range tr {
		paths = append(paths, writeWAV(t, dir, string(rune('a'+i))+".wav", r8, s))
	}
	lib := NewLibrary(nil)
	for _, tc := range []struct{ start, want int }{{0, 0}, {1, 1}, {2, 2}, {3, 0}, {7, 1}, {-1, 2}} {
		p := NewPlayer(lib, paths, r8, tc.start, patient)
		got := read(t, p, 800, 160)
		if firstDiff(got, tr[tc.want][:800]) >= 0 {
			t.Errorf("start %d: does not open with track %d", tc.start, tc.want)
		}
	}
}

func TestAnnounceAtTrackEnd(t *testing.T) {
	dir := t.TempDir()
	a := tone(r8, 440, 6000, 3*time.Second)
	b := tone(r8, 660, 6000, 20*time.Second)
	paths := []string{writeWAV(t, dir, "a.wav", r8, a), writeWAV(t, dir, "b.wav", r8, b)}
	lib := NewLibrary(nil)
	lib.Preload(paths, r8)
	p := NewPlayer(lib, paths, r8, 0, patient)
	read(t, p, r8, 160) // 1 s in: the track ends within the lookahead
	clip := clipNoise(1, 12000)
	done := p.Announce(audio.Clip{Rate: r8, Samples: clip}, AtBreak)

	// The rest of a whole (its own ending, no fade), a short pause, the
	// announcement, a pause, then b from its start.
	before, after := ms(r8, 150), ms(r8, 500)
	want := slices.Concat(a[r8:], make([]int16, before), clip, make([]int16, after), b[:2*r8])
	clipEnd := len(a) - r8 + before + len(clip)
	got := read(t, p, clipEnd-1, 160)
	if closed(done) {
		t.Fatal("done closed before the announcement's last sample was played")
	}
	got = append(got, read(t, p, len(want)-len(got), 160)...)
	if !closed(done) {
		t.Fatal("done not closed after the announcement played")
	}
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("output differs from track end + pause + announcement + pause + next track at sample %d", i)
	}
}

// dipTrack is a steady tone with a quieter passage (a tenth of the level)
// from dipAt to dipAt+dipLen.
func dipTrack(dur, dipAt, dipLen time.Duration) []int16 {
	s := tone(r8, 440, 8000, dur)
	for i := audio.SamplesPer(r8, dipAt); i < audio.SamplesPer(r8, dipAt+dipLen); i++ {
		s[i] /= 10
	}
	return s
}

// breakOf finds the announcement clip in out (read from track position
// readFrom on) and returns the output index where the clip starts and the
// track position where the music stopped.
func breakOf(t *testing.T, out, clip []int16, readFrom int) (clipAt, brk int) {
	t.Helper()
	clipAt = index(out, clip[:200], 0)
	if clipAt < 0 {
		t.Fatal("announcement not found in the output")
	}
	return clipAt, readFrom + clipAt - ms(r8, 150)
}

func TestAnnounceFadesAtQuietMoment(t *testing.T) {
	dir := t.TempDir()
	track := dipTrack(30*time.Second, 5*time.Second, 800*time.Millisecond)
	paths := []string{writeWAV(t, dir, "dip.wav", r8, track)}
	lib := NewLibrary(nil)
	p := NewPlayer(lib, paths, r8, 0, patient)
	read(t, p, r8, 160)
	clip := clipNoise(2, 8000)
	p.Announce(audio.Clip{Rate: r8, Samples: clip}, AtBreak)
	out := read(t, p, 10*r8, 160)
	clipAt, brk := breakOf(t, out, clip, r8)
	if brk < 5*r8 || brk > 5*r8+ms(r8, 800) {
		t.Fatalf("music stopped at %.3f s, want inside the quiet passage 5.0-5.8 s", float64(brk)/r8)
	}
	fade := ms(r8, 300)
	if i := firstDiff(out[:brk-fade-r8], track[r8:brk-fade]); i >= 0 {
		t.Fatalf("music before the fade altered at %.3f s", float64(r8+i)/r8)
	}
	// The pause before the announcement is silence.
	if s := out[brk-r8 : clipAt]; rms(s) != 0 {
		t.Fatalf("pause before the announcement not silent: rms %.1f", rms(s))
	}
}

// checkFadeOut asserts that seg (the music's last fade samples before
// the pause) decays smoothly from the music's level to nothing.
func checkFadeOut(t *testing.T, seg []int16, level float64, toneStep int) {
	t.Helper()
	blk := ms(r8, 10)
	var env []float64
	for i := 0; i+blk <= len(seg); i += blk {
		env = append(env, rms(seg[i:i+blk]))
	}
	if env[0] < 0.9*level {
		t.Errorf("fade starts at rms %.0f, want near the music's %.0f", env[0], level)
	}
	for i := 1; i < len(env); i++ {
		if env[i] > env[i-1]*1.03+2 {
			t.Errorf("fade envelope rises at block %d: %.0f after %.0f (%v)", i, env[i], env[i-1], env)
			break
		}
	}
	if last := env[len(env)-1]; last > 0.03*level {
		t.Errorf("fade ends at rms %.0f, want under 3%% of %.0f: an abrupt cut", last, level)
	}
	// No step bigger than the tone's own: no click.
	if s := maxStep(seg); s > toneStep+20 {
		t.Errorf("largest sample step in the fade %d, the tone's own %d", s, toneStep)
	}
	if v := abs(int(seg[len(seg)-1])); v > 100 {
		t.Errorf("music cut at sample value %d", v)
	}
}

// steady is music with no quiet moment and no repeating period (a tone
// alone would repeat every 25 ms and hide a wrong resume position).
func steady(d time.Duration) []int16 {
	s := tone(r8, 440, 7000, d)
	for i, v := range noise(42, 500, len(s)) {
		s[i] += v
	}
	return s
}

func TestBreakSkipsAHush(t *testing.T) {
	dir := t.TempDir()
	// 1.5 s of near silence (-64 dBFS) at 5 s: the break takes it, the
	// caller does not hear it after the pauses around the announcement.
	track := steady(30 * time.Second)
	hush := tone(r8, 300, 28, 1500*time.Millisecond)
	copy(track[5*r8:], hush)
	paths := []string{writeWAV(t, dir, "hush.wav", r8, track)}
	p := NewPlayer(NewLibrary(nil), paths, r8, 0, patient)
	read(t, p, r8, 160)
	clip := clipNoise(8, r8)
	p.Announce(audio.Clip{Rate: r8, Samples: clip}, AtBreak)
	out := read(t, p, 10*r8, 160)
	clipAt, brk := breakOf(t, out, clip, r8)
	if brk != 5*r8 {
		t.Errorf("music stopped at %.3f s, want where the hush begins, 5 s", float64(brk)/r8)
	}
	resumeAt := clipAt + len(clip) + ms(r8, 500) + ms(r8, 500) // pause, fade-in
	from := 5*r8 + len(hush) + ms(r8, 500)
	if i := firstDiff(out[resumeAt:resumeAt+r8], track[from:from+r8]); i >= 0 {
		t.Errorf("music does not resume where the hush ends (differs at %d)", i)
	}
	if g := longestSilence(out, r8); g > time.Second {
		t.Errorf("silence of %v", g)
	}
}

func TestFadeOutAndBackInAtResumePosition(t *testing.T) {
	dir := t.TempDir()
	track := steady(30 * time.Second) // no quiet moment at all
	paths := []string{writeWAV(t, dir, "steady.wav", r8, track)}
	lib := NewLibrary(nil)
	p := NewPlayer(lib, paths, r8, 0, patient)
	read(t, p, r8, 160)
	clip := clipNoise(3, 8000)
	done := p.Announce(audio.Clip{Rate: r8, Samples: clip}, AtBreak)
	out := read(t, p, 12*r8, 160)
	clipAt, brk := breakOf(t, out, clip, r8)
	if brk < r8+ms(r8, 300) || brk > 9*r8 {
		t.Fatalf("music stopped at %.3f s, want 1.3-9 s", float64(brk)/r8)
	}
	if !closed(done) {
		t.Fatal("done not closed")
	}
	fade := ms(r8, 300)
	if i := firstDiff(out[:brk-fade-r8], track[r8:brk-fade]); i >= 0 {
		t.Fatalf("music before the fade altered at %.3f s", float64(r8+i)/r8)
	}
	level := rms(track[:r8])
	toneStep := maxStep(track[:r8])
	checkFadeOut(t, out[brk-fade-r8:brk-r8], level, toneStep)

	// After the announcement and its pause, the music fades back in from
	// where it stopped (not from the start, not from where the clock is).
	resumeAt := clipAt + len(clip) + ms(r8, 500)
	if s := out[clipAt+len(clip) : resumeAt]; rms(s) != 0 {
		t.Fatalf("pause after the announcement not silent: rms %.1f", rms(s))
	}
	fadeIn := ms(r8, 500)
	in := out[resumeAt : resumeAt+fadeIn]
	blk := ms(r8, 10)
	prev := -1.0
	for i := 0; i+blk <= len(in); i += blk {
		e := rms(in[i : i+blk])
		if e+2 < prev*0.97 {
			t.Fatalf("fade-in envelope falls at %d ms: %.0f after %.0f", i/8, e, prev)
		}
		prev = e
	}
	if first := rms(in[:blk]); first > 0.05*level {
		t.Errorf("music resumes at rms %.0f, not faded in", first)
	}
	for i, v := range in {
		if abs(int(v)) > abs(int(track[brk+i])) {
			t.Fatalf("fade-in sample %d louder than the track", i)
		}
	}
	rest := out[resumeAt+fadeIn:]
	if i := firstDiff(rest, track[brk+fadeIn:brk+fadeIn+len(rest)]); i >= 0 {
		t.Fatalf("after the fade-in the music is not the track from where it stopped (differs at %d)", i)
	}
	// Nowhere a step larger than the music's own: no click.
	if m, own := maxStep(out[:clipAt]), maxStep(track); m > own {
		t.Errorf("sample step %d, the music's own at most %d: a click", m, own)
	}
}

func TestUrgentPlaysFirstAndSoon(t *testing.T) {
	dir := t.TempDir()
	// A quiet passage at 6 s draws the ordinary announcement; the urgent
	// one cannot wait for it.
	track := dipTrack(60*time.Second, 6*time.Second, 800*time.Millisecond)
	paths := []string{writeWAV(t, dir, "dip.wav", r8, track)}
	lib := NewLibrary(nil)
	p := NewPlayer(lib, paths, r8, 0, patient)
	read(t, p, r8/2, 160)
	normal := clipNoise(4, 6000)
	urgent := clipNoise(5, 7000)
	dn := p.Announce(audio.Clip{Rate: r8, Samples: normal}, AtBreak)
	du := p.Announce(audio.Clip{Rate: r8, Samples: urgent}, Urgent)
	if n := p.Pending(); n != 2 {
		t.Fatalf("%d pending, want 2", n)
	}
	out := read(t, p, 8*r8, 160)
	if n := p.Pending(); n != 0 {
		t.Fatalf("%d pending after both played", n)
	}
	ua, brk := breakOf(t, out, urgent, r8/2)
	if brk > r8/2+2*r8 {
		t.Fatalf("urgent announcement waited until %.3f s, want within 2 s of 0.5 s", float64(brk)/r8)
	}
	na := index(out, normal[:200], 0)
	if na != ua+len(urgent)+ms(r8, 500) {
		t.Fatalf("ordinary announcement at %d, want right after the urgent one and a pause (%d)", na, ua+len(urgent)+ms(r8, 500))
	}
	if !closed(dn) || !closed(du) {
		t.Fatal("done channels not closed")
	}
	checkFadeOut(t, out[brk-ms(r8, 300)-r8/2:brk-r8/2], rms(track[:r8]), maxStep(track[:r8]))
}

func TestUrgentNeverCutsAnAnnouncement(t *testing.T) {
	dir := t.TempDir()
	paths := []string{writeWAV(t, dir, "steady.wav", r8, tone(r8, 440, 8000, 30*time.Second))}
	p := NewPlayer(NewLibrary(nil), paths, r8, 0, patient)
	first := clipNoise(6, 2*r8)
	p.Announce(audio.Clip{Rate: r8, Samples: first}, AtBreak)
	out := read(t, p, 2*r8, 160) // into the first announcement
	at := index(out, first[:200], 0)
	if at < 0 {
		t.Fatal("first announcement not started")
	}
	second := clipNoise(7, r8)
	p.Announce(audio.Clip{Rate: r8, Samples: second}, Urgent)
	out = append(out, read(t, p, 4*r8, 160)...)
	if i := firstDiff(out[at:at+len(first)], first); i >= 0 {
		t.Fatalf("first announcement altered at %d", i)
	}
	if got, want := index(out, second[:200], 0), at+len(first)+ms(r8, 500); got != want {
		t.Fatalf("urgent announcement at %d, want %d (after the first and a pause)", got, want)
	}
}

func TestStopEndsEverything(t *testing.T) {
	dir := t.TempDir()
	paths := []string{writeWAV(t, dir, "steady.wav", r8, tone(r8, 440, 8000, 30*time.Second))}
	p := NewPlayer(NewLibrary(nil), paths, r8, 0, patient)
	read(t, p, 160, 160)
	d1 := p.Announce(audio.Clip{Rate: r8, Samples: clipNoise(1, r8)}, AtBreak)
	d2 := p.Announce(audio.Clip{Rate: r8, Samples: clipNoise(2, r8)}, Urgent)
	p.Stop()
	p.Stop()
	if !closed(d1) || !closed(d2) {
		t.Fatal("Stop left an announcement's channel open")
	}
	buf := make([]int16, 160)
	if n, err := p.ReadPCM(buf); n != 0 || err != io.EOF {
		t.Fatalf("ReadPCM after Stop = %d, %v; want 0, EOF", n, err)
	}
	if d := p.Announce(audio.Clip{Rate: r8, Samples: clipNoise(3, r8)}, AtBreak); !closed(d) {
		t.Fatal("Announce after Stop left its channel open")
	}
}

func TestSilentAnnouncementIsNoBreak(t *testing.T) {
	dir := t.TempDir()
	track := tone(r8, 440, 8000, 30*time.Second)
	p := NewPlayer(NewLibrary(nil), []string{writeWAV(t, dir, "s.wav", r8, track)}, r8, 0, patient)
	for _, c := range []audio.Clip{{}, {Rate: r8, Samples: make([]int16, r8)}} {
		if d := p.Announce(c, AtBreak); !closed(d) {
			t.Fatal("an empty or silent announcement is pending")
		}
	}
	if got := read(t, p, 10*r8, 160); firstDiff(got, track[:10*r8]) >= 0 {
		t.Fatal("an empty announcement interrupted the music")
	}
}

func TestNoLongSilence(t *testing.T) {
	dir := t.TempDir()
	// Tracks that open and close on a second of digital silence and a
	// second of a fade's whisper, and announcements padded with silence
	// as synthesizers make them: played as they are, the joins and
	// breaks would be seconds of dead line.
	pad := func(s []int16) []int16 {
		whisper := tone(r8, 300, 20, time.Second)
		return slices.Concat(make([]int16, r8), whisper, s, whisper, make([]int16, r8))
	}
	paths := []string{
		writeWAV(t, dir, "a.wav", r8, pad(tone(r8, 440, 6000, 4*time.Second))),
		writeWAV(t, dir, "b.wav", r8, pad(dipTrack(9*time.Second, 3*time.Second, 2*time.Second))),
	}
	p := NewPlayer(NewLibrary(nil), paths, r8, 0, patient)
	var out []int16
	var dones []<-chan struct{}
	for i := range 20 {
		mode := AtBreak
		if i%3 == 2 {
			mode = Urgent
		}
		dones = append(dones, p.Announce(audio.Clip{Rate: r8, Samples: slices.Concat(make([]int16, r8), clipNoise(uint64(i), r8), make([]int16, r8))}, mode))
		out = append(out, read(t, p, 3*r8+i*97, 160)...)
	}
	out = append(out, read(t, p, 12*r8, 160)...)
	for i, d := range dones {
		if !closed(d) {
			t.Fatalf("announcement %d not played", i)
		}
	}
	if p.breaks < 5 {
		t.Fatalf("only %d breaks in %d s", p.breaks, len(out)/r8)
	}
	if g := longestSilence(out, r8); g > time.Second {
		t.Fatalf("silence of %v in the output", g)
	}
}

func TestRealMusicOnHold(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes the Debian music files")
	}
	files, _ := filepath.Glob(filepath.Join(config.DefaultMusicDir, "*.wav"))
	if len(files) == 0 {
		t.Skip("no music in " + config.DefaultMusicDir + " (Debian package asterisk-moh-opsound-wav)")
	}
	lib := NewLibrary(nil)
	t0 := time.Now()
	if errs := lib.Preload(files, r8); len(errs) > 0 {
		t.Fatal(errs)
	}
	t.Logf("decoded %d files in %v", len(files), time.Since(t0).Round(time.Millisecond))
	p := NewPlayer(lib, files, r8, 2, patient)
	var total int
	for _, f := range files {
		tr, _ := lib.Load(f, r8)
		total += len(tr.Samples)
	}
	// Once around all the tracks with an announcement every 30 s.
	var out []int16
	clip := clipNoise(9, 3*r8)
	var asked []int // output sample of each request
	for i := 0; len(out) < total; i++ {
		mode := AtBreak
		if i%4 == 3 {
			mode = Urgent
		}
		asked = append(asked, len(out))
		p.Announce(audio.Clip{Rate: r8, Samples: clip}, mode)
		out = append(out, read(t, p, 30*r8, 160)...)
	}
	if g := longestSilence(out, r8); g > time.Second {
		t.Errorf("silence of %v in %v of music on hold", g, time.Duration(len(out))*time.Second/r8)
	}
	if path := os.Getenv("HOLD_WAV"); path != "" { // to listen to: HOLD_WAV=/tmp/hold.wav
		if err := audio.WriteWAVFile(path, audio.Clip{Rate: r8, Samples: out}); err != nil {
			t.Error(err)
		}
	}
	// Every break fades out: the 10 ms before each pause is at least 20
	// dB below the 300 ms before the fade, or the track had ended.
	breaks := 0
	for at := index(out, clip[:200], 0); at >= 0; at = index(out, clip[:200], at+len(clip)) {
		end := at - ms(r8, 150)
		// Each request is heard within 8 s (2 s when urgent).
		if breaks < len(asked) {
			wait, within := end-asked[breaks], 8*r8
			if breaks%4 == 3 {
				within = 2 * r8
			}
			if wait < 0 || wait > within {
				t.Errorf("announcement %d: music stopped %.2f s after the request", breaks, float64(wait)/r8)
			}
		}
		breaks++
		music := out[end-ms(r8, 600) : end-ms(r8, 300)]
		last := out[end-ms(r8, 10) : end]
		if rms(last) > 0.1*rms(music)+30 {
			t.Errorf("break at %.1f s: music at rms %.0f just before the pause, %.0f before the fade: cut, not faded", float64(end)/r8, rms(last), rms(music))
		}
	}
	if breaks < len(out)/r8/30-1 {
		t.Errorf("%d announcements heard in %d s", breaks, len(out)/r8)
	}
	t.Logf("%d s of music (%.1f MB of samples kept), %d breaks, longest silence %v", len(out)/r8, float64(2*total)/1e6, breaks, longestSilence(out, r8))
}

func TestPatternWhenNoTracks(t *testing.T) {
	lib := NewLibrary(nil)
	for _, tracks := range [][]string{nil, {t.TempDir() + "/missing.wav"}} {
		p := NewPlayer(lib, tracks, r8, 5, patient)
		if !p.Pattern() {
			t.Fatal("no tracks, yet no pattern")
		}
		out := read(t, p, 30*r8, 160)
		if g := longestSilence(out, r8); g > 200*time.Millisecond {
			t.Errorf("pattern falls silent for %v", g)
		}
		level := rms(out)
		var peak int
		for _, v := range out {
			peak = max(peak, abs(int(v)))
		}
		// Soft: between -40 and -20 dBFS RMS, peaks well below full scale.
		if level < 330 || level > 3300 || peak > 10000 {
			t.Errorf("pattern rms %.0f, peak %d", level, peak)
		}
		// The loop joins where the phrase has released to nothing and
		// the next begins from nothing: no click.
		L := len(lib.Pattern(r8).Samples)
		for j := L; j < len(out); j += L {
			if m := maxStep(out[j-2 : j+2]); m > 100 {
				t.Errorf("pattern loop join at %d: sample step %d", j, m)
			}
			if e := rms(out[j-ms(r8, 2) : j]); e > 50 {
				t.Errorf("pattern loop join at %d: phrase ends at rms %.0f", j, e)
			}
		}
		d := p.Announce(audio.Clip{Rate: r8, Samples: clipNoise(1, r8)}, AtBreak)
		read(t, p, 11*r8, 160)
		if !closed(d) {
			t.Error("announcement over the pattern not played within 11 s")
		}
	}
}

func TestRateConversion(t *testing.T) {
	dir := t.TempDir()
	const r16 = audio.Rate16k
	a := tone(r8, 440, 8000, 2*time.Second)
	b := tone(r8, 1000, 8000, time.Second)
	paths := []string{writeWAV(t, dir, "a.wav", r8, a), writeWAV(t, dir, "b.wav", r8, b)}
	lib := NewLibrary(nil)
	lib.Preload(paths, r16)
	p := NewPlayer(lib, paths, r16, 0, patient)
	if p.Rate() != r16 {
		t.Fatalf("rate %d", p.Rate())
	}
	out := read(t, p, 3*r16, 320)
	// 2 s of 440 Hz, then 1 s of 1000 Hz, at 16 kHz.
	first, second := out[r16/10:2*r16-r16/10], out[2*r16+r16/10:3*r16-r16/10]
	if goertzel(first, r16, 440) < 100*goertzel(first, r16, 1000) {
		t.Error("first track is not 440 Hz at 16 kHz")
	}
	if goertzel(second, r16, 1000) < 100*goertzel(second, r16, 440) {
		t.Error("second track is not 1000 Hz at 16 kHz")
	}
	if l := rms(first); l < 5400 || l > 5900 { // 8000/sqrt(2)
		t.Errorf("level after resampling %.0f, want about 5657", l)
	}
	// An 8 kHz announcement (700 Hz, 1 s) in the 16 kHz player lasts 1 s
	// at 16 kHz and keeps its pitch.
	clip := tone(r8, 700, 8000, time.Second)
	d := p.Announce(audio.Clip{Rate: r8, Samples: clip}, AtBreak)
	out = read(t, p, 12*r16, 320)
	if !closed(d) {
		t.Fatal("announcement not played")
	}
	// Find the announcement: the run of samples between the two pauses.
	pre := index(out, make([]int16, ms(r16, 150)), 0)
	if pre < 0 {
		t.Fatal("no pause before the announcement")
	}
	start := pre + ms(r16, 150)
	for out[start] == 0 {
		start++
	}
	end := index(out, make([]int16, ms(r16, 400)), start)
	if n := end - start; n < r16-200 || n > r16+200 {
		t.Fatalf("announcement lasts %d samples at 16 kHz, want about %d", n, r16)
	}
	ann := out[start:end]
	if goertzel(ann, r16, 700) < 100*goertzel(ann, r16, 1400) {
		t.Error("announcement not at 700 Hz after resampling")
	}
}

func TestConcurrentUse(t *testing.T) {
	dir := t.TempDir()
	paths := []string{
		writeWAV(t, dir, "a.wav", r8, tone(r8, 440, 8000, 3*time.Second)),
		writeWAV(t, dir, "b.wav", r8, dipTrack(5*time.Second, 2*time.Second, time.Second)),
	}
	lib := NewLibrary(nil)
	var wg sync.WaitGroup
	for c := range 4 {
		p := NewPlayer(lib, paths, r8, c, patient)
		wg.Add(2)
		go func() { // the media clock
			defer wg.Done()
			buf := make([]int16, 160)
			for {
				if _, err := p.ReadPCM(buf); err == io.EOF {
					return
				}
			}
		}()
		go func() { // the call
			defer wg.Done()
			for i := range 6 {
				<-p.Announce(audio.Clip{Rate: r8, Samples: clipNoise(uint64(i), 800)}, Mode(i%2))
			}
			p.Announce(audio.Clip{Rate: audio.Rate16k, Samples: clipNoise(1, 1600)}, AtBreak)
			p.Stop()
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("players hung")
	}
}

func TestReadPCMAllocatesNothing(t *testing.T) {
	dir := t.TempDir()
	paths := []string{
		writeWAV(t, dir, "a.wav", r8, tone(r8, 440, 8000, 3*time.Second)),
		writeWAV(t, dir, "b.wav", r8, dipTrack(10*time.Second, 2*time.Second, time.Second)),
	}
	lib := NewLibrary(nil)
	lib.Preload(paths, r8)
	p := NewPlayer(lib, paths, r8, 0, patient)
	p.Announce(audio.Clip{Rate: r8, Samples: clipNoise(1, r8)}, AtBreak)
	p.Announce(audio.Clip{Rate: r8, Samples: clipNoise(2, r8)}, Urgent)
	buf := make([]int16, 160)
	// 40 s of frames: track joins, both announcements, fades.
	allocs := testing.AllocsPerRun(2000, func() {
		if n, err := p.ReadPCM(buf); n != len(buf) || err != nil {
			t.Fatal(n, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%.2f allocations per ReadPCM", allocs)
	}
	if p.breaks == 0 {
		t.Fatal("the announcements did not play during the measurement")
	}
}

func TestMusicPlaysBetweenBreaks(t *testing.T) {
	dir := t.TempDir()
	paths := []string{writeWAV(t, dir, "steady.wav", r8, steady(60*time.Second))}
	for _, mode := range []Mode{AtBreak, Urgent} {
		p := NewPlayer(NewLibrary(nil), paths, r8, 0, patient)
		d := p.Announce(audio.Clip{Rate: r8, Samples: clipNoise(1, r8/2)}, AtBreak)
		for !closed(d) || p.ph != phMusic { // to the sample where the music comes back
			read(t, p, 1, 1)
		}
		clip := clipNoise(2, r8/2)
		p.Announce(audio.Clip{Rate: r8, Samples: clip}, mode)
		out := read(t, p, 12*r8, 160)
		at := index(out, clip[:200], 0)
		if at < 0 {
			t.Fatalf("mode %d: second announcement not played", mode)
		}
		music := at - ms(r8, 150)
		switch {
		case mode == AtBreak && (music < 3*r8 || music > 8*r8):
			t.Errorf("ordinary announcement after %.2f s of music, want 3-8 s", float64(music)/r8)
		case mode == Urgent && music > 2*r8:
			t.Errorf("urgent announcement after %.2f s of music, want within 2 s", float64(music)/r8)
		}
	}
}

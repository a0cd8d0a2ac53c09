package embedded

import (
	"context"
	"testing"
	"time"

	"github.com/openivr/ivr/tts"
)

// The demo line: static prompts are rendered by the default voice when the
// config loads and then play from the cache with no synthesis delay, also
// after a restart; a dynamic amount streams.
func TestDemoLineFromCache(t *testing.T) {
	need(t, "flite")
	dir := t.TempDir()
	static := []tts.Prompt{
		{Name: "welcome", Text: "Thank you for calling the parcel line."},
		{Name: "menu", Text: "Say track a parcel, report damage, or agent. Or press {digits:1}, {digits:2} or {digits:0}."},
		{Name: "goodbye", Text: "Thank you for calling. Goodbye."},
	}
	for restart := 0; restart < 2; restart++ {
		c, err := tts.NewCache(dir, New())
		if err != nil {
			t.Fatal(err)
		}
		p := tts.NewPrompts("", 8000, "", c)
		load := time.Now()
		if err := p.Prepare(context.Background(), static); err != nil {
			t.Fatal(err)
		}
		if restart == 1 && time.Since(load) > time.Second {
			t.Fatalf("restart re-synthesized: load took %v", time.Since(load))
		}
		frame := make([]int16, 160)
		for _, pr := range static {
			start := time.Now()
			st, err := p.Play(context.Background(), pr)
			if err != nil {
				t.Fatal(err)
			}
			n, err := st.ReadPCM(frame)
			if d := time.Since(start); n != 160 || err != nil || d > 5*time.Millisecond {
				t.Fatalf("%s: first frame %d samples, %v, after %v", pr.Name, n, err, d)
			}
			st.Close()
		}
	}
	c, _ := tts.NewCache(dir, New())
	p := tts.NewPrompts("", 8000, "", c)
	st, err := p.Play(context.Background(), tts.Prompt{Name: "balance", Text: "Your balance is {amount:112.40 GBP}."})
	if err != nil {
		t.Fatal(err)
	}
	clip, err := tts.ReadAll(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if clip.Duration() < 2*time.Second || rms(clip.Samples) < 300 {
		t.Fatalf("dynamic amount: %v, RMS %.0f", clip.Duration(), rms(clip.Samples))
	}
}

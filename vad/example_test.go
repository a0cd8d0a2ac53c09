package vad_test

import (
	"fmt"

	"github.com/openivr/ivr/audio"
	"github.com/openivr/ivr/vad"
)

// A listening loop: one Detector and one Endpointer per call, fed 20 ms
// frames as they arrive from the decoder.
func Example() {
	clip, err := audio.ReadWAVFile("/usr/share/asterisk/sounds/en/vm-goodbye.wav")
	if err != nil {
		fmt.Println(err)
		return
	}
	// Half a second of silence, the prompt, a second of silence.
	s := append(append(make([]int16, 4000), clip.Samples...), make([]int16, 8000)...)

	det, err := vad.New(clip.Rate, vad.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ep := vad.NewEndpointer(vad.EndpointConfig{}) // 100 ms to start, 500 ms of silence to end
	n := det.FrameSize()
	for i := 0; i+n <= len(s); i += n {
		switch ev := ep.Push(det.Process(s[i : i+n])); ev {
		case vad.SpeechStart:
			fmt.Printf("%v at %v (onset %v)\n", ev, ep.Elapsed(), ep.SpeechOnset())
		case vad.SpeechEnd, vad.MaxUtterance, vad.NoInput:
			fmt.Printf("%v at %v\n", ev, ep.Elapsed())
		}
	}
	// Output:
	// speech-start at 660ms (onset 560ms)
	// speech-end at 1.86s
}

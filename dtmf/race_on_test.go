//go:build race

package dtmf

// raceEnabled is true under -race, where the talk-off suite plays each
// file once instead of twice to stay fast.
const raceEnabled = true

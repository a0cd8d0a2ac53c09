//go:build race

package vadeval

// raceEnabled skips the tests that load every source recording: they are
// single-goroutine and very slow under the race detector.
const raceEnabled = true

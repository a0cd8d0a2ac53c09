//go:build race

package vad

// raceEnabled skips the slow statistical quality test under the race
// detector; the plain test run covers it.
const raceEnabled = true

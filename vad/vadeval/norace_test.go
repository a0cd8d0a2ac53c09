//go:build !race

package vadeval

const raceEnabled = false

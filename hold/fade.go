package hold

import "math"

// unity is gain 1.0 in the Q15 fixed point the player mixes in.
const unity = 1 << 15

// rampTable is a raised-cosine rise from 0 to unity: a fade with no corner
// at either end, so it adds no click.
var rampTable = func() [1025]int32 {
	var t [1025]int32
	for i := range t {
		t[i] = int32(math.Round(unity * (0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(len(t)-1)))))
	}
	return t
}()

// ramp is the gain i samples into a fade of n samples (0 at i <= 0, unity
// at i >= n).
func ramp(i, n int) int32 {
	if i <= 0 {
		return 0
	}
	if i >= n {
		return unity
	}
	return rampTable[i*(len(rampTable)-1)/n]
}

//go:build !unix

package speech

import "time"

// cpuTime is unavailable here; RTF then reads 0.
func cpuTime() time.Duration { return 0 }

//go:build !unix

package benchcpu

import (
	"testing"
	"time"
)

// ThreadCPU is not available here; it returns 0.
func ThreadCPU() time.Duration { return 0 }

// Report reports nothing where thread CPU time is not available.
func Report(b *testing.B) (stop func()) { return func() {} }

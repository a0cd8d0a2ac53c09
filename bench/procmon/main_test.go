//go:build linux

package main

import (
	"os"
	"testing"
	"time"
)

func TestProcReadsSelf(t *testing.T) {
	pid := os.Getpid()
	before, err := procTicks(pid)
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); {
	} // burn CPU: ~10 ticks
	after, err := procTicks(pid)
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Errorf("CPU ticks did not advance after 100 ms of work: %d -> %d", before, after)
	}
	st, err := procStatus(pid)
	if err != nil {
		t.Fatal(err)
	}
	if st.rssMiB <= 0 || st.hwmMiB < st.rssMiB || st.threads < 1 {
		t.Errorf("status = %+v", st)
	}
	busy, total, err := systemTicks()
	if err != nil || busy == 0 || total <= busy {
		t.Errorf("systemTicks = %d, %d, %v", busy, total, err)
	}
	if _, err := procTicks(1 << 30); err == nil {
		t.Error("no error for a missing process")
	}
}

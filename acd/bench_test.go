package acd

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/openivr/ivr/config"
)

// benchCenter has n callers waiting in one queue and every agent away, so
// each dispatch looks at every ticket and finds no one to ring.
func benchCenter(b *testing.B, n int) (*Center, []*Ticket) {
	b.Helper()
	r := newRinger("alice", "bob", "carol")
	cfg, err := config.Parse([]byte(fmt.Sprintf(baseYAML, config.StrategyLongestIdle)), "bench.yaml", "")
	if err != nil {
		b.Fatal(err)
	}
	c, err := New(Options{Config: cfg, Ringer: r, Tick: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	for _, a := range []string{"alice", "bob", "carol"} {
		c.SetState(a, Away)
	}
	ts := make([]*Ticket, n)
	for i := range ts {
		ts[i], _ = c.Join(context.Background(), "support", pop(fmt.Sprint(10000+i)), 0)
	}
	return c, ts
}

// BenchmarkDispatch is one pass of the distributor over a busy queue.
func BenchmarkDispatch(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			c, _ := benchCenter(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.mu.Lock()
				c.dispatchLocked()
				c.mu.Unlock()
			}
		})
	}
}

// BenchmarkPositionAndWait is what an announcement asks the queue.
func BenchmarkPositionAndWait(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			_, ts := benchCenter(b, n)
			t := ts[n/2]
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if t.Position() == 0 || t.EstimatedWait() < 0 {
					b.Fatal("bad position")
				}
			}
		})
	}
}

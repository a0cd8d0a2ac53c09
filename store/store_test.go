package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/openivr/ivr/models"
)

func TestSaveUpdateList(t *testing.T) {
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	base := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		r := &models.CallRecord{CallID: fmt.Sprintf("c%d", i), From: "sip:a@b", Channel: "sip", StartedAt: base.Add(time.Duration(i) * time.Minute), Path: []string{"main"}}
		if err := st.Save(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// The end of call 2 updates its record.
	end := base.Add(3 * time.Minute)
	if err := st.Save(ctx, &models.CallRecord{CallID: "c2", Channel: "sip", StartedAt: base.Add(2 * time.Minute), EndedAt: &end, EndReason: models.EndCallerHangup, Path: []string{"main", "hours"}, Digits: "2"}); err != nil {
		t.Fatal(err)
	}
	all, err := st.List(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 || all[0].CallID != "c4" || all[4].CallID != "c0" {
		t.Fatalf("list order: %d records, first %s", len(all), all[0].CallID)
	}
	got, err := st.Get(ctx, "c2")
	if err != nil || got.EndReason != models.EndCallerHangup || got.Digits != "2" || len(got.Path) != 2 || got.EndedAt == nil {
		t.Errorf("updated record: %+v %v", got, err)
	}
	last2, _ := st.List(ctx, Query{Limit: 2})
	if len(last2) != 2 || last2[1].CallID != "c3" {
		t.Errorf("limit: %v", last2)
	}
	since, _ := st.List(ctx, Query{Since: base.Add(3 * time.Minute)})
	if len(since) != 2 {
		t.Errorf("since: %d records", len(since))
	}
	if _, err := st.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing record: %v", err)
	}
}

// TestConcurrentWriters: calls end at the same time; no record is lost.
func TestConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := st.Save(context.Background(), &models.CallRecord{CallID: fmt.Sprint(i), Channel: "sip", StartedAt: time.Now()}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	// A second process (ivr calls) reads while the server holds the file.
	reader, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	recs, err := reader.List(context.Background(), Query{})
	if err != nil || len(recs) != 50 {
		t.Errorf("%d records, err %v", len(recs), err)
	}
}

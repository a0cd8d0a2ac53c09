package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDueKeys(t *testing.T) {
	for _, tc := range []struct {
		keys  string
		limit time.Duration
		want  string
	}{
		{"4@5s,3@15s", 29 * time.Second, "43"},
		{"4@5s,3@15s", 9 * time.Second, "4"},
		{"", time.Minute, ""},
	} {
		if got := dueKeys(tc.keys, tc.limit); got != tc.want {
			t.Errorf("dueKeys(%q, %v) = %q, want %q", tc.keys, tc.limit, got, tc.want)
		}
	}
}

func TestCallNumber(t *testing.T) {
	if n := callNumber("sip:load17@127.0.0.1:5061"); n != 17 {
		t.Errorf("callNumber = %d, want 17", n)
	}
	if n := callNumber("sip:alice@example.com"); n != 0 {
		t.Errorf("callNumber of a foreign URI = %d, want 0", n)
	}
}

func TestPercentiles(t *testing.T) {
	var v []float64
	for i := 1; i <= 100; i++ {
		v = append(v, float64(i))
	}
	q := percentiles(v)
	if q.Count != 100 || q.P50 != 50 || q.P99 != 99 || q.Max != 100 {
		t.Errorf("percentiles = %+v", q)
	}
	if q := percentiles(nil); q.Count != 0 {
		t.Errorf("empty: %+v", q)
	}
}

// TestRunFiles reads SIPp's and /proc's files as run.sh leaves them.
func TestRunFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("stat.csv", "StartTime;OutgoingCall(C);SuccessfulCall(C);FailedCall(C);\n"+
		"2026-01-01\t00:00:00.0\t1.0;1;0;0;\n2026-01-01\t00:00:01.0\t2.0;3;2;1;\n")
	write("caller_42_logs.log", "2026-01-01 ok 1\n2026-01-01 ok 3\n")
	write("caller_42_rtt.csv", "Date_ms;response_time_ms;rtd_no\n10;4;1\n20;8;1\n")
	write("udp.before", "Udp: InDatagrams RcvbufErrors\nUdp: 10 5\n")
	write("udp.after", "Udp: InDatagrams RcvbufErrors\nUdp: 99 7\n")

	row, err := lastStatRow(filepath.Join(dir, "stat.csv"))
	if err != nil || row["OutgoingCall(C)"] != "3" || row["FailedCall(C)"] != "1" {
		t.Errorf("lastStatRow = %v, %v", row, err)
	}
	ok, err := sippOK(dir)
	if err != nil || !ok[1] || ok[2] || !ok[3] {
		t.Errorf("sippOK = %v, %v", ok, err)
	}
	rtt, err := sippRTT(dir)
	if err != nil || len(rtt) != 2 || rtt[1] != 8 {
		t.Errorf("sippRTT = %v, %v", rtt, err)
	}
	if d, err := udpRcvbufErrors(dir); err != nil || d != 2 {
		t.Errorf("udpRcvbufErrors = %d, %v", d, err)
	}
}

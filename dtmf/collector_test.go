package dtmf

import (
	"testing"
	"time"
)

func TestCollector(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	spec := CollectSpec{MinLen: 4, MaxLen: 6, Terminator: '#', FirstDigitTimeout: 5 * time.Second, InterDigitTimeout: 3 * time.Second}
	for _, c := range []struct {
		name    string
		ahead   string // typed before Begin
		flush   bool
		feed    string // one key per 100 ms after Begin
		expire  int    // ms at which Expire is called, 0 none
		want    Result
		wantBuf string // type-ahead left afterwards
	}{
		{name: "terminator", feed: "1234#", want: Result{"1234", ReasonTerminator}},
		{name: "max length", feed: "1234567", want: Result{"123456", ReasonMaxLength}, wantBuf: "7"},
		{name: "too short", feed: "12#", want: Result{"12", ReasonTooShort}},
		{name: "no input", expire: 5000, want: Result{"", ReasonNoInput}},
		{name: "not yet", expire: 4999, want: Result{}},
		{name: "inter-digit timeout", feed: "12345", expire: 500 + 3000, want: Result{"12345", ReasonTimeout}},
		{name: "inter-digit timeout too short", feed: "12", expire: 200 + 3000, want: Result{"12", ReasonTooShort}},
		{name: "type-ahead completes", ahead: "9876#55", want: Result{"9876", ReasonTerminator}, wantBuf: "55"},
		{name: "type-ahead continues", ahead: "98", feed: "76#", want: Result{"9876", ReasonTerminator}},
		{name: "flush type-ahead", ahead: "98", flush: true, feed: "1234#", want: Result{"1234", ReasonTerminator}},
		{name: "lower case and invalid keys", feed: "12x3a#", want: Result{"123A", ReasonTerminator}},
	} {
		col := NewCollector(0)
		for i := 0; i < len(c.ahead); i++ {
			col.Feed(c.ahead[i], at(-1000))
		}
		s := spec
		s.FlushTypeAhead = c.flush
		if err := col.Begin(s, t0); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(c.feed); i++ {
			col.Feed(c.feed[i], at(100*(i+1)))
		}
		if c.expire > 0 {
			col.Expire(at(c.expire))
		}
		if got := col.Result(); got != c.want {
			t.Errorf("%s: result %+v, want %+v", c.name, got, c.want)
		}
		if col.Done() != (c.want.Reason != ReasonNone) {
			t.Errorf("%s: Done %v", c.name, col.Done())
		}
		if got := col.TypeAhead(); got != c.wantBuf {
			t.Errorf("%s: type-ahead %q, want %q", c.name, got, c.wantBuf)
		}
	}
}

func TestCollectorDeadlines(t *testing.T) {
	t0 := time.Unix(100, 0)
	col := NewCollector(2)
	if _, ok := col.Deadline(); ok {
		t.Error("idle collector has a deadline")
	}
	col.Feed('1', t0)
	col.Feed('2', t0)
	col.Feed('3', t0) // dropped: buffer of 2
	if col.Dropped() != 1 || col.Drain() != "12" || col.TypeAhead() != "" {
		t.Errorf("type-ahead buffer: dropped %d", col.Dropped())
	}
	if err := col.Begin(CollectSpec{MaxLen: 3, FirstDigitTimeout: time.Second, InterDigitTimeout: 2 * time.Second}, t0); err != nil {
		t.Fatal(err)
	}
	if d, ok := col.Deadline(); !ok || !d.Equal(t0.Add(time.Second)) {
		t.Errorf("first deadline %v %v", d, ok)
	}
	col.Feed('5', t0.Add(500*time.Millisecond))
	if d, _ := col.Deadline(); !d.Equal(t0.Add(2500 * time.Millisecond)) {
		t.Errorf("inter-digit deadline %v", d)
	}
	if col.Entered() != "5" || !col.Active() {
		t.Errorf("entered %q", col.Entered())
	}
	col.Cancel()
	if r := col.Result(); r.Reason != ReasonCancelled || r.Digits != "5" || r.OK() {
		t.Errorf("cancel: %+v", r)
	}
	if _, ok := col.Deadline(); ok {
		t.Error("deadline after cancel")
	}
}

func TestCollectSpecValidate(t *testing.T) {
	for _, s := range []CollectSpec{
		{MinLen: -1, MaxLen: 3},
		{MinLen: 5, MaxLen: 3},
		{MaxLen: 3, Terminator: 'x'},
		{MaxLen: 3, FirstDigitTimeout: -1},
		{}, // could never finish
	} {
		if s.Validate() == nil {
			t.Errorf("%+v accepted", s)
		}
		if NewCollector(0).Begin(s, time.Now()) == nil {
			t.Errorf("Begin accepted %+v", s)
		}
	}
	if err := (CollectSpec{Terminator: '#'}).Validate(); err != nil {
		t.Error(err)
	}
}

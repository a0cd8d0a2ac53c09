package nlu

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func trainBank(t testing.TB) *Classifier {
	t.Helper()
	f, err := LoadFile("testdata/bank.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Train(f.Intents, Options{OutOfScope: f.OutOfScope})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClassifyFewShot(t *testing.T) {
	c := trainBank(t)
	tests := []struct {
		text, want string
	}{
		{"what is my balance", "check_balance"},
		{"how much cash have I got", "check_balance"}, // synonym
		{"chek my ballance", "check_balance"},         // misspelt by the recognizer
		{"much money do have", "check_balance"},       // missing words
		{"my card got stolen", "report_lost_card"},    // paraphrase
		{"I think I lost my debit card somewhere", "report_lost_card"},
		{"I'd like to pay my phone bill", "pay_bill"},
		{"can I talk to a real person", "talk_to_agent"},
		{"operator", "talk_to_agent"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			r := c.Classify(tt.text)
			if r.OutOfScope || r.Intent != tt.want {
				t.Errorf("Classify(%q) = %+v, want %s", tt.text, r, tt.want)
			}
			if r.Confidence <= 0 || r.Confidence > 1 || len(r.Alternatives) != 3 || r.Alternatives[0].Intent != r.Intent {
				t.Errorf("Classify(%q) = %+v: bad confidence or alternatives", tt.text, r)
			}
			for i := 1; i < len(r.Alternatives); i++ {
				if r.Alternatives[i].Confidence > r.Alternatives[i-1].Confidence {
					t.Errorf("alternatives not best first: %+v", r.Alternatives)
				}
			}
		})
	}
}

func TestClassifyOutOfScope(t *testing.T) {
	c := trainBank(t)
	for _, text := range []string{"what's the weather going to be", "tell me a funny joke", "play music by queen", "", "zzzz qqqq"} {
		r := c.Classify(text)
		if !r.OutOfScope || r.Intent != "" {
			t.Errorf("Classify(%q) = %+v, want out of scope", text, r)
		}
		if len(r.Alternatives) == 0 {
			t.Errorf("Classify(%q): no alternatives for a clarifying question", text)
		}
	}
}

func TestClassifyThresholds(t *testing.T) {
	intents := []Intent{
		{Name: "a", Examples: []string{"open the door", "unlock the door"}},
		{Name: "b", Examples: []string{"close the window", "shut the window"}},
	}
	c, err := Train(intents, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const text = "shut the door"
	r := c.Classify(text)
	if r.OutOfScope || r.Confidence >= 0.99 {
		t.Fatalf("Classify(%q) = %+v, want a moderate confidence", text, r)
	}
	best := r.Intent
	for i := range intents {
		if intents[i].Name == best {
			intents[i].Threshold = (r.Confidence + 1) / 2
		}
	}
	c2, err := Train(intents, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r2 := c2.Classify(text); !r2.OutOfScope {
		t.Errorf("intent threshold %v not applied: %+v", (r.Confidence+1)/2, r2)
	}
	c.SetThreshold((r.Confidence + 1) / 2)
	if r3 := c.Classify(text); !r3.OutOfScope {
		t.Errorf("classifier threshold not applied: %+v", r3)
	}
	c.SetThreshold(r.Confidence / 2)
	if r4 := c.Classify(text); r4.OutOfScope || r4.Intent != best {
		t.Errorf("lower threshold rejected: %+v", r4)
	}
}

func TestResultAmbiguous(t *testing.T) {
	r := Result{Alternatives: []Scored{{"a", 0.45}, {"b", 0.40}, {"c", 0.1}}}
	if !r.Ambiguous(0.1) || r.Ambiguous(0.01) {
		t.Error("Ambiguous margin not respected")
	}
	if (Result{Alternatives: []Scored{{"a", 0.5}}}).Ambiguous(1) {
		t.Error("one alternative cannot be ambiguous")
	}
}

func TestTrainErrors(t *testing.T) {
	if _, err := Train(nil, Options{}); err != ErrNoIntents {
		t.Errorf("err = %v", err)
	}
	if _, err := Train([]Intent{{Name: "a", Examples: []string{"x"}}, {Name: "a", Examples: []string{"y"}}}, Options{}); err == nil {
		t.Error("duplicate intent accepted")
	}
	if _, err := Train([]Intent{{Name: "a", Examples: []string{"!!"}}}, Options{}); err == nil {
		t.Error("intent without usable examples accepted")
	}
}

func TestClassifyConcurrent(t *testing.T) {
	c := trainBank(t)
	want := c.Classify("I lost my card")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				text := "I lost my card"
				if (g+i)%2 == 1 {
					text = "pay my bill now"
				}
				r := c.Classify(text)
				if text == "I lost my card" && (r.Intent != want.Intent || r.Confidence != want.Confidence) {
					t.Errorf("concurrent result %+v, want %+v", r, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestHWU64TenShot trains on the 10-shot HWU64 split (640 rows) and checks
// a floor on validation accuracy, so regressions in features or training
// show up in the fast test run.
func TestHWU64TenShot(t *testing.T) {
	train, err := ReadLineAligned("../../shared/data/intents/hwu64/train_10")
	if err != nil {
		t.Skip("HWU64 data not found:", err)
	}
	val, err := ReadLineAligned("../../shared/data/intents/hwu64/valid")
	if err != nil {
		t.Fatal(err)
	}
	intents, _ := IntentsFromExamples(train)
	c, err := Train(intents, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.SetThreshold(1e-9) // no out-of-scope rows here
	r := c.Evaluate(val, nil)
	t.Logf("HWU64 10-shot val accuracy %.4f (%d rows)", r.Accuracy, r.N)
	if r.Accuracy < 0.68 {
		t.Errorf("val accuracy %.4f below the 0.68 floor", r.Accuracy)
	}
}

func TestReadCSV(t *testing.T) {
	tests := []struct {
		name, src string
		want      []Example
		err       string
	}{
		{"header", "text,intent\nhello,greet\n", []Example{{"hello", "greet"}}, ""},
		{"no header", "hello,greet\n\"hi, there\",greet\n", []Example{{"hello", "greet"}, {"hi, there", "greet"}}, ""},
		{"quotes", "\"say \"\"hi\"\"\",greet\r\n", []Example{{`say "hi"`, "greet"}}, ""},
		{"header case", "Text,Intent\nx,oos\n", []Example{{"x", "oos"}}, ""},
		{"blank lines", "a,b\n\n\nc,d\n", []Example{{"a", "b"}, {"c", "d"}}, ""},
		{"three fields", "a,b\nc,d,e\n", nil, "line 2: want 2 fields"},
		{"empty intent", "a,\n", nil, "line 1: empty intent"},
		{"bad quote", "\"a,b\n", nil, "extraneous"},
		{"byte-order mark", "\ufefftext,intent\nhello,greet\n", []Example{{"hello", "greet"}}, ""},
		{"columns swapped", "intent,text\ngreet,hello\n", []Example{{"hello", "greet"}}, ""},
		{"extra column", "text,intent,source\nhello,greet,web\nbye,leave,\n", []Example{{"hello", "greet"}, {"bye", "leave"}}, ""},
		{"short row under header", "id,text,intent\n1,hello\n", nil, "line 2: want 3 fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadCSV(strings.NewReader(tt.src))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	var b strings.Builder
	rows := []Example{{"a, \"b\"", "x"}, {"c", "oos"}}
	if err := WriteCSV(&b, rows); err != nil {
		t.Fatal(err)
	}
	back, err := ReadCSV(strings.NewReader(b.String()))
	if err != nil || fmt.Sprint(back) != fmt.Sprint(rows) {
		t.Errorf("round trip: %v, %v", back, err)
	}
}

// FuzzReadCSV checks that no input makes the CSV reader panic and that
// rows it accepts have an intent.
func FuzzReadCSV(f *testing.F) {
	f.Add("text,intent\nhello,greet\n")
	f.Add("\"a,b\",c\n")
	f.Add("\"unterminated\n")
	f.Add("a,b,c\n")
	f.Fuzz(func(t *testing.T, src string) {
		rows, err := ReadCSV(strings.NewReader(src))
		if err != nil {
			return
		}
		for _, r := range rows {
			if r.Intent == "" {
				t.Fatalf("row without intent: %+v", r)
			}
		}
	})
}

// FuzzClassify checks that any utterance yields a well-formed result.
func FuzzClassify(f *testing.F) {
	c := trainBank(f)
	for _, s := range []string{"check my balance", "", " ", "\xff", "ÇA VA", strings.Repeat("card ", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := c.Classify(s)
		if r.Confidence < 0 || r.Confidence > 1 || r.OutOfScope == (r.Intent != "") || len(r.Alternatives) == 0 {
			t.Fatalf("Classify(%q) = %+v", s, r)
		}
	})
}

func BenchmarkClassify(b *testing.B) {
	c := trainBank(b)
	b.ReportAllocs()
	for b.Loop() {
		c.Classify("I think I lost my debit card somewhere")
	}
}

func BenchmarkTrainHWU64(b *testing.B) {
	train, err := ReadLineAligned("../../shared/data/intents/hwu64/train")
	if err != nil {
		b.Skip(err)
	}
	intents, _ := IntentsFromExamples(train)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Train(intents, Options{CalibrationFolds: -1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrainCLINC150 trains on CLINC150 train+oos_train (15 100 rows,
// 151 classes), the size the training-time target is set on.
func BenchmarkTrainCLINC150(b *testing.B) {
	s, err := ReadCLINC150("../../shared/data/intents/clinc150/data_full.json")
	if err != nil {
		b.Skip(err)
	}
	intents, oos := IntentsFromExamples(append(s["train"], s["oos_train"]...))
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		if _, err := Train(intents, Options{OutOfScope: oos, CalibrationFolds: -1}); err != nil {
			b.Fatal(err)
		}
	}
	// Process CPU time: on the shared machine wall time counts other
	// processes' turns too.
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

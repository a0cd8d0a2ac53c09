package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/telephony/sip"
)

// TestTrunkAPI: the trunk API's token rule, status listing and the
// refusals of POST /api/calls/outbound that need no network.
func TestTrunkAPI(t *testing.T) {
	cfg, err := config.Demo()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Trunks = map[string]*config.Trunk{
		"acme":   {Registrar: "127.0.0.1:5999", Username: "acme", Password: "pw", Expires: time.Minute},
		"ipauth": {Domain: "sip:127.0.0.1:5998"},
	}
	srv, err := sip.NewServer(sip.Config{Listeners: []sip.Listener{{Network: "udp", Addr: "127.0.0.1:0"}}},
		sip.HandlerFunc(func(context.Context, *sip.Call) {}))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	ts, err := startTrunks(context.Background(), cfg, srv, log)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close() // the registering trunk waits for listeners that never come
	token := "tok"
	mux := http.NewServeMux()
	ts.Mount(mux, func() string { return token })

	do := func(method, path, auth, body string) (int, string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	if code, _ := do("GET", "/api/trunks", "", ""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d", code)
	}
	if code, _ := do("GET", "/api/trunks", "wrong", ""); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", code)
	}
	code, body := do("GET", "/api/trunks", "tok", "")
	var st []sip.TrunkStatus
	if err := json.Unmarshal([]byte(body), &st); code != http.StatusOK || err != nil {
		t.Fatalf("status: %d %s", code, body)
	}
	if len(st) != 2 || st[0].Name != "acme" || !st[0].Registers || st[0].Registered || st[1].Name != "ipauth" || st[1].Registers {
		t.Errorf("status %+v", st)
	}
	if strings.Contains(body, `"pw"`) {
		t.Error("the password is in the status")
	}
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{"trunk":"nope","number":"1"}`, http.StatusNotFound},
		{`{"trunk":"acme"}`, http.StatusBadRequest},
		{`{"trunk":"acme","number":"1","colour":"blue"}`, http.StatusBadRequest},
		{`{"trunk":`, http.StatusBadRequest},
		{`{"trunk":"ipauth","number":"12<34>"}`, http.StatusBadRequest},
	} {
		if code, body := do("POST", "/api/calls/outbound", "tok", tc.body); code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.body, code, body, tc.want)
		}
	}
	token = ""
	if code, _ := do("POST", "/api/calls/outbound", "", `{"trunk":"acme","number":"1"}`); code != http.StatusForbidden {
		t.Errorf("without admin.token the API should be off: %d", code)
	}
}

func TestBeeps(t *testing.T) {
	c := beeps(8000)
	if c.Rate != 8000 || len(c.Samples) != 8000 {
		t.Fatalf("%d samples at %d Hz", len(c.Samples), c.Rate)
	}
	if c.Samples[3600] != 0 || c.Samples[101] == 0 || c.Samples[4801] == 0 {
		t.Error("tone and gap in the wrong places")
	}
}

// TestTrunkReload: a reload keeps an unchanged trunk running (same trunk,
// same registration), restarts a changed one, starts a new one and stops
// a removed one.
func TestTrunkReload(t *testing.T) {
	cfg, err := config.Demo()
	if err != nil {
		t.Fatal(err)
	}
	ka := 25 * time.Second
	cfg.Trunks = map[string]*config.Trunk{
		"acme":   {Registrar: "127.0.0.1:5999", Username: "acme", Password: "pw", Expires: time.Minute, KeepAlive: &ka},
		"ipauth": {Domain: "sip:127.0.0.1:5998"},
	}
	srv, err := sip.NewServer(sip.Config{Listeners: []sip.Listener{{Network: "udp", Addr: "127.0.0.1:0"}}},
		sip.HandlerFunc(func(context.Context, *sip.Call) {}))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := startTrunks(context.Background(), cfg, srv, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	acme, _ := ts.trunk("acme")
	ipauth, _ := ts.trunk("ipauth")

	nc := *cfg
	ka2 := 25 * time.Second // equal value, another pointer: unchanged
	nc.Trunks = map[string]*config.Trunk{
		"acme":   {Registrar: "127.0.0.1:5999", Username: "acme", Password: "pw", Expires: time.Minute, KeepAlive: &ka2},
		"ipauth": {Domain: "sip:127.0.0.1:5997"},
		"beta":   {Domain: "sip:127.0.0.1:5996"},
	}
	if err := ts.Reload(&nc); err != nil {
		t.Fatal(err)
	}
	if a, _ := ts.trunk("acme"); a != acme {
		t.Error("an unchanged trunk was restarted")
	}
	if i, _ := ts.trunk("ipauth"); i == nil || i == ipauth {
		t.Error("a changed trunk kept running with its old settings")
	}
	var names []string
	for _, st := range ts.Status() {
		names = append(names, st.Name)
	}
	if strings.Join(names, ",") != "acme,beta,ipauth" {
		t.Errorf("trunks after reload: %v", names)
	}
	delete(nc.Trunks, "acme")
	if err := ts.Reload(&nc); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.trunk("acme"); err == nil || len(ts.Status()) != 2 {
		t.Errorf("a removed trunk still runs: %v", ts.Status())
	}
	nc.Trunks["bad"] = &config.Trunk{Registrar: "127.0.0.1:5995"} // registers, no username
	if err := ts.Reload(&nc); err == nil || !strings.Contains(err.Error(), "trunks.bad") {
		t.Errorf("a trunk that cannot start: err %v", err)
	}
	if len(ts.Status()) != 2 {
		t.Errorf("the good trunks should keep running: %v", ts.Status())
	}
}

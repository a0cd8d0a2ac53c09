package admin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/models"
)

const line = `
prompts:
  items:
    hi: {text: Hello}
    flood: {text: Due to local flooding our office is closed.}
targets:
  human: {uri: "sip:agent@example.com"}
announcements:
  flood: {prompt: flood}
flow:
  start: main
  nodes:
    main: {type: hangup, prompt: hi}
`

func do(t *testing.T, h http.Handler, method, path, token, body string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

func TestAnnouncementsAPI(t *testing.T) {
	cfg, err := config.Parse([]byte(line), "line.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "announcements.json")
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a.SetConfig(cfg)
	token := "s3cret"
	h := Handler(a, func() string { return token })

	if code, _ := do(t, h, "GET", "/api/admin/announcements", "", ""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d", code)
	}
	if code, _ := do(t, h, "GET", "/api/admin/announcements", "wrong", ""); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", code)
	}
	if code, body := do(t, h, "PUT", "/api/admin/announcements/flood", token, `{"active": true}`); code != 200 || !strings.Contains(body, `"active":true`) {
		t.Errorf("switch on: %d %s", code, body)
	}
	if act := a.Active(); len(act) != 1 || act[0].Name != "flood" || act[0].Since == nil {
		t.Errorf("active %+v", act)
	}
	if code, body := do(t, h, "PUT", "/api/admin/announcements/snow", token, `{"active": true}`); code != 400 || !strings.Contains(body, "no text") {
		t.Errorf("unknown without text: %d %s", code, body)
	}
	if code, _ := do(t, h, "PUT", "/api/admin/announcements/snow", token, `{"text": "Snow: expect delays."}`); code != 200 {
		t.Errorf("ad hoc: %d", code)
	}
	if code, _ := do(t, h, "PUT", "/api/admin/announcements/bad%20name", token, `{}`); code != 400 {
		t.Errorf("bad name: %d", code)
	}
	if code, _ := do(t, h, "PUT", "/api/admin/announcements/flood", token, `{"colour": 1}`); code != 400 {
		t.Errorf("unknown field: %d", code)
	}
	// The state survives a restart.
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	b.SetConfig(cfg)
	if act := b.Active(); len(act) != 2 || act[1].Text != "Snow: expect delays." {
		t.Errorf("after restart %+v", act)
	}
	if code, _ := do(t, Handler(b, func() string { return token }), "DELETE", "/api/admin/announcements/flood", token, ""); code != 200 {
		t.Errorf("delete: %d", code)
	}
	code, body := do(t, Handler(b, func() string { return token }), "GET", "/api/admin/announcements", token, "")
	var list []models.Announcement
	if code != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list) != 2 || list[0].Active {
		t.Errorf("list %d %s", code, body)
	}
	// No token configured: the API is off.
	if code, _ := do(t, Handler(b, func() string { return "" }), "GET", "/api/admin/announcements", "", ""); code != http.StatusForbidden {
		t.Errorf("off: %d", code)
	}
}

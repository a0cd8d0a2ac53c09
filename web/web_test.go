package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h, err := Handler(Options{Title: "Super <Awesome> Company", Flow: "main"})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (*http.Response, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://ivr.test"+path, nil))
		res := rec.Result()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, body := get("/")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`<script src="/widget.js" data-flow="main"`,
		`Super &lt;Awesome&gt; Company`, // escaped
		`http://ivr.test/widget.js`,     // the embed line for other sites
		`<html lang="en">`,
		`name="viewport"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("demo page lacks %q", want)
		}
	}
	if res.Header.Get("Content-Security-Policy") == "" {
		t.Error("demo page without a CSP")
	}
	res, body = get("/widget.js")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(body, "insertDTMF") {
		t.Errorf("widget.js: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if res.Header.Get("Cross-Origin-Resource-Policy") != "cross-origin" {
		t.Error("widget.js cannot be loaded by isolated pages")
	}
	res, body = get("/widget.css")
	if res.StatusCode != 200 || !strings.Contains(body, ":focus-visible") {
		t.Errorf("widget.css: %d", res.StatusCode)
	}
	if res, _ = get("/nope"); res.StatusCode != 404 {
		t.Errorf("/nope: %d", res.StatusCode)
	}
}

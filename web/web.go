// Package web serves the browser side of WebRTC calls: the call widget
// (widget.js and widget.css, embedded in any page with one script tag) and
// a demo page at / with the widget on it.
package web

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"time"
)

//go:embed widget.js widget.css index.html
var files embed.FS

//go:embed agent.html agent.js agent.css
var agentFiles embed.FS

// Options describe the demo page.
type Options struct {
	// Title names the line on the demo page (the config's line name).
	Title string
	// Flow is the flow the demo page's widget calls (data-flow); "" is
	// the line's start.
	Flow string
}

// Handler serves GET / (the demo page), /widget.js and /widget.css.
// Mount it at the root of the HTTP server beside the signalling.
func Handler(o Options) (http.Handler, error) {
	if o.Title == "" {
		o.Title = "Our line"
	}
	page, err := template.ParseFS(files, "index.html")
	if err != nil {
		return nil, err
	}
	js, err := files.ReadFile("widget.js")
	if err != nil {
		return nil, err
	}
	css, err := files.ReadFile("widget.css")
	if err != nil {
		return nil, err
	}
	started := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		data := struct{ Title, Flow, Base string }{o.Title, o.Flow, scheme + "://" + r.Host}
		if err := page.Execute(&buf, data); err != nil {
			http.Error(w, "demo page: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; media-src 'self' blob: mediastream:; img-src 'self' data:")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Permissions-Policy", "microphone=(self)")
		w.Write(buf.Bytes())
	})
	static := func(name, ctype string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", ctype)
			h.Set("X-Content-Type-Options", "nosniff")
			// Pages on other origins load these; let pages that isolate
			// themselves (COEP) load them too.
			h.Set("Cross-Origin-Resource-Policy", "cross-origin")
			h.Set("Cache-Control", "public, max-age=300")
			http.ServeContent(w, r, name, started, bytes.NewReader(body))
		}
	}
	mux.HandleFunc("GET /widget.js", static("widget.js", "text/javascript; charset=utf-8", js))
	mux.HandleFunc("GET /widget.css", static("widget.css", "text/css; charset=utf-8", css))
	return mux, nil
}

// AgentPage serves the agent page (GET /agent, /agent.js, /agent.css):
// sign in, availability, the screen pop of the ringing call, answering
// in the browser. Its API is package agentdesk's, on the same origin.
func AgentPage() http.Handler {
	started := time.Now()
	mux := http.NewServeMux()
	serve := func(name, ctype string) http.HandlerFunc {
		body, _ := agentFiles.ReadFile(name) // embedded at build time: cannot fail
		return func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", ctype)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Cache-Control", "no-cache")
			if name == "agent.html" {
				h.Set("Content-Security-Policy", "default-src 'self'; media-src 'self' blob: mediastream:; "+
					"img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
				h.Set("X-Frame-Options", "DENY")
				h.Set("Referrer-Policy", "same-origin")
				h.Set("Permissions-Policy", "microphone=(self)")
			}
			http.ServeContent(w, r, name, started, bytes.NewReader(body))
		}
	}
	mux.HandleFunc("GET /agent", serve("agent.html", "text/html; charset=utf-8"))
	mux.HandleFunc("GET /agent.js", serve("agent.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /agent.css", serve("agent.css", "text/css; charset=utf-8"))
	return mux
}

// Package admin is the authenticated admin HTTP API of a running line:
// announcements (an emergency message) switched on and off without a
// restart. Requests carry "Authorization: Bearer <admin.token>"; without a
// configured token the API is off.
//
//	GET    /api/admin/announcements          the announcements and their state
//	PUT    /api/admin/announcements/{name}   {"active": true, "text": "optional words"}
//	DELETE /api/admin/announcements/{name}   switch it off
//
// A configured announcement plays its prompt (or the text given); a name
// the config does not know needs a text (an ad hoc message, synthesized).
// The state is kept in a JSON file in the data directory, so a restart
// keeps an emergency message on.
package admin

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openivr/ivr/config"
	"github.com/openivr/ivr/models"
)

// Announcements is the run-time state of announcements. It is safe for
// concurrent use and implements dialog.Announcer.
type Announcements struct {
	path string
	now  func() time.Time
	cfg  atomic.Pointer[config.Config]

	mu    sync.Mutex
	state map[string]models.Announcement // set at run time; overrides the config
}

// Open loads the state file (a missing file is an empty state).
func Open(path string) (*Announcements, error) {
	a := &Announcements{path: path, now: time.Now, state: map[string]models.Announcement{}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return a, nil
	case err != nil:
		return nil, err
	}
	var list []models.Announcement
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, x := range list {
		a.state[x.Name] = x
	}
	return a, nil
}

// SetConfig gives the config in force (on start and on reload).
func (a *Announcements) SetConfig(c *config.Config) { a.cfg.Store(c) }

// List returns every announcement: the configured ones and those set at
// run time, by name.
func (a *Announcements) List() []models.Announcement {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]models.Announcement{}
	if c := a.cfg.Load(); c != nil {
		for name, x := range c.Announcements {
			out[name] = models.Announcement{Name: name, Active: x.Active}
		}
	}
	for name, x := range a.state {
		out[name] = x
	}
	names := make([]string, 0, len(out))
	for n := range out {
		names = append(names, n)
	}
	sort.Strings(names)
	list := make([]models.Announcement, 0, len(names))
	for _, n := range names {
		list = append(list, out[n])
	}
	return list
}

// Active returns the announcements on now, by name.
func (a *Announcements) Active() []models.Announcement {
	var out []models.Announcement
	for _, x := range a.List() {
		if x.Active {
			out = append(out, x)
		}
	}
	return out
}

// ErrUnknown means an announcement the config lacks was switched on
// without a text to say.
var ErrUnknown = errors.New("admin: announcement is not configured and no text was given")

var validName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// maxText bounds an ad hoc message (about a minute of speech).
const maxText = 1000

// Set switches an announcement on or off, optionally with the text to
// say, and saves the state.
func (a *Announcements) Set(name string, active bool, text string) (models.Announcement, error) {
	if !validName.MatchString(name) {
		return models.Announcement{}, fmt.Errorf("admin: announcement name %q: letters, digits, . _ - only", name)
	}
	text = strings.TrimSpace(text)
	if len(text) > maxText {
		return models.Announcement{}, fmt.Errorf("admin: announcement text longer than %d characters", maxText)
	}
	known := false
	if c := a.cfg.Load(); c != nil {
		_, known = c.Announcements[name]
	}
	if active && !known && text == "" {
		return models.Announcement{}, ErrUnknown
	}
	x := models.Announcement{Name: name, Active: active, Text: text}
	if active {
		t := a.now().UTC()
		x.Since = &t
	}
	a.mu.Lock()
	a.state[name] = x
	err := a.saveLocked()
	a.mu.Unlock()
	return x, err
}

func (a *Announcements) saveLocked() error {
	list := make([]models.Announcement, 0, len(a.state))
	for _, x := range a.state {
		list = append(list, x)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(a.path), 0o755); err != nil {
		return err
	}
	tmp := a.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, a.path)
}

// Handler serves the admin API; token returns the bearer token in force
// ("" turns the API off).
func Handler(a *Announcements, token func() string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/admin/announcements", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, a.List())
	})
	set := func(w http.ResponseWriter, r *http.Request, active bool) {
		var body struct {
			Active *bool  `json:"active"`
			Text   string `json:"text"`
		}
		if r.Method == http.MethodPut {
			dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&body); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body: " + err.Error()})
				return
			}
			if body.Active != nil {
				active = *body.Active
			}
		}
		x, err := a.Set(r.PathValue("name"), active, body.Text)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, x)
	}
	mux.HandleFunc("PUT /api/admin/announcements/{name}", func(w http.ResponseWriter, r *http.Request) { set(w, r, true) })
	mux.HandleFunc("DELETE /api/admin/announcements/{name}", func(w http.ResponseWriter, r *http.Request) { set(w, r, false) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := token()
		if want == "" {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "the admin API is off: set admin.token (e.g. ${IVR_ADMIN_TOKEN})"})
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ivr admin"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "a valid bearer token is required"})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

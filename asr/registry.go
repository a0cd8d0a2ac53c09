package asr

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// Options configure an engine opened by name. Each engine reads the fields
// that apply to it and ignores the rest.
type Options struct {
	// ModelDir is the embedded engine's model directory; "" uses the
	// system default (Debian pocketsphinx-en-us).
	ModelDir string
	// Decoders caps how many utterances the embedded engine decodes at
	// once; 0 means the engine's default. Streams beyond it wait.
	Decoders int

	// BaseURL, APIKey and Model address an OpenAI-compatible server.
	BaseURL string
	APIKey  string
	Model   string
	// Language is an ISO-639-1 code passed to engines that take one.
	Language string
	// Timeout bounds one remote transcription; 0 means the engine default.
	Timeout time.Duration
}

// Factory opens an engine with opts.
type Factory func(opts Options) (Recognizer, error)

var (
	regMu    sync.RWMutex
	registry = map[string]Factory{}
)

// Register makes an engine available under name. Engines call it from
// init; registering a name twice replaces the earlier factory.
func Register(name string, f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	registry[name] = f
}

// Available lists the registered engine names in sorted order. In a build
// without cgo the embedded engine is absent, and the server reports that
// speech recognition is limited to remote engines.
func Available() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Open returns the engine registered as name, opened with opts.
func Open(name string, opts Options) (Recognizer, error) {
	regMu.RLock()
	f, ok := registry[name]
	regMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %q (available: %v)", ErrUnknownEngine, name, Available())
	}
	return f(opts)
}

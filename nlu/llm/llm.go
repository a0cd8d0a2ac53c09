// Package llm understands callers through a large language model behind an
// OpenAI-compatible chat completions API (OpenAI, vLLM, llama.cpp server,
// Ollama, LocalAI...). The model must pick one of the configured intents
// through a forced tool call whose JSON schema lists them; when it is slow,
// down, or answers outside the list, the local classifier decides.
package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/openivr/ivr/nlu"
	openai "github.com/sashabaranov/go-openai"
)

// Config configures the engine; it is embedded in the main config.
type Config struct {
	// BaseURL is the API root, e.g. "https://api.openai.com/v1" or
	// "http://localhost:8080/v1". Required.
	BaseURL string `yaml:"base_url"`
	// Model names the chat model. Required.
	Model string `yaml:"model"`
	// APIKey is sent as a bearer token; empty for servers without auth.
	APIKey string `yaml:"api_key,omitempty"`
	// Timeout bounds one request, after which the local classifier
	// answers. Default 2s.
	Timeout time.Duration `yaml:"timeout,omitempty"`
	// MaxExamples bounds the examples per intent shown to the model.
	// Default 3.
	MaxExamples int `yaml:"max_examples,omitempty"`
}

// DefaultTimeout is used when Config.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// OutOfScope is the choice the model makes when no intent fits.
const OutOfScope = "out_of_scope"

const toolName = "choose_intent"

// Fallback classifies locally; *nlu.Classifier satisfies it.
type Fallback interface {
	Classify(text string) nlu.Result
}

// Source says which engine produced an Understanding.
type Source string

// Sources of an Understanding.
const (
	SourceLLM   Source = "llm"
	SourceLocal Source = "local"
)

// Understanding is the engine's reading of one utterance.
type Understanding struct {
	nlu.Result
	// Entities are the values the model filled, by entity name; only
	// names the chosen intent declares are kept. Empty from the local
	// classifier.
	Entities map[string]string
	// Source is SourceLLM when the model's answer was used.
	Source Source
	// Err says why the model's answer was not used (timeout, HTTP error,
	// invalid answer); nil when it was.
	Err error
}

// Errors wrapped in Understanding.Err.
var (
	ErrInvalidAnswer = errors.New("llm: invalid answer")
	ErrNoFallback    = errors.New("llm: no local classifier")
)

// Engine asks the model and falls back to the local classifier. It is safe
// for concurrent use.
type Engine struct {
	client   *openai.Client
	cfg      Config
	fallback Fallback
	intents  map[string]*nlu.Intent
	system   string
	tool     openai.Tool
}

// New prepares an engine for the intents. fallback may be nil, in which
// case a failed request yields an out-of-scope result.
func New(cfg Config, intents []nlu.Intent, fallback Fallback) (*Engine, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("llm: base_url is required")
	}
	if cfg.Model == "" {
		return nil, errors.New("llm: model is required")
	}
	if len(intents) == 0 {
		return nil, nlu.ErrNoIntents
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxExamples <= 0 {
		cfg.MaxExamples = 3
	}
	oc := openai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	oc.HTTPClient = &http.Client{Timeout: cfg.Timeout}
	e := &Engine{client: openai.NewClientWithConfig(oc), cfg: cfg, fallback: fallback, intents: map[string]*nlu.Intent{}}
	for i := range intents {
		in := &intents[i]
		if err := in.Validate(); err != nil {
			return nil, err
		}
		if in.Name == OutOfScope {
			return nil, fmt.Errorf("llm: intent name %q is reserved", OutOfScope)
		}
		e.intents[in.Name] = in
	}
	e.system = systemPrompt(intents, cfg.MaxExamples)
	e.tool = openai.Tool{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
		Name:        toolName,
		Description: "Record which intent the caller's utterance expresses and the entity values it contains.",
		Parameters:  toolSchema(intents),
	}}
	return e, nil
}

// systemPrompt describes the task and the intents.
func systemPrompt(intents []nlu.Intent, maxExamples int) string {
	var b strings.Builder
	b.WriteString("You route phone calls. The caller's words come from a speech recognizer and may contain misheard or missing words. ")
	b.WriteString("Choose the one intent below that the caller means, or " + OutOfScope + " when none fits. ")
	b.WriteString("Give your confidence from 0 to 1, up to two other plausible intents, and the values of the intent's entities that the caller said. ")
	b.WriteString("Answer only by calling " + toolName + ".\n\nIntents:\n")
	for _, in := range intents {
		fmt.Fprintf(&b, "- %s", in.Name)
		if in.Description != "" {
			fmt.Fprintf(&b, ": %s", in.Description)
		}
		ex := in.Examples[:min(len(in.Examples), maxExamples)]
		if len(ex) > 0 {
			q := make([]string, len(ex))
			for i, e := range ex {
				q[i] = fmt.Sprintf("%q", e)
			}
			fmt.Fprintf(&b, " (e.g. %s)", strings.Join(q, ", "))
		}
		if len(in.Entities) > 0 {
			fmt.Fprintf(&b, " [entities: %s]", strings.Join(in.Entities, ", "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// toolSchema is the JSON schema of the tool's arguments: the intent is an
// enum of the configured names, so a schema-following model cannot invent
// one.
func toolSchema(intents []nlu.Intent) map[string]any {
	names := make([]string, 0, len(intents)+1)
	entities := map[string]any{}
	for _, in := range intents {
		names = append(names, in.Name)
		for _, en := range in.Entities {
			entities[en] = map[string]any{"type": "string"}
		}
	}
	names = append(names, OutOfScope)
	return map[string]any{
		"type": "object",
		"properties": map[string]any{
			"intent":       map[string]any{"type": "string", "enum": names},
			"confidence":   map[string]any{"type": "number", "minimum": 0, "maximum": 1},
			"alternatives": map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": names}, "maxItems": 2},
			"entities":     map[string]any{"type": "object", "properties": entities, "additionalProperties": false},
		},
		"required":             []string{"intent", "confidence"},
		"additionalProperties": false,
	}
}

// answer is the tool call's arguments.
type answer struct {
	Intent       string         `json:"intent"`
	Confidence   *float64       `json:"confidence"`
	Alternatives []string       `json:"alternatives"`
	Entities     map[string]any `json:"entities"`
}

// Understand asks the model what text means, within the configured
// timeout (and ctx), and falls back to the local classifier on any
// failure. The model gives no confidence for its alternatives, so theirs
// is 0.
func (e *Engine) Understand(ctx context.Context, text string) Understanding {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	u, err := e.ask(ctx, text)
	if err == nil {
		return u
	}
	return e.local(text, err)
}

func (e *Engine) local(text string, err error) Understanding {
	if e.fallback == nil {
		return Understanding{Result: nlu.Result{OutOfScope: true}, Source: SourceLocal, Err: errors.Join(err, ErrNoFallback)}
	}
	return Understanding{Result: e.fallback.Classify(text), Source: SourceLocal, Err: err}
}

func (e *Engine) ask(ctx context.Context, text string) (Understanding, error) {
	resp, err := e.client.CreateChatCompletion(ctx, openai.ChatCompletionRequest{
		Model: e.cfg.Model,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: e.system},
			{Role: openai.ChatMessageRoleUser, Content: text},
		},
		Tools:       []openai.Tool{e.tool},
		ToolChoice:  openai.ToolChoice{Type: openai.ToolTypeFunction, Function: openai.ToolFunction{Name: toolName}},
		Temperature: 0,
	})
	if err != nil {
		return Understanding{}, fmt.Errorf("llm: %w", err)
	}
	if len(resp.Choices) == 0 {
		return Understanding{}, fmt.Errorf("%w: no choices", ErrInvalidAnswer)
	}
	msg := resp.Choices[0].Message
	args := msg.Content // servers without tool support may answer in JSON
	for _, tc := range msg.ToolCalls {
		if tc.Function.Name == toolName {
			args = tc.Function.Arguments
			break
		}
	}
	return e.parse(args)
}

// parse checks the model's arguments against the intents.
func (e *Engine) parse(args string) (Understanding, error) {
	var a answer
	if err := json.Unmarshal([]byte(strings.TrimSpace(args)), &a); err != nil {
		return Understanding{}, fmt.Errorf("%w: %v", ErrInvalidAnswer, err)
	}
	conf := 1.0
	if a.Confidence != nil {
		conf = *a.Confidence
	}
	if math.IsNaN(conf) || conf < 0 || conf > 1 {
		return Understanding{}, fmt.Errorf("%w: confidence %v", ErrInvalidAnswer, conf)
	}
	u := Understanding{Source: SourceLLM, Result: nlu.Result{Confidence: conf}}
	if a.Intent == OutOfScope {
		u.OutOfScope = true
		return u, nil
	}
	in, ok := e.intents[a.Intent]
	if !ok {
		return Understanding{}, fmt.Errorf("%w: unknown intent %q", ErrInvalidAnswer, a.Intent)
	}
	if in.Threshold > 0 && conf < in.Threshold {
		u.OutOfScope = true
	} else {
		u.Intent = in.Name
	}
	u.Alternatives = []nlu.Scored{{Intent: in.Name, Confidence: conf}}
	for _, alt := range a.Alternatives {
		if _, ok := e.intents[alt]; ok && alt != in.Name && len(u.Alternatives) < 3 {
			u.Alternatives = append(u.Alternatives, nlu.Scored{Intent: alt})
		}
	}
	for _, name := range in.Entities {
		v, ok := a.Entities[name]
		if !ok || v == nil {
			continue
		}
		if u.Entities == nil {
			u.Entities = map[string]string{}
		}
		switch v := v.(type) {
		case string:
			if v != "" {
				u.Entities[name] = v
			}
		default:
			b, _ := json.Marshal(v)
			u.Entities[name] = string(b)
		}
	}
	return u, nil
}

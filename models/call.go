// Package models holds the domain types shared by the dialog, storage and
// the command line: what a call was and how it ended.
package models

import "time"

// EndReason classifies why a call ended. It is decided where the end
// happens (the caller hung up, a transfer completed, media stopped...).
type EndReason string

const (
	EndCallerHangup EndReason = "caller_hangup" // the caller sent BYE (or closed the browser)
	EndIVRHangup    EndReason = "ivr_hangup"    // the flow reached a hangup
	EndTransferred  EndReason = "transferred"   // handed to a human (REFER accepted or bridge ended)
	EndCancelled    EndReason = "cancelled"     // CANCEL before answer
	EndMediaTimeout EndReason = "media_timeout" // no RTP for the configured time
	EndRejected     EndReason = "rejected"      // refused before answer (no common codec, overload)
	EndError        EndReason = "error"         // an internal or network error
	EndShutdown     EndReason = "shutdown"      // the server stopped
	EndNoInput      EndReason = "no_input"      // the caller never answered the menus
	EndAgentHangup  EndReason = "agent_hangup"  // the agent hung up a bridged call
	EndVoicemail    EndReason = "voicemail"     // the caller left a voicemail and the flow ended
	// EndCallbackRequested: the caller asked a queue to call them back and left.
	EndCallbackRequested EndReason = "callback_requested"
)

// Transfer records a hand-off to a human.
type Transfer struct {
	Target  string    `json:"target"`           // name of the configured target
	URI     string    `json:"uri"`              // SIP URI dialled or referred to
	Method  string    `json:"method"`           // "refer" or "bridge"
	Outcome string    `json:"outcome"`          // "accepted", "answered", "refused", "failed", "no_answer"
	At      time.Time `json:"at"`               // when the transfer started
	Detail  string    `json:"detail,omitempty"` // SIP status or error text
}

// CallRecord is what the business sees of one call.
type CallRecord struct {
	CallID     string     `json:"call_id"`
	From       string     `json:"from"`
	To         string     `json:"to"`
	Channel    string     `json:"channel"` // "sip", "webrtc"
	StartedAt  time.Time  `json:"started_at"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
	EndedAt    *time.Time `json:"ended_at"`
	EndReason  EndReason  `json:"end_reason"`
	Path       []string   `json:"path"`   // node names in the order visited
	Digits     string     `json:"digits"` // every key the caller pressed, in order
	Transfer   *Transfer  `json:"transfer,omitempty"`
	// EscapeNode is the node where the caller used the escape hatch, if they did.
	EscapeNode string            `json:"escape_node,omitempty"`
	Vars       map[string]string `json:"vars,omitempty"` // collected data
	// Voicemail is the message the caller left, if any.
	Voicemail *Voicemail `json:"voicemail,omitempty"`
	// Callback is the callback the caller asked for, if any.
	Callback *Callback `json:"callback,omitempty"`
	// Queue is the call's time in a queue for an agent, if it queued.
	Queue *QueueStats `json:"queue,omitempty"`
	// Media summarises the audio of the call (nil when there was none).
	Media  *MediaStats `json:"media,omitempty"`
	Events []Event     `json:"events,omitempty"` // what happened, in order
}

// Event is one step of a call's story, for transcripts and analytics.
type Event struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"` // "node", "prompt", "dtmf", "no_input", "no_match", "escape", "transfer", ...
	Node string    `json:"node,omitempty"`
	Text string    `json:"text,omitempty"`
}

// MediaStats describe a call's audio, to spot one-way audio and bad lines.
type MediaStats struct {
	Codec      string `json:"codec"`
	PacketsIn  uint64 `json:"packets_in"`
	PacketsOut uint64 `json:"packets_out"`
	Lost       uint64 `json:"lost"`    // gaps concealed by the jitter buffer
	Late       uint64 `json:"late"`    // late or duplicate packets dropped
	Foreign    uint64 `json:"foreign"` // packets from other sources, ignored
	Malformed  uint64 `json:"malformed"`
	// InPeakDBFS is the loudest 20 ms of the caller's audio (RMS, dBFS);
	// -96 means silence throughout.
	InPeakDBFS float64 `json:"in_peak_dbfs"`
}

// Voicemail is a message a caller recorded.
type Voicemail struct {
	Node string    `json:"node"`
	File string    `json:"file"` // WAV file in the data directory ("" when nothing was recorded)
	At   time.Time `json:"at"`
	// Duration of the recording in milliseconds.
	DurationMS int64 `json:"duration_ms"`
	// Transcript is what the recognizer heard in the message, when it ran.
	Transcript string `json:"transcript,omitempty"`
	// Notified reports whether the notification webhook accepted it.
	Notified bool `json:"notified"`
}

// Callback is a caller's request to be called back.
type Callback struct {
	Node     string    `json:"node"`
	Number   string    `json:"number"`
	At       time.Time `json:"at"`
	Notified bool      `json:"notified"`
	// Queue is the queue whose agents call back (the node's queue:), when
	// the request took a place there; empty when only recorded.
	Queue string `json:"queue,omitempty"`
}

// Announcement is a message played at the start of calls while active,
// switched on and off at run time (an emergency notice).
type Announcement struct {
	Name string `json:"name"`
	// Text replaces the configured prompt when set.
	Text   string     `json:"text,omitempty"`
	Active bool       `json:"active"`
	Since  *time.Time `json:"since,omitempty"`
}

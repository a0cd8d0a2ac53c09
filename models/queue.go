package models

import "time"

// Queue outcomes: how a call's wait in a queue ended.
const (
	QueueAnswered   = "answered"  // an agent answered and was bridged
	QueueAbandoned  = "abandoned" // the caller hung up while waiting
	QueueCalledBack = "callback"  // the caller asked to be called back and left
	QueueTimeout    = "timeout"   // the queue's max_wait passed
	QueueEmpty      = "empty"     // no agent was signed in (leave_when_empty)
	QueueNoAnswer   = "no_answer" // a callback: the caller did not answer
	QueueFailed     = "failed"    // an internal error or shutdown
)

// QueueStats is a call's time in a queue, for the call record.
type QueueStats struct {
	Queue    string    `json:"queue"`
	JoinedAt time.Time `json:"joined_at"`
	// Position is the caller's place when they joined (1 = next).
	Position int `json:"position"`
	// WaitMS is how long the caller waited, until answered or gone.
	WaitMS  int64  `json:"wait_ms"`
	Outcome string `json:"outcome"`
	// Agent is who answered (agents.<name>).
	Agent string `json:"agent,omitempty"`
	// TalkMS is how long the caller spoke with the agent.
	TalkMS int64 `json:"talk_ms,omitempty"`
	// AgentHungUp is true when the agent ended the conversation.
	AgentHungUp bool `json:"agent_hung_up,omitempty"`
	// VIP is true when the caller was on the queue's VIP list.
	VIP bool `json:"vip,omitempty"`
	// LastAgent is the agent the caller spoke to last time, whom the
	// queue tried first.
	LastAgent string `json:"last_agent,omitempty"`
	// Announcements counts the position/wait announcements heard.
	Announcements int `json:"announcements,omitempty"`
	// Callback is the callback the caller asked for while waiting.
	Callback *QueueCallback `json:"callback,omitempty"`
	// CallbackOf is set on a callback call: the call that asked for it.
	CallbackOf string `json:"callback_of,omitempty"`
}

// Callback states.
const (
	CallbackPending   = "pending"   // waiting for its turn (kept across restarts)
	CallbackDialing   = "dialing"   // an agent is reserved and the caller is being called
	CallbackAnswered  = "answered"  // the caller answered and reached an agent
	CallbackFailed    = "failed"    // every attempt went unanswered
	CallbackCancelled = "cancelled" // withdrawn (by an administrator)
)

// QueueCallback is a caller's place in a queue, kept while the IVR is to
// call them back.
type QueueCallback struct {
	ID     string `json:"id"`
	Queue  string `json:"queue"`
	Number string `json:"number"`
	// CallID is the call that asked for the callback.
	CallID string `json:"call_id"`
	// JoinedAt is when the caller first joined the queue: the callback
	// keeps that place.
	JoinedAt    time.Time `json:"joined_at"`
	RequestedAt time.Time `json:"requested_at"`
	Priority    int       `json:"priority,omitempty"`
	Status      string    `json:"status"`
	Attempts    int       `json:"attempts"`
	// NextAttempt is the earliest time of the next attempt after one
	// went unanswered.
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
	// LastCallID is the latest outbound call placed for it.
	LastCallID string `json:"last_call_id,omitempty"`
	// Agent answered the callback.
	Agent     string    `json:"agent,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	// Pop is what the agent sees about the caller.
	Pop *ScreenPop `json:"pop,omitempty"`
}

// ScreenPop is what an agent sees about a call that rings them: who, what
// they said, the intent, the data collected (never secrets), the path.
type ScreenPop struct {
	CallID     string            `json:"call_id"`
	Caller     string            `json:"caller"` // the caller's number or name
	From       string            `json:"from"`
	Channel    string            `json:"channel"`
	StartedAt  time.Time         `json:"started_at"`
	Queue      string            `json:"queue,omitempty"`
	Intent     string            `json:"intent,omitempty"`
	Intents    []string          `json:"intents,omitempty"` // every intent recognized, in order
	Vars       map[string]string `json:"vars,omitempty"`
	Path       []string          `json:"path,omitempty"`
	Transcript []TranscriptLine  `json:"transcript,omitempty"`
	VIP        bool              `json:"vip,omitempty"`
	// Callback is true when the IVR called the caller back.
	Callback bool `json:"callback,omitempty"`
	// WaitedMS is how long the caller has waited in the queue.
	WaitedMS int64 `json:"waited_ms,omitempty"`
}

// TranscriptLine is one thing said on a call.
type TranscriptLine struct {
	Who  string    `json:"who"` // "ivr" or "caller"
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

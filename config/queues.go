package config

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// KindQueue is a node that puts the caller in a queue for an agent.
const KindQueue = "queue"

// Queue strategies: who rings when a caller reaches the head of a queue.
const (
	StrategyRingAll     = "ring_all"     // every free member at once; the first to answer wins
	StrategySequential  = "sequential"   // members in the listed order, always from the first
	StrategyRoundRobin  = "round_robin"  // members in order, starting after the last one rung
	StrategyLongestIdle = "longest_idle" // the member idle the longest
	StrategySkills      = "skills"       // members with the queue's skills, best level first, then longest idle
)

var strategies = []string{StrategyRingAll, StrategySequential, StrategyRoundRobin, StrategyLongestIdle, StrategySkills}

// DefaultMusicDir is where Debian's asterisk-moh-opsound-wav package puts
// its music on hold; queues play it when they name no music.
const DefaultMusicDir = "/usr/share/asterisk/moh"

// Agent is a person queues ring: on a SIP phone that registers to the
// IVR, at a static SIP URI, or in the agent web page.
type Agent struct {
	// Name is shown on the agent page and in records. Default: the key.
	Name string `yaml:"name"`
	// Password signs the agent in to the agent page and authenticates
	// their phone's REGISTER (digest).
	Password string `yaml:"password"`
	// SIPUser is the user name the phone registers with. Default: the
	// agent's key, when the agent has a password and no URI.
	SIPUser string `yaml:"sip_user"`
	// URI is a static SIP URI that rings the agent; such an agent is
	// signed in from the start.
	URI string `yaml:"uri"`
	// Skills and levels (1-10), for the skills strategy: {billing: 8}.
	Skills map[string]int `yaml:"skills"`
}

// Queue is where callers wait for the next free agent.
type Queue struct {
	// Strategy picks the agent: ring_all, sequential, round_robin,
	// longest_idle or skills. Default longest_idle.
	Strategy string `yaml:"strategy"`
	// Members are agent names; sequential and round_robin ring them in
	// this order. Default: every agent, by name.
	Members []string `yaml:"members"`
	// Skills are required levels for the skills strategy: members below
	// a level are not rung.
	Skills map[string]int `yaml:"skills"`
	// RingTimeout is how long one offer rings an agent. Default 20s.
	RingTimeout time.Duration `yaml:"ring_timeout"`
	// Retry is the pause before offering the caller again after nobody
	// answered. Default 2s.
	Retry time.Duration `yaml:"retry"`
	// WrapUp is how long an agent rests after a call before the next
	// one. Default 10s.
	WrapUp time.Duration `yaml:"wrap_up"`
	// MaxWait is how long a caller waits before the node's on_timeout
	// (voicemail...); without on_timeout a queue with callbacks offers
	// one then. Default 10m.
	MaxWait time.Duration `yaml:"max_wait"`
	// LeaveWhenEmpty sends callers to on_timeout at once when no member
	// is signed in, instead of waiting for one.
	LeaveWhenEmpty bool `yaml:"leave_when_empty"`
	// Music is WAV files or directories of them played while waiting.
	// Default: the asterisk-moh-opsound-wav music, else a soft tone.
	Music []string `yaml:"music"`
	// AnnounceEvery is the period of the position and wait
	// announcements; each plays at a natural break in the music.
	// Default 30s.
	AnnounceEvery time.Duration `yaml:"announce_every"`
	// AnnouncePosition and AnnounceWait switch the parts of the
	// announcement. Default true.
	AnnouncePosition *bool `yaml:"announce_position"`
	AnnounceWait     *bool `yaml:"announce_wait"`
	// Override names an announcement (announcements.<name>) that, while
	// switched on, plays to waiting callers at the next natural break.
	Override string `yaml:"override"`
	// HandleTime is the expected time an agent spends on a call, for the
	// estimated wait until the queue has measured its own. Default 3m.
	HandleTime time.Duration `yaml:"handle_time"`
	// VIP names a list (lists.<name>) of caller numbers that go ahead of
	// everyone else in the queue.
	VIP string `yaml:"vip"`
	// LastAgentWait is how long a returning caller waits for the agent
	// they spoke to last before any agent will do. Default 0 (off).
	LastAgentWait time.Duration `yaml:"last_agent_wait"`
	// Callback lets waiting callers hang up and keep their place.
	Callback *QueueCallback `yaml:"callback"`
}

// QueueCallback configures queue callbacks.
type QueueCallback struct {
	// Key asks for a callback while waiting. Default "1". Callers can
	// also say "call me back".
	Key string `yaml:"key"`
	// URI is where to call the caller back; {{number}} is their number.
	// Default sip:{{number}}@<trunk domain> with a trunk, else the
	// caller's own From URI.
	URI string `yaml:"uri"`
	// Trunk names the trunk (trunks.<name>) the callback is placed
	// through (registration and digest authentication).
	Trunk string `yaml:"trunk"`
	// Attempts is how many times the IVR tries to reach the caller.
	// Default 3.
	Attempts int `yaml:"attempts"`
	// RetryAfter is the pause between attempts. Default 2m.
	RetryAfter time.Duration `yaml:"retry_after"`
	// RingTimeout is how long the callback rings the caller. Default 30s.
	RingTimeout time.Duration `yaml:"ring_timeout"`
}

// DisplayName is the agent's name for people, given its key.
func (a *Agent) DisplayName(key string) string {
	if a.Name != "" {
		return a.Name
	}
	return key
}

// Bool is the value of an optional flag with a default.
func Bool(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// Musics lists the WAV files a queue plays, expanding directories, in
// name order. Missing defaults give an empty list (the player then
// plays a soft tone).
func (c *Config) Musics(q *Queue) []string {
	srcs := q.Music
	if len(srcs) == 0 {
		srcs = []string{DefaultMusicDir}
	}
	var out []string
	for _, s := range srcs {
		p := c.Resolve(s)
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		ents, _ := os.ReadDir(p)
		var names []string
		for _, e := range ents {
			if !e.IsDir() && strings.HasSuffix(strings.ToLower(e.Name()), ".wav") {
				names = append(names, p+"/"+e.Name())
			}
		}
		sort.Strings(names)
		out = append(out, names...)
	}
	return out
}

func (c *Config) queueDefaults() {
	for key, a := range c.Agents {
		if a != nil && a.SIPUser == "" && a.URI == "" && a.Password != "" {
			a.SIPUser = key
		}
	}
	for _, q := range c.Queues {
		if q == nil {
			continue
		}
		if q.Strategy == "" {
			q.Strategy = StrategyLongestIdle
		}
		if len(q.Members) == 0 {
			q.Members = sortedKeys(c.Agents)
		}
		def := func(d *time.Duration, v time.Duration) {
			if *d == 0 {
				*d = v
			}
		}
		def(&q.RingTimeout, 20*time.Second)
		def(&q.Retry, 2*time.Second)
		def(&q.WrapUp, 10*time.Second)
		def(&q.MaxWait, 10*time.Minute)
		def(&q.AnnounceEvery, 30*time.Second)
		def(&q.HandleTime, 3*time.Minute)
		if cb := q.Callback; cb != nil {
			if cb.Key == "" {
				cb.Key = "1"
			}
			if cb.Attempts == 0 {
				cb.Attempts = 3
			}
			def(&cb.RetryAfter, 2*time.Minute)
			def(&cb.RingTimeout, 30*time.Second)
		}
	}
}

func (c *Config) validateQueues(add addFunc) {
	sipUsers := map[string]string{}
	for _, key := range sortedKeys(c.Agents) {
		a := c.Agents[key]
		path := "agents." + key
		if a == nil {
			add(path, "agent %q is empty", key)
			continue
		}
		if a.URI == "" && a.SIPUser == "" && a.Password == "" {
			add(path, "agent %q has no way to be reached: give a uri, or a password (to sign in to the agent page or register a phone)", key)
		}
		if a.URI != "" && !strings.HasPrefix(a.URI, "sip:") && !strings.HasPrefix(a.URI, "sips:") {
			add(path+".uri", "agent %q: uri %q is not a sip: URI", key, a.URI)
		}
		if a.SIPUser != "" {
			if a.Password == "" {
				add(path+".password", "agent %q: a sip_user needs a password (phones register with digest authentication)", key)
			}
			if other, dup := sipUsers[a.SIPUser]; dup {
				add(path+".sip_user", "agent %q: sip_user %q is also agent %q's", key, a.SIPUser, other)
			}
			sipUsers[a.SIPUser] = key
		}
		for s, l := range a.Skills {
			if l < 1 || l > 10 {
				add(path+".skills."+s, "agent %q: skill %q level %d: want 1-10", key, s, l)
			}
		}
	}
	for _, key := range sortedKeys(c.Queues) {
		q := c.Queues[key]
		path := "queues." + key
		if q == nil {
			add(path, "queue %q is empty", key)
			continue
		}
		known := false
		for _, s := range strategies {
			known = known || q.Strategy == s
		}
		if !known {
			add(path+".strategy", "queue %q: strategy %q: want %s", key, q.Strategy, strings.Join(strategies, ", "))
		}
		if len(q.Members) == 0 {
			add(path+".members", "queue %q has no members (define agents)", key)
		}
		seen := map[string]bool{}
		for i, m := range q.Members {
			if _, ok := c.Agents[m]; !ok {
				add(fmt.Sprintf("%s.members[%d]", path, i), "queue %q: member %q is not an agent", key, m)
			}
			if seen[m] {
				add(fmt.Sprintf("%s.members[%d]", path, i), "queue %q: member %q is listed twice", key, m)
			}
			seen[m] = true
		}
		if q.Strategy == StrategySkills && len(q.Skills) == 0 {
			add(path+".skills", "queue %q: the skills strategy needs skills", key)
		}
		for _, f := range []struct {
			name string
			d    time.Duration
			min  time.Duration
		}{{"ring_timeout", q.RingTimeout, time.Second}, {"wrap_up", q.WrapUp, 0}, {"max_wait", q.MaxWait, time.Second},
			{"announce_every", q.AnnounceEvery, 5 * time.Second}, {"handle_time", q.HandleTime, time.Second}, {"retry", q.Retry, 0}} {
			if f.d < f.min {
				add(path+"."+f.name, "queue %q: %s %s is too short (at least %s)", key, f.name, f.d, f.min)
			}
		}
		if q.VIP != "" {
			if _, ok := c.Lists[q.VIP]; !ok {
				add(path+".vip", "queue %q: vip list %q is not in lists", key, q.VIP)
			}
		}
		if q.Override != "" {
			if _, ok := c.Announcements[q.Override]; !ok {
				add(path+".override", "queue %q: override %q is not in announcements", key, q.Override)
			}
		}
		for i, m := range q.Music {
			if _, err := os.Stat(c.Resolve(m)); err != nil {
				add(fmt.Sprintf("%s.music[%d]", path, i), "queue %q: music %q: %v", key, m, err)
			}
		}
		if cb := q.Callback; cb != nil {
			if !validKey(cb.Key) {
				add(path+".callback.key", "queue %q: callback key %q is not a keypad key", key, cb.Key)
			}
			if cb.Trunk != "" {
				if _, ok := c.Trunks[cb.Trunk]; !ok {
					add(path+".callback.trunk", "queue %q: trunk %q is not in trunks", key, cb.Trunk)
				}
			}
			if cb.URI != "" && !strings.Contains(cb.URI, "{{number}}") {
				add(path+".callback.uri", "queue %q: callback uri %q has no {{number}}", key, cb.URI)
			}
			if cb.Attempts < 1 || cb.Attempts > 10 {
				add(path+".callback.attempts", "queue %q: callback attempts must be 1-10", key)
			}
		}
	}
}

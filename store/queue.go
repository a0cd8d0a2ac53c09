package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/openivr/ivr/models"
)

const queueSchema = `
CREATE TABLE IF NOT EXISTS queue_callbacks (
	id         TEXT PRIMARY KEY,
	status     TEXT NOT NULL,
	joined_at  INTEGER NOT NULL,         -- unix nanoseconds: the caller's place
	callback   TEXT NOT NULL             -- the JSON of models.QueueCallback
);
CREATE INDEX IF NOT EXISTS queue_callbacks_status ON queue_callbacks(status, joined_at);
CREATE TABLE IF NOT EXISTS last_agents (
	caller TEXT PRIMARY KEY,
	agent  TEXT NOT NULL,
	at     INTEGER NOT NULL
);
`

// SaveCallback inserts or updates a queue callback.
func (s *Store) SaveCallback(ctx context.Context, cb *models.QueueCallback) error {
	b, err := json.Marshal(cb)
	if err != nil {
		return fmt.Errorf("store: encode callback %s: %w", cb.ID, err)
	}
	_, err = s.db.ExecContext(ctx,
		`INSERT INTO queue_callbacks(id, status, joined_at, callback) VALUES(?,?,?,?)
		 ON CONFLICT(id) DO UPDATE SET status=excluded.status, callback=excluded.callback`,
		cb.ID, cb.Status, cb.JoinedAt.UnixNano(), string(b))
	if err != nil {
		return fmt.Errorf("store: save callback %s: %w", cb.ID, err)
	}
	return nil
}

// PendingCallbacks returns the callbacks still to be placed (pending, or
// dialing when the process stopped), oldest place first.
func (s *Store) PendingCallbacks(ctx context.Context) ([]*models.QueueCallback, error) {
	return s.callbacks(ctx, `SELECT callback FROM queue_callbacks WHERE status IN (?, ?) ORDER BY joined_at, id`,
		models.CallbackPending, models.CallbackDialing)
}

// Callbacks returns every callback, newest place first.
func (s *Store) Callbacks(ctx context.Context) ([]*models.QueueCallback, error) {
	return s.callbacks(ctx, `SELECT callback FROM queue_callbacks ORDER BY joined_at DESC, id`)
}

func (s *Store) callbacks(ctx context.Context, q string, args ...any) ([]*models.QueueCallback, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: callbacks: %w", err)
	}
	defer rows.Close()
	out := []*models.QueueCallback{}
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("store: callbacks: %w", err)
		}
		var cb models.QueueCallback
		if err := json.Unmarshal([]byte(raw), &cb); err != nil {
			return nil, fmt.Errorf("store: callbacks: decode: %w", err)
		}
		out = append(out, &cb)
	}
	return out, rows.Err()
}

// NoteAgent remembers that caller last spoke with agent.
func (s *Store) NoteAgent(ctx context.Context, caller, agent string, at time.Time) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO last_agents(caller, agent, at) VALUES(?,?,?)
		 ON CONFLICT(caller) DO UPDATE SET agent=excluded.agent, at=excluded.at`, caller, agent, at.UnixNano())
	if err != nil {
		return fmt.Errorf("store: note agent: %w", err)
	}
	return nil
}

// LastAgent is the agent caller last spoke with, since then ("" if none).
func (s *Store) LastAgent(ctx context.Context, caller string, since time.Time) (string, error) {
	var agent string
	err := s.db.QueryRowContext(ctx, `SELECT agent FROM last_agents WHERE caller = ? AND at >= ?`, caller, since.UnixNano()).Scan(&agent)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: last agent: %w", err)
	}
	return agent, nil
}

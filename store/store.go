// Package store keeps call records in an embedded SQLite database (pure Go,
// modernc.org/sqlite): one file in the data directory, no server.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/openivr/ivr/models"
)

// ErrNotFound means no record has that call ID.
var ErrNotFound = errors.New("store: call not found")

// Store is the call record database. It is safe for concurrent use.
type Store struct {
	db *sql.DB
}

const schema = `
CREATE TABLE IF NOT EXISTS calls (
	call_id    TEXT PRIMARY KEY,
	started_at INTEGER NOT NULL,          -- unix nanoseconds, for ordering
	ended_at   INTEGER,                   -- NULL while the call is up
	channel    TEXT NOT NULL,
	end_reason TEXT NOT NULL DEFAULT '',
	record     TEXT NOT NULL              -- the JSON of models.CallRecord
);
CREATE INDEX IF NOT EXISTS calls_started ON calls(started_at);
`

// Open opens (creating when needed) calls.db in dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	path := filepath.Join(dir, "calls.db")
	// WAL lets `ivr calls` read while the server writes; busy_timeout
	// waits for a writer instead of failing.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // SQLite has one writer; serialise in the pool
	if _, err := db.Exec(schema + queueSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: init %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Save inserts or replaces a record (called when a call starts and ends).
func (s *Store) Save(ctx context.Context, r *models.CallRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("store: encode %s: %w", r.CallID, err)
	}
	var ended any
	if r.EndedAt != nil {
		ended = r.EndedAt.UnixNano()
	}
	_, err = s.db.ExecContext(ctx,
		`INSERT INTO calls(call_id, started_at, ended_at, channel, end_reason, record) VALUES(?,?,?,?,?,?)
		 ON CONFLICT(call_id) DO UPDATE SET ended_at=excluded.ended_at, end_reason=excluded.end_reason, record=excluded.record`,
		r.CallID, r.StartedAt.UnixNano(), ended, r.Channel, string(r.EndReason), string(b))
	if err != nil {
		return fmt.Errorf("store: save %s: %w", r.CallID, err)
	}
	return nil
}

// Get returns one record.
func (s *Store) Get(ctx context.Context, callID string) (*models.CallRecord, error) {
	var raw string
	err := s.db.QueryRowContext(ctx, `SELECT record FROM calls WHERE call_id = ?`, callID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: get %s: %w", callID, err)
	}
	var r models.CallRecord
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return nil, fmt.Errorf("store: decode %s: %w", callID, err)
	}
	return &r, nil
}

// Query selects records.
type Query struct {
	Limit int       // 0 means no limit
	Since time.Time // zero means from the beginning
}

// List returns records newest first.
func (s *Store) List(ctx context.Context, q Query) ([]*models.CallRecord, error) {
	sqlq := `SELECT record FROM calls WHERE started_at >= ? ORDER BY started_at DESC, call_id`
	args := []any{q.Since.UnixNano()}
	if q.Since.IsZero() {
		args[0] = int64(-1 << 62)
	}
	if q.Limit > 0 {
		sqlq += ` LIMIT ?`
		args = append(args, q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, sqlq, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list: %w", err)
	}
	defer rows.Close()
	out := []*models.CallRecord{}
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("store: list: %w", err)
		}
		var r models.CallRecord
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			return nil, fmt.Errorf("store: list: decode: %w", err)
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}

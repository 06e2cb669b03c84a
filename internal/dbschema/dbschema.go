// Package dbschema applies Linkage's versioned migrations to PostgreSQL. The server
// applies them at start; `linkage migrate` applies them explicitly. There is no
// automatic schema diffing in production paths: only reviewed SQL files run.
package dbschema

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/linkage/linkage/ent/migrate/migrations"
)

// lockKey is the advisory lock that serialises migrators: two processes starting on
// one database must not apply the same file twice.
const lockKey = 0x4c4b4d49 // "LKMI"

// Migration is one SQL file.
type Migration struct {
	Version  string // the file's numeric prefix
	Name     string // the file name
	SQL      string
	Checksum string
}

// Load returns the embedded migrations in version order.
func Load() ([]Migration, error) { return load(migrations.FS) }

func load(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("dbschema: read %s: %w", n, err)
		}
		v, _, ok := strings.Cut(n, "_")
		if !ok {
			return nil, fmt.Errorf("dbschema: migration %s has no version prefix", n)
		}
		sum := sha256.Sum256(b)
		out = append(out, Migration{Version: v, Name: n, SQL: string(b), Checksum: hex.EncodeToString(sum[:])})
	}
	return out, nil
}

// ErrChanged means a migration that was already applied differs from the embedded
// file: the database and this binary disagree about the schema's history.
var ErrChanged = errors.New("dbschema: applied migration was changed")

const createTable = `CREATE TABLE IF NOT EXISTS linkage_schema_migrations (
	version text PRIMARY KEY,
	name text NOT NULL,
	checksum text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// Apply applies every pending migration, each in its own transaction, and returns
// the names it applied.
func Apply(ctx context.Context, db *sql.DB) ([]string, error) {
	return apply(ctx, db, migrations.FS)
}

func apply(ctx context.Context, db *sql.DB, fsys fs.FS) ([]string, error) {
	all, err := load(fsys)
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("dbschema: connect: %w", err)
	}
	defer conn.Close()
	// A session-level lock on a dedicated connection, so it covers every transaction below.
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		return nil, fmt.Errorf("dbschema: lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockKey) //nolint:errcheck // the lock dies with the session anyway
	if _, err := conn.ExecContext(ctx, createTable); err != nil {
		return nil, fmt.Errorf("dbschema: create history table: %w", err)
	}
	applied, err := appliedSums(ctx, conn)
	if err != nil {
		return nil, err
	}
	var done []string
	for _, m := range all {
		if sum, ok := applied[m.Version]; ok {
			if sum != m.Checksum {
				return done, fmt.Errorf("%w: %s", ErrChanged, m.Name)
			}
			continue
		}
		if err := applyOne(ctx, conn, m); err != nil {
			return done, err
		}
		done = append(done, m.Name)
	}
	return done, nil
}

func applyOne(ctx context.Context, conn *sql.Conn, m Migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("dbschema: begin %s: %w", m.Name, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("dbschema: apply %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO linkage_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`,
		m.Version, m.Name, m.Checksum); err != nil {
		return fmt.Errorf("dbschema: record %s: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("dbschema: commit %s: %w", m.Name, err)
	}
	return nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func appliedSums(ctx context.Context, q querier) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT version, checksum FROM linkage_schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("dbschema: read history: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var v, s string
		if err := rows.Scan(&v, &s); err != nil {
			return nil, fmt.Errorf("dbschema: read history: %w", err)
		}
		out[v] = s
	}
	return out, rows.Err()
}

// Pending returns the names of migrations not yet applied. A database that was never
// migrated has every migration pending. /readyz uses it.
func Pending(ctx context.Context, db *sql.DB) ([]string, error) {
	all, err := Load()
	if err != nil {
		return nil, err
	}
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('linkage_schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, fmt.Errorf("dbschema: check history table: %w", err)
	}
	applied := map[string]string{}
	if exists {
		if applied, err = appliedSums(ctx, db); err != nil {
			return nil, err
		}
	}
	var out []string
	for _, m := range all {
		if sum, ok := applied[m.Version]; !ok {
			out = append(out, m.Name)
		} else if sum != m.Checksum {
			return nil, fmt.Errorf("%w: %s", ErrChanged, m.Name)
		}
	}
	return out, nil
}

// Package testdb gives every test its own real PostgreSQL database.
//
// The first test that asks starts one throwaway cluster for the whole test
// binary (internal/pgcluster in a temp dir, fsync off), or uses the server in
// TEST_DATABASE_URL when that is set (it needs CREATEDB; PostgreSQL 13+). A
// template database is prepared once with the migration hook given to
// SetMigrate, and each test gets a copy (CREATE DATABASE ... TEMPLATE), dropped
// when the test ends. Copying a template takes milliseconds, so tests may use
// t.Parallel freely and never see each other's rows.
//
// Wire it in each package's TestMain:
//
//	func TestMain(m *testing.M) {
//		testdb.SetMigrate(func(ctx context.Context, db *sql.DB) error { ... })
//		testdb.Main(m)
//	}
//
// Main stops the cluster and removes its directory after the tests. Should a
// test binary die without it, the kernel still stops the server (see
// pgcluster), and the next run removes the abandoned directory.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/linkage/linkage/internal/pgcluster"
)

// EnvURL names the variable with a connection string to an existing server to
// use instead of starting a cluster.
const EnvURL = "TEST_DATABASE_URL"

// MigrateFunc prepares the template database (schema, fixed seed data). It is
// called once per test binary, before the first test database is made.
type MigrateFunc func(ctx context.Context, db *sql.DB) error

const (
	setupTimeout = 3 * time.Minute // initdb on a loaded two-core machine, plus migrations
	opTimeout    = time.Minute     // one CREATE or DROP DATABASE
	tmpPrefix    = "linkage-testdb-"
)

// The harness is process-wide on purpose: one cluster per test binary is the
// point, and tests reach it only through New/URL, never through these names.
var (
	mu       sync.Mutex
	migrate  MigrateFunc
	started  bool // a database was asked for: the migration is fixed from now on
	once     sync.Once
	shared   *harness
	setupErr error
	seq      atomic.Int64
)

type harness struct {
	cluster  *pgcluster.Cluster // nil with TEST_DATABASE_URL
	tmpDir   string             // the cluster's temp dir, removed by Main
	base     string             // connection string from TEST_DATABASE_URL
	admin    *sql.DB            // maintenance connection (database "postgres" or the URL's)
	template string
	prefix   string // unique per test binary: names on a shared server never collide
}

// SetMigrate registers the hook that prepares the template database. Call it
// from TestMain before m.Run; calling it after the first test database was
// made panics, because earlier tests would have run on another schema.
func SetMigrate(fn MigrateFunc) {
	mu.Lock()
	defer mu.Unlock()
	if started {
		panic("testdb: SetMigrate called after the first test database was created")
	}
	migrate = fn
}

// Main runs the tests, then drops the template (on a shared server), stops the
// cluster and removes its directory, and exits with the tests' status.
func Main(m *testing.M) {
	code := m.Run()
	if err := shutdown(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// URL creates a fresh database for this test from the template and returns a
// lib/pq connection string for it. The database is dropped (its connections
// terminated) when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	h, err := get()
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	name := fmt.Sprintf("%s_%d_%s", h.prefix, seq.Add(1), slug(t.Name()))
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	q := fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", pq.QuoteIdentifier(name), pq.QuoteIdentifier(h.template))
	if _, err := h.admin.ExecContext(ctx, q); err != nil {
		t.Fatalf("testdb: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		// FORCE ends sessions a test leaked (a pool not closed, a stuck query).
		q := fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", pq.QuoteIdentifier(name))
		if _, err := h.admin.ExecContext(ctx, q); err != nil {
			t.Errorf("testdb: drop database %s: %v", name, err)
		}
	})
	return h.url(name)
}

// New is URL plus an open *sql.DB, closed before the database is dropped.
func New(t testing.TB) *sql.DB {
	t.Helper()
	u := URL(t)
	db, err := sql.Open("postgres", u)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() { db.Close() }) // registered after the drop, so it runs before it
	return db
}

func get() (*harness, error) {
	mu.Lock()
	started = true
	fn := migrate
	mu.Unlock()
	once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		shared, setupErr = setup(ctx, fn)
	})
	return shared, setupErr
}

func setup(ctx context.Context, fn MigrateFunc) (h *harness, err error) {
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		return nil, err
	}
	h = &harness{template: "linkage_template", prefix: "t" + hex.EncodeToString(r[:])}
	defer func() {
		if err != nil {
			_ = h.close()
		}
	}()

	if base := os.Getenv(EnvURL); base != "" {
		h.base = base
		// Several test binaries may share this server at once.
		h.template = "linkage_template_" + h.prefix
		if h.admin, err = sql.Open("postgres", base); err != nil {
			return h, fmt.Errorf("%s: %w", EnvURL, err)
		}
	} else {
		removeAbandoned()
		if h.tmpDir, err = os.MkdirTemp("", tmpPrefix); err != nil {
			return h, err
		}
		h.cluster, err = pgcluster.Start(ctx, pgcluster.Options{
			Dir:    filepath.Join(h.tmpDir, "pg"),
			NoSync: true,
			// Parallel tests across a binary each hold a pool; the default 100
			// is tight when every test opens a few connections.
			Settings: map[string]string{"max_connections": "200"},
		})
		if err != nil {
			return h, err
		}
		if h.admin, err = sql.Open("postgres", h.cluster.AdminURL("postgres")); err != nil {
			return h, err
		}
	}
	if err := h.admin.PingContext(ctx); err != nil {
		return h, fmt.Errorf("connect: %w", err)
	}
	tq := pq.QuoteIdentifier(h.template)
	if _, err := h.admin.ExecContext(ctx, "CREATE DATABASE "+tq); err != nil {
		return h, fmt.Errorf("template: %w", err)
	}
	if fn != nil {
		db, err := sql.Open("postgres", h.url(h.template))
		if err != nil {
			return h, fmt.Errorf("template: %w", err)
		}
		err = fn(ctx, db)
		// CREATE DATABASE ... TEMPLATE fails while anyone is connected to the
		// template, so the migration's pool must be gone before the first test.
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return h, fmt.Errorf("migrate template: %w", err)
		}
	}
	// No one may connect to it from now on (autovacuum included), which also
	// keeps a stray test from writing into every later copy.
	if _, err := h.admin.ExecContext(ctx, "ALTER DATABASE "+tq+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return h, fmt.Errorf("template: %w", err)
	}
	return h, nil
}

// url returns a connection string for database db on the harness's server.
func (h *harness) url(db string) string {
	if h.cluster != nil {
		return h.cluster.AdminURL(db)
	}
	if u, err := url.Parse(h.base); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + db
		u.RawPath = ""
		return u.String()
	}
	// key=value form: lib/pq lets a later key override an earlier one.
	return h.base + " dbname='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(db) + "'"
}

func (h *harness) close() error {
	var errs []error
	if h.admin != nil {
		if h.cluster == nil && h.base != "" {
			// A template database cannot be dropped until it is an ordinary one.
			ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
			tq := pq.QuoteIdentifier(h.template)
			_, err := h.admin.ExecContext(ctx, "ALTER DATABASE "+tq+" WITH IS_TEMPLATE false")
			if err == nil || strings.Contains(err.Error(), "does not exist") {
				_, err = h.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+tq+" WITH (FORCE)")
			}
			cancel()
			errs = append(errs, err)
		}
		errs = append(errs, h.admin.Close())
	}
	if h.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		errs = append(errs, h.cluster.Stop(ctx))
		cancel()
	}
	if h.tmpDir != "" {
		errs = append(errs, os.RemoveAll(h.tmpDir))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("testdb: shutdown: %w", err)
	}
	return nil
}

func shutdown() error {
	mu.Lock()
	defer mu.Unlock()
	if shared == nil {
		return nil
	}
	err := shared.close()
	shared = nil
	return err
}

// removeAbandoned deletes temp dirs of test binaries that died without Main
// (killed by go test's timeout, say). A dir is abandoned when nobody holds its
// cluster lock; young dirs are skipped because their binary may not have
// taken the lock yet.
func removeAbandoned() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tmpPrefix+"*"))
	for _, d := range dirs {
		st, err := os.Stat(d)
		if err != nil || time.Since(st.ModTime()) < time.Minute {
			continue
		}
		f, err := os.OpenFile(filepath.Join(d, "pg", "linkage.lock"), os.O_RDWR, 0)
		if err != nil {
			continue // not ours, or not yet started: leave it
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			_ = os.RemoveAll(d)
		}
		f.Close()
	}
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// slug makes a test name readable in pg_database within the 63-byte limit.
func slug(name string) string {
	s := strings.Trim(nonWord.ReplaceAllString(strings.ToLower(name), "_"), "_")
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

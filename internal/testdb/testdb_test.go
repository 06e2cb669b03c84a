package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"
)

var migrations atomic.Int32

func TestMain(m *testing.M) {
	SetMigrate(func(ctx context.Context, db *sql.DB) error {
		migrations.Add(1)
		_, err := db.ExecContext(ctx, `CREATE TABLE widgets (name text PRIMARY KEY);
			INSERT INTO widgets VALUES ('seed')`)
		return err
	})
	Main(m)
}

// guard turns a hang into a failure instead of waiting for go test's timeout.
func guard(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	timer := time.AfterFunc(d, func() { panic(fmt.Sprintf("%s: still running after %v", t.Name(), d)) })
	t.Cleanup(func() { timer.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), d-5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func names(t *testing.T, ctx context.Context, db *sql.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(ctx, "SELECT name FROM widgets ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Each test sees the migrated seed and its own writes, never another test's,
// whichever order the parallel subtests run in.
func TestIsolation(t *testing.T) {
	ctx := guard(t, 3*time.Minute)
	dbNames := make([]string, 2)
	t.Run("group", func(t *testing.T) {
		for i, mine := range []string{"a", "b"} {
			t.Run(mine, func(t *testing.T) {
				t.Parallel()
				db := New(t)
				if err := db.QueryRowContext(ctx, "SELECT current_database()").Scan(&dbNames[i]); err != nil {
					t.Fatal(err)
				}
				if _, err := db.ExecContext(ctx, "INSERT INTO widgets VALUES ($1)", mine); err != nil {
					t.Fatal(err)
				}
				// Give the other subtest time to write, so shared storage would show.
				time.Sleep(200 * time.Millisecond)
				got := names(t, ctx, db)
				if len(got) != 2 || got[0] != mine || got[1] != "seed" {
					t.Fatalf("rows %v, want [%s seed]", got, mine)
				}
			})
		}
	})
	if dbNames[0] == "" || dbNames[0] == dbNames[1] {
		t.Fatalf("databases %q: want two distinct ones", dbNames)
	}
	// Both are dropped once their tests are over.
	for _, n := range dbNames {
		var exists bool
		if err := shared.admin.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", n).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if exists {
			t.Errorf("database %s still exists after its test", n)
		}
	}
	if n := migrations.Load(); n != 1 {
		t.Errorf("migration ran %d times, want once per test binary", n)
	}
}

// A test that leaks an open connection does not block the drop.
func TestLeakedConnection(t *testing.T) {
	ctx := guard(t, 2*time.Minute)
	var name string
	t.Run("leak", func(t *testing.T) {
		db, err := sql.Open("postgres", URL(t))
		if err != nil {
			t.Fatal(err)
		}
		// Deliberately never closed.
		if err := db.QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
	})
	var exists bool
	if err := shared.admin.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil || exists {
		t.Fatalf("database %s with a leaked connection: exists=%v err=%v", name, exists, err)
	}
}

// The same harness against an existing server: run this package's isolation
// test in a child process pointed at our cluster through TEST_DATABASE_URL, in
// both connection string forms, and check it leaves nothing behind.
func TestExternalServer(t *testing.T) {
	if os.Getenv(EnvURL) != "" {
		t.Skip("already running against " + EnvURL)
	}
	ctx := guard(t, 4*time.Minute)
	URL(t) // makes sure our cluster runs
	c := shared.cluster
	forms := map[string]string{
		"keyvalue": c.AdminURL("postgres"),
		"url":      fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/postgres?sslmode=disable", password(t), c.Port()),
	}
	count := func() int {
		var n int
		if err := shared.admin.QueryRowContext(ctx, "SELECT count(*) FROM pg_database").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	for form, u := range forms {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^(TestIsolation|TestLeakedConnection)$", "-test.count=1")
		cmd.Env = append(os.Environ(), EnvURL+"="+u)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: child test run: %v\n%s", form, err, out)
		}
	}
	if after := count(); after != before {
		t.Fatalf("databases before %d, after the external runs %d: something was left behind", before, after)
	}
}

func password(t *testing.T) string {
	b, err := os.ReadFile(shared.cluster.Dir() + "/superuser.pw")
	if err != nil {
		t.Fatal(err)
	}
	return string(b[:len(b)-1])
}

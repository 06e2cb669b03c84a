package dbschema

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"
	"time"

	"github.com/linkage/linkage/internal/testdb"
)

// No migrate hook: these tests start from empty databases on purpose.
func TestMain(m *testing.M) { testdb.Main(m) }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func TestApplyIsIdempotentAndReady(t *testing.T) {
	db := testdb.New(t)
	c := ctx(t)
	pending, err := Pending(c, db)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := Load()
	if len(all) == 0 || len(pending) != len(all) {
		t.Fatalf("fresh database: pending %v, want all %d migrations", pending, len(all))
	}
	applied, err := Apply(c, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(all) {
		t.Fatalf("applied %v, want %d", applied, len(all))
	}
	again, err := Apply(c, db)
	if err != nil || len(again) != 0 {
		t.Fatalf("second apply: %v, %v; want nothing applied", again, err)
	}
	if pending, err = Pending(c, db); err != nil || len(pending) != 0 {
		t.Fatalf("after apply: pending %v, %v", pending, err)
	}
	var n int
	if err := db.QueryRowContext(c, `SELECT count(*) FROM servers`).Scan(&n); err != nil {
		t.Fatalf("servers table missing after migrations: %v", err)
	}
}

func TestChangedMigrationIsRefused(t *testing.T) {
	db := testdb.New(t)
	c := ctx(t)
	v1 := fstest.MapFS{"001_a.sql": {Data: []byte("CREATE TABLE a (x int);")}}
	if _, err := apply(c, db, v1); err != nil {
		t.Fatal(err)
	}
	edited := fstest.MapFS{"001_a.sql": {Data: []byte("CREATE TABLE a (x bigint);")}}
	if _, err := apply(c, db, edited); !errors.Is(err, ErrChanged) {
		t.Fatalf("edited applied migration: err = %v, want ErrChanged", err)
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	db := testdb.New(t)
	c := ctx(t)
	bad := fstest.MapFS{
		"001_ok.sql":  {Data: []byte("CREATE TABLE ok (x int);")},
		"002_bad.sql": {Data: []byte("CREATE TABLE half (x int); SELECT no_such_function();")},
	}
	applied, err := apply(c, db, bad)
	if err == nil {
		t.Fatal("broken migration applied without error")
	}
	if len(applied) != 1 || applied[0] != "001_ok.sql" {
		t.Fatalf("applied = %v, want only 001_ok.sql", applied)
	}
	var exists bool
	if err := db.QueryRowContext(c, `SELECT to_regclass('half') IS NOT NULL`).Scan(&exists); err != nil || exists {
		t.Fatalf("table of the failed migration exists=%v (err %v): the transaction did not roll back", exists, err)
	}
	// Fixing the file lets the next start go on from where it stopped.
	fixed := fstest.MapFS{"001_ok.sql": bad["001_ok.sql"], "002_bad.sql": {Data: []byte("CREATE TABLE half (x int);")}}
	if applied, err = apply(c, db, fixed); err != nil || len(applied) != 1 {
		t.Fatalf("after fix: applied %v, err %v", applied, err)
	}
}

func TestConcurrentApply(t *testing.T) {
	db := testdb.New(t)
	c := ctx(t)
	errs := make(chan error, 3)
	for range 3 {
		go func() { _, err := Apply(c, db); errs <- err }()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent apply: %v", err)
		}
	}
	var n int
	all, _ := Load()
	if err := db.QueryRowContext(c, `SELECT count(*) FROM linkage_schema_migrations`).Scan(&n); err != nil || n != len(all) {
		t.Fatalf("history has %d rows (err %v), want %d", n, err, len(all))
	}
}

package callstore

import (
	"testing"
	"time"

	"github.com/linkage/linkage/internal/testdb"
)

// TestDiscoveredFlag: queues and operators the collector creates from calls are marked
// discovered (suggestions for an admin); rows an admin made stay as they are, and
// trunks have no such flag.
func TestDiscoveredFlag(t *testing.T) {
	db := testdb.New(t)
	sid := newServer(t, db)
	if _, err := db.Exec(`INSERT INTO operators (server_id, number, tracked, discovered, created_at, updated_at) VALUES ($1, '1001', true, false, now(), now())`, sid); err != nil {
		t.Fatal(err)
	}
	write(t, db, New(db), sid, sampleCall("1700000000.1", time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)))
	if n := one(t, db, `SELECT count(*) FROM queues WHERE server_id = $1 AND number = 'support' AND discovered`, sid); n != 1 {
		t.Fatalf("discovered queue support: %d rows", n)
	}
	if n := one(t, db, `SELECT count(*) FROM operators WHERE server_id = $1 AND number = '1002' AND discovered`, sid); n != 1 {
		t.Fatalf("discovered operator 1002: %d rows", n)
	}
	if n := one(t, db, `SELECT count(*) FROM operators WHERE server_id = $1 AND number = '1001' AND NOT discovered`, sid); n != 1 {
		t.Fatalf("the admin's operator 1001 was marked discovered")
	}
}

package callstore

import (
	"strings"
	"testing"

	"github.com/linkage/linkage/internal/testdb"
)

// TestStatusOpenIntervalIndex guards the partial index on the open intervals: with a
// long history per operator, WriteStatus's read of the open intervals must not walk
// that history (it did through (operator_id, from), and the day's ingestion slowed
// down as the table grew).
func TestStatusOpenIntervalIndex(t *testing.T) {
	db := testdb.New(t)
	sid := newServer(t, db)
	for _, q := range []string{
		`INSERT INTO operators (server_id, number, name, created_at, updated_at)
			SELECT $1, 'op'||g, 'op'||g, now(), now() FROM generate_series(1, 200) g`,
		`INSERT INTO operator_status_changes (operator_id, status, queue, "from", "to")
			SELECT o.id, 'idle', 'q1', now() - (g||' s')::interval, now() - (g||' s')::interval + interval '1 s'
			FROM operators o, generate_series(1, 300) g WHERE o.server_id = $1`,
		`INSERT INTO operator_status_changes (operator_id, status, queue, "from")
			SELECT id, 'busy', 'q1', now() FROM operators WHERE server_id = $1`,
	} {
		if _, err := db.Exec(q, sid); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`ANALYZE operator_status_changes`); err != nil {
		t.Fatal(err)
	}
	// The statement WriteStatus runs, with 20 operators as in a batch.
	rows, err := db.Query(`EXPLAIN SELECT operator_id, COALESCE(queue, ''), status, COALESCE(reason, '') FROM operator_status_changes
		WHERE "to" IS NULL AND operator_id = ANY(ARRAY(SELECT id FROM operators WHERE server_id = $1 ORDER BY id LIMIT 20))`, sid)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if p := strings.Join(plan, "\n"); !strings.Contains(p, "operatorstatuschange_open") {
		t.Fatalf("the open intervals are not read through operatorstatuschange_open:\n%s", p)
	}
}

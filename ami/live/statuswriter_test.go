package live

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/linkage/linkage/ami/assemble"
	"github.com/linkage/linkage/internal/livetest"
	"github.com/linkage/linkage/internal/testdb"
)

// j1 through State into operator_status_changes: 1003's rows chain (each ends where
// the next starts), the last one is open, and pause with reason Lunch is stored.
func TestStatusWriterJ1(t *testing.T) {
	db, err := sql.Open("postgres", testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	livetest.CheckLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, q := range []string{
		`INSERT INTO servers (id, created_at, updated_at, name, ami_address, ami_username, ami_secret) VALUES (1, now(), now(), 'lab', 'x', 'x', 'x')`,
		`INSERT INTO operators (id, created_at, updated_at, number, interface, server_id) VALUES (11, now(), now(), '1001', 'PJSIP/1001', 1), (12, now(), now(), '1002', 'PJSIP/1002', 1), (13, now(), now(), '1003', 'PJSIP/1003', 1)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	w := NewStatusWriter(db, StatusWriterOptions{})
	w.Start()
	st := NewState(Options{Directory: labDirectory(), OnStatus: w.Record})
	a := assemble.New(labConfig())
	evs := loadCapture(t, "j1")
	for i := range evs {
		st.Apply(1, &evs[i], a.Feed(&evs[i]))
	}
	w.Stop()
	w.Stop()
	rows, err := db.QueryContext(ctx, `SELECT status, coalesce(reason, ''), "from", "to" FROM operator_status_changes WHERE operator_id = 13 ORDER BY "from", id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var seq []string
	var prevTo *time.Time
	n := 0
	for rows.Next() {
		var status, reason string
		var from time.Time
		var to *time.Time
		if err := rows.Scan(&status, &reason, &from, &to); err != nil {
			t.Fatal(err)
		}
		if n > 0 && (prevTo == nil || !prevTo.Equal(from)) {
			t.Errorf("row %d (%s from %v) does not start where the previous ended (%v)", n, status, from, prevTo)
		}
		seq = append(seq, status+":"+reason)
		prevTo = to
		n++
	}
	if prevTo != nil {
		t.Errorf("the last row is closed (%v); it should be open", prevTo)
	}
	if !containsStr(seq, []string{"available:", "paused:Lunch", "available:", "loggedout:"}) {
		t.Errorf("1003 rows %v", seq)
	}
}

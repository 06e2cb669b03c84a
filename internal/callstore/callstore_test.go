package callstore

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/linkage/linkage/ami/assemble"
	"github.com/linkage/linkage/internal/dbschema"
	"github.com/linkage/linkage/internal/testdb"
)

func TestMain(m *testing.M) {
	testdb.SetMigrate(func(ctx context.Context, db *sql.DB) error { _, err := dbschema.Apply(ctx, db); return err })
	testdb.Main(m)
}

func newServer(t *testing.T, db *sql.DB) int {
	t.Helper()
	var id int
	if err := db.QueryRow(`INSERT INTO servers (name, ami_address, ami_username, ami_secret, created_at, updated_at)
		VALUES ('s', '127.0.0.1:5038', 'u', 'p', now(), now()) RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func write(t *testing.T, db *sql.DB, s *Store, serverID int, calls ...*assemble.Call) int {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	n, err := s.Write(context.Background(), tx, serverID, calls)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return n
}

func one(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func sampleCall(lid string, t0 time.Time) *assemble.Call {
	ans := t0.Add(8 * time.Second)
	op := assemble.Party{Number: "1002", Name: "Agent Two", Device: "PJSIP/1002"}
	return &assemble.Call{
		Linkedid: lid, Linkedids: []string{lid}, Start: t0, Answered: &ans, End: t0.Add(48 * time.Second),
		Type: assemble.Inbound, Status: assemble.StatusAnswered, Caller: assemble.Party{Number: "0612345678"}, Dialed: "5551000",
		Callee: op, AnsweredBy: &op, Queues: []string{"support"}, Operators: []assemble.Party{op},
		MissedByOperators: []assemble.Party{{Number: "1001", Device: "PJSIP/1001"}}, HangupBy: "caller",
		WaitSeconds: 8, TalkSeconds: 40, HoldSeconds: 5, TalkWithoutHoldSeconds: 35,
		Legs: []assemble.Leg{{Party: op, Queue: "support", RingStart: t0.Add(2 * time.Second), Answered: ans, End: t0.Add(48 * time.Second),
			WaitSeconds: 6, TalkSeconds: 40, HoldSeconds: 5, TalkWithoutHoldSeconds: 35, TransferredTo: &assemble.Party{Number: "2000"}}},
		Visits: []assemble.QueueVisit{{Queue: "support", Join: t0.Add(time.Second), Leave: ans, Position: 1, Result: "answered", WaitSeconds: 7},
			{Queue: "support", Join: t0, Result: "withdrawn"}},
		Attempts: []assemble.QueueAttempt{{Queue: "support", Operator: assemble.Party{Number: "1001"}, Interface: "PJSIP/1001", RingStart: t0.Add(2 * time.Second),
			RingEnd: ans, Result: "noanswer", RingSeconds: 6}, {Queue: "support", Operator: op, Interface: "PJSIP/1002", RingStart: t0.Add(2 * time.Second),
			RingEnd: ans, Result: "answered", RingSeconds: 6}},
		Transfers: []assemble.Transfer{{Type: "blind", By: op, To: assemble.Party{Number: "2000"}, Answered: true}},
		Custom:    map[string]string{"CRM_ID": `x"1\`},
	}
}

func TestWriteIdempotentWithDiscovery(t *testing.T) {
	db := testdb.New(t)
	sid := newServer(t, db)
	s := New(db)
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	c := sampleCall("1795700000.1", t0)
	if n := write(t, db, s, sid, c, c); n != 1 {
		t.Fatalf("new calls: %d", n)
	}
	if n := write(t, db, s, sid, c); n != 0 {
		t.Fatalf("second write: %d new", n)
	}
	// A new store (a restarted process) finds the discovered rows instead of duplicating them.
	if n := write(t, db, New(db), sid, sampleCall("1795700000.9", t0)); n != 1 {
		t.Fatalf("other call: %d", n)
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM calls`:                                  2,
		`SELECT count(*) FROM call_legs`:                              2,
		`SELECT count(*) FROM queue_visits`:                           4,
		`SELECT count(*) FROM queue_visits WHERE result = 'unknown'`:  2,
		`SELECT count(*) FROM queue_attempts`:                         4,
		`SELECT count(*) FROM queues`:                                 1,
		`SELECT count(*) FROM operators`:                              2,
		`SELECT count(*) FROM trunks WHERE number = '5551000'`:        1,
		`SELECT count(*) FROM calls WHERE answered_by_id IS NOT NULL`: 2,
		`SELECT count(*) FROM calls WHERE trunk_id IS NOT NULL`:       2,
		`SELECT count(*) FROM calls WHERE transferred AND transfers->0->>'to' = '2000' AND custom->>'CRM_ID' = 'x"1\'`:      2,
		`SELECT count(*) FROM call_legs WHERE operator_id IS NOT NULL AND queue_id IS NOT NULL AND transfer_type = 'blind'`: 2,
		`SELECT count(*) FROM queue_visits WHERE answered_by_id IS NOT NULL`:                                                2,
		`SELECT count(*) FROM calls WHERE missed_by_operators->>0 = '1001' AND queues->>0 = 'support'`:                      2,
	} {
		if got := one(t, db, q); got != want {
			t.Errorf("%s: %d, want %d", q, got, want)
		}
	}
}

func TestWriteStatusIntervals(t *testing.T) {
	db := testdb.New(t)
	sid := newServer(t, db)
	s := New(db)
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	note := func(sec int, paused bool, reason string, status int) assemble.Notification {
		return assemble.Notification{Kind: assemble.OperatorStatus, Time: t0.Add(time.Duration(sec) * time.Second), Queue: "support",
			Interface: "Local/1003@agents/n", Status: status, Paused: paused, Reason: reason}
	}
	tx, _ := db.Begin()
	err := s.WriteStatus(context.Background(), tx, sid, []assemble.Notification{
		note(0, false, "", 1), note(5, false, "", 1), note(10, true, "Lunch", 1), note(70, false, "", 1), note(80, false, "", 2),
		{Kind: assemble.Ringing},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := one(t, db, `SELECT count(*) FROM operator_status_changes`); n != 4 {
		t.Fatalf("intervals: %d, want 4 (a repeat is not a change)", n)
	}
	if n := one(t, db, `SELECT count(*) FROM operator_status_changes WHERE "to" IS NULL AND status = 'busy'`); n != 1 {
		t.Fatalf("open intervals: %d", n)
	}
	if n := one(t, db, `SELECT extract(epoch FROM "to" - "from")::int FROM operator_status_changes WHERE status = 'paused' AND reason = 'Lunch'`); n != 60 {
		t.Fatalf("lunch: %d s", n)
	}
	if n := one(t, db, `SELECT count(*) FROM operators WHERE number = '1003'`); n != 1 {
		t.Fatal("operator 1003 not discovered from its interface")
	}
}

// A caller that is an operator gets caller_operator_id; outside callers, looked up
// once per batch, get NULL and are remembered as not operators until Forget.
func TestCallerOperator(t *testing.T) {
	db := testdb.New(t)
	sid := newServer(t, db)
	s := New(db)
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	write(t, db, s, sid, sampleCall("op-first", t0)) // discovers operators 1001 and 1002
	var op1002 int
	if err := db.QueryRow(`SELECT id FROM operators WHERE server_id = $1 AND number = '1002'`, sid).Scan(&op1002); err != nil {
		t.Fatal(err)
	}
	fromOp := sampleCall("from-op", t0.Add(time.Minute))
	fromOp.Type, fromOp.Caller = assemble.Internal, assemble.Party{Number: "1002"}
	outside1, outside2 := sampleCall("outside-1", t0.Add(2*time.Minute)), sampleCall("outside-2", t0.Add(3*time.Minute))
	outside2.Caller.Number = "0699999999"
	fresh := New(db) // nothing cached: the batch asks PostgreSQL
	write(t, db, fresh, sid, fromOp, outside1, outside2)
	callerOp := func(lid string) sql.NullInt64 {
		var id sql.NullInt64
		if err := db.QueryRow(`SELECT caller_operator_id FROM calls WHERE server_id = $1 AND linkedid = $2`, sid, lid).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	if got := callerOp("from-op"); !got.Valid || got.Int64 != int64(op1002) {
		t.Fatalf("call from operator 1002: caller_operator_id %v, want %d", got, op1002)
	}
	if got := callerOp("outside-1"); got.Valid {
		t.Fatalf("outside caller: caller_operator_id %v", got)
	}
	// 0699999999 becomes an operator: the store remembers it was not one, until Forget.
	if _, err := db.Exec(`INSERT INTO operators (server_id, number, created_at, updated_at) VALUES ($1, '0699999999', now(), now())`, sid); err != nil {
		t.Fatal(err)
	}
	again := sampleCall("outside-3", t0.Add(4*time.Minute))
	again.Caller.Number = "0699999999"
	write(t, db, fresh, sid, again)
	if got := callerOp("outside-3"); got.Valid {
		t.Fatalf("cached non-operator: caller_operator_id %v", got)
	}
	fresh.Forget(sid)
	again = sampleCall("outside-4", t0.Add(5*time.Minute))
	again.Caller.Number = "0699999999"
	write(t, db, fresh, sid, again)
	if got := callerOp("outside-4"); !got.Valid {
		t.Fatal("after Forget the new operator is not found")
	}
}

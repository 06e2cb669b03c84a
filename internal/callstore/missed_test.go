package callstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/linkage/linkage/ami/assemble"
	"github.com/linkage/linkage/internal/testdb"
)

func missedCall(lid, number, reason string, t0 time.Time, queues ...string) *assemble.Call {
	c := &assemble.Call{Linkedid: lid, Linkedids: []string{lid}, Start: t0, End: t0.Add(30 * time.Second),
		Type: assemble.Inbound, Status: assemble.StatusMissed, MissedReason: reason, Caller: assemble.Party{Number: number},
		Dialed: "5551000", HangupBy: "caller", WaitSeconds: 25, Queues: queues}
	for i, q := range queues {
		j := t0.Add(time.Duration(i*10) * time.Second)
		c.Visits = append(c.Visits, assemble.QueueVisit{Queue: q, Join: j, Leave: j.Add(10 * time.Second), Result: reason, WaitSeconds: 10})
	}
	return c
}

// TestMissedCalls: missed inbound queue calls become missed calls of their last
// queue, exactly once; a callback (by its variable, or any answered outbound call to
// the number) and the customer's answered next call handle them; other calls don't.
func TestMissedCalls(t *testing.T) {
	db := testdb.New(t)
	sid := newServer(t, db)
	s := New(db)
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var uid int
	if err := db.QueryRow(`INSERT INTO users (login, created_at, updated_at) VALUES ('op', now(), now()) RETURNING id`).Scan(&uid); err != nil {
		t.Fatal(err)
	}

	a := missedCall("1.1", "0611000001", "abandoned", t0, "sales", "support") // last queue: support
	b := missedCall("1.2", "0611000002", "timeout", t0, "support")
	noQueue := missedCall("1.3", "0611000003", "cancelled", t0)
	internal := missedCall("1.4", "1005", "noanswer", t0, "support")
	internal.Type = assemble.Internal
	anon := missedCall("1.5", "", "abandoned", t0, "support")
	c := missedCall("1.6", "0611000006", "abandoned", t0, "support")
	write(t, db, s, sid, a, b, noQueue, internal, anon, c)
	write(t, db, s, sid, a, b) // a replay
	if n := one(t, db, `SELECT count(*) FROM missed_calls`); n != 3 {
		t.Fatalf("missed calls: %d, want 3 (a, b, c)", n)
	}
	if n := one(t, db, `SELECT count(*) FROM missed_calls m JOIN queues q ON q.id = m.queue_id
		WHERE m.caller_number = '0611000001' AND q.number = 'support' AND m.reason = 'abandoned' AND m.state = 'unhandled' AND m.wait_seconds = 25`); n != 1 {
		t.Fatal("a's missed call is not of its last queue")
	}

	// a calls again and is answered; an answered call from someone else changes nothing.
	again := sampleCall("2.1", t0.Add(time.Hour))
	again.Caller.Number = "0611000001"
	other := sampleCall("2.2", t0.Add(time.Hour))
	// b is called back by hand: an outbound call to 0 + the number.
	op := assemble.Party{Number: "1002", Device: "PJSIP/1002"}
	ans := t0.Add(time.Hour + 5*time.Second)
	out := &assemble.Call{Linkedid: "2.3", Linkedids: []string{"2.3"}, Start: t0.Add(time.Hour), Answered: &ans, End: t0.Add(time.Hour + time.Minute),
		Type: assemble.Outbound, Status: assemble.StatusAnswered, Caller: op, Dialed: "00611000002", Callee: assemble.Party{Number: "00611000002"}, HangupBy: "caller"}
	// c's callback (the workplace's variable) is answered, placed from an internal phone.
	cb := &assemble.Call{Linkedid: "2.4", Linkedids: []string{"2.4"}, Start: t0.Add(time.Hour), Answered: &ans, End: t0.Add(time.Hour + time.Minute),
		Type: assemble.Outbound, Status: assemble.StatusAnswered, Caller: op, Dialed: "9999", HangupBy: "caller"}
	var cID int
	if err := db.QueryRow(`SELECT id FROM missed_calls WHERE caller_number = '0611000006'`).Scan(&cID); err != nil {
		t.Fatal(err)
	}
	cb.Custom = map[string]string{assemble.VarCallback: itoa(cID), assemble.VarCallbackBy: itoa(uid)}
	// A garbled variable (set by someone's dialplan) must not fail the batch.
	garbled := sampleCall("2.5", t0.Add(time.Hour))
	garbled.Custom = map[string]string{assemble.VarCallback: "12; DROP", assemble.VarCallbackBy: "x"}
	write(t, db, s, sid, again, other, out, cb, garbled)
	for q, want := range map[string]int{
		`SELECT count(*) FROM missed_calls m JOIN calls c ON c.id = m.handled_call_id
			WHERE m.caller_number = '0611000001' AND m.state = 'handled' AND m.handled_how = 'called_again' AND c.linkedid = '2.1'`: 1,
		`SELECT count(*) FROM missed_calls m JOIN calls c ON c.id = m.handled_call_id
			WHERE m.caller_number = '0611000002' AND m.state = 'handled' AND m.handled_how = 'callback' AND c.linkedid = '2.3'`: 1,
		`SELECT count(*) FROM missed_calls m JOIN calls c ON c.id = m.handled_call_id
			WHERE m.caller_number = '0611000006' AND m.handled_how = 'callback' AND c.linkedid = '2.4' AND m.handled_by_id = ` + itoa(uid): 1,
		`SELECT count(*) FROM missed_calls WHERE state = 'unhandled'`: 0,
	} {
		if got := one(t, db, q); got != want {
			t.Errorf("%s: %d, want %d", q, got, want)
		}
	}

	// A missed call after the answered one stays unhandled.
	late := missedCall("3.1", "0611000001", "abandoned", t0.Add(2*time.Hour), "support")
	write(t, db, s, sid, late)
	if n := one(t, db, `SELECT count(*) FROM missed_calls WHERE state = 'unhandled' AND caller_number = '0611000001'`); n != 1 {
		t.Fatalf("the later missed call: %d unhandled, want 1", n)
	}
}

func itoa(n int) string { return fmt.Sprint(n) }

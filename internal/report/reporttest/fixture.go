// Package reporttest inserts the small fixed dataset the report tests check by hand:
// a Berlin queue over the 2026-03-29 DST change, a Vladivostok queue, answered,
// abandoned, timed-out, transferred, outgoing and internal calls, queue attempts and
// an operator's status history.
package reporttest

import (
	"database/sql"
	"encoding/json"
	"testing"
	"time"
)

// Fixture holds the ids the tests refer to.
type Fixture struct {
	Server                int
	QueueBerlin, QueueVla int
	OpA, OpB, OpC         int
	Group                 int
	Trunk                 int
	// Calls by name: c1..c8 on the Berlin queue (or none), v1, v2 on Vladivostok's.
	Calls map[string]int
}

// T parses an RFC 3339 time or fails the test.
func T(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type callSpec struct {
	name, start, typ, status, reason string
	queue                            string // queue number, "" for none
	answeredBy, callerOp             *int
	wait, talk, hold                 int
	transferred                      bool
	hangup                           string
}

// Insert writes the dataset into db (migrated) and returns its ids.
func Insert(t testing.TB, db *sql.DB) *Fixture {
	t.Helper()
	f := &Fixture{Calls: map[string]int{}}
	now := time.Now()
	one := func(q string, args ...any) int {
		t.Helper()
		var id int
		if err := db.QueryRow(q, args...).Scan(&id); err != nil {
			t.Fatalf("fixture: %s: %v", q, err)
		}
		return id
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("fixture: %s: %v", q, err)
		}
	}
	f.Server = one(`INSERT INTO servers (created_at, updated_at, name, ami_address, ami_username, ami_secret, timezone)
		VALUES ($1, $1, 'pbx', '10.0.0.1:5038', 'u', 's', 'Europe/Berlin') RETURNING id`, now)
	f.QueueBerlin = one(`INSERT INTO queues (created_at, updated_at, server_id, number, display_name, timezone, sl_threshold_seconds)
		VALUES ($1, $1, $2, '600', 'Berlin support', 'Europe/Berlin', 20) RETURNING id`, now, f.Server)
	f.QueueVla = one(`INSERT INTO queues (created_at, updated_at, server_id, number, display_name, timezone, sl_threshold_seconds)
		VALUES ($1, $1, $2, '700', 'Vladivostok sales', 'Asia/Vladivostok', 30) RETURNING id`, now, f.Server)
	op := func(number, name string) int {
		return one(`INSERT INTO operators (created_at, updated_at, server_id, number, interface, name, tracked)
			VALUES ($1, $1, $2, $3, $4, $5, true) RETURNING id`, now, f.Server, number, "PJSIP/"+number, name)
	}
	f.OpA, f.OpB, f.OpC = op("1001", "Anna"), op("1002", "Boris"), op("1003", "Clara")
	f.Group = one(`INSERT INTO operator_groups (created_at, updated_at, name, virtual) VALUES ($1, $1, 'Day shift', false) RETURNING id`, now)
	exec(`INSERT INTO operator_group_operators VALUES ($1, $2), ($1, $3)`, f.Group, f.OpA, f.OpB)
	f.Trunk = one(`INSERT INTO trunks (created_at, updated_at, server_id, number, name) VALUES ($1, $1, $2, '4930123', 'Main') RETURNING id`, now, f.Server)

	a, b, c := &f.OpA, &f.OpB, &f.OpC
	specs := []callSpec{
		{"c1", "2026-03-28T22:30:00Z", "inbound", "answered", "", "600", a, nil, 10, 100, 0, false, "caller"},
		{"c2", "2026-03-28T23:30:00Z", "inbound", "answered", "", "600", a, nil, 30, 200, 0, false, "operator"},
		{"c3", "2026-03-29T01:15:00Z", "inbound", "missed", "abandoned", "600", nil, nil, 40, 0, 0, false, "caller"},
		{"c4", "2026-03-29T08:00:00Z", "inbound", "answered", "", "600", b, nil, 5, 60, 10, true, "caller"},
		{"c5", "2026-03-29T21:30:00Z", "outbound", "answered", "", "", nil, a, 8, 50, 0, false, "operator"},
		{"c6", "2026-03-29T22:10:00Z", "internal", "answered", "", "", b, a, 3, 20, 0, false, "callee"},
		{"c7", "2026-03-30T07:05:30Z", "inbound", "answered", "", "600", c, nil, 15, 120, 0, false, "caller"},
		{"c8", "2026-03-30T16:30:00Z", "inbound", "missed", "timeout", "600", nil, nil, 300, 0, 0, false, "system"},
		{"v1", "2026-03-29T13:30:00Z", "inbound", "answered", "", "700", b, nil, 25, 300, 0, false, "caller"},
		{"v2", "2026-03-29T14:30:00Z", "inbound", "missed", "abandoned", "700", nil, nil, 70, 0, 0, false, "caller"},
	}
	number := map[int]string{f.OpA: "1001", f.OpB: "1002", f.OpC: "1003"}
	for i, s := range specs {
		start := T(t, s.start)
		var answered any
		end := start.Add(time.Duration(s.wait) * time.Second)
		if s.status == "answered" {
			ans := start.Add(time.Duration(s.wait) * time.Second)
			answered = ans
			end = ans.Add(time.Duration(s.talk) * time.Second)
		}
		var queues, missedQueues any
		if s.queue != "" {
			j, _ := json.Marshal([]string{s.queue})
			queues = string(j)
			if s.status == "missed" {
				missedQueues = string(j)
			}
		}
		var ansBy, ansNum, callerOp, trunk, callerNum, dialed, callee any
		if s.answeredBy != nil {
			ansBy, ansNum = *s.answeredBy, number[*s.answeredBy]
			callee = number[*s.answeredBy]
		}
		callerNum, dialed = "4915112345"+s.name[1:], "4930123"
		if s.callerOp != nil {
			callerOp, callerNum = *s.callerOp, number[*s.callerOp]
			dialed = "4930999000"
			if s.typ == "internal" {
				dialed = "1002"
			}
		}
		if s.typ != "internal" {
			trunk = f.Trunk
		}
		var transfers any
		if s.transferred {
			transfers = `[{"type":"blind","by":"1002","to":"1003","answered":true}]`
		}
		f.Calls[s.name] = one(`INSERT INTO calls (linkedid, start, answered, "end", type, status, missed_reason, caller_number, caller_operator_id,
			dialed, callee_number, answered_by_id, answered_by_number, trunk_id, queues, missed_in_queues, hangup_by, wait_seconds, talk_seconds,
			hold_seconds, talk_without_hold_seconds, transferred, transfers, server_id)
			VALUES ($1, $2, $3, $4, $5, $6, nullif($7, ''), $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24) RETURNING id`,
			"17746.10"+string(rune('0'+i)), start, answered, end, s.typ, s.status, s.reason, callerNum, callerOp, dialed, callee, ansBy, ansNum, trunk,
			queues, missedQueues, s.hangup, s.wait, s.talk, s.hold, s.talk-s.hold, s.transferred, transfers, f.Server)
		if s.queue != "" {
			qid := f.QueueBerlin
			if s.queue == "700" {
				qid = f.QueueVla
			}
			result := "answered"
			if s.status == "missed" {
				result = s.reason
			}
			exec(`INSERT INTO queue_visits (call_id, queue_id, joined_at, left_at, position, result, wait_seconds, answered_by_id)
				VALUES ($1, $2, $3, $4, 1, $5, $6, $7)`, f.Calls[s.name], qid, start, start.Add(time.Duration(s.wait)*time.Second), result, s.wait, ansBy)
		}
	}
	leg := func(call string, op *int, num string, answerAt string, talk, hold int, transferTo string) {
		t.Helper()
		at := T(t, answerAt)
		var opID any
		if op != nil {
			opID = *op
		}
		exec(`INSERT INTO call_legs (call_id, operator_id, number, ring_at, answer_at, end_at, wait_seconds, talk_seconds, hold_seconds,
			talk_without_hold_seconds, transfer_type, transfer_to) VALUES ($1, $2, $3, $4, $5, $6, 3, $7, $8, $9, nullif($10, ''), nullif($11, ''))`,
			f.Calls[call], opID, num, at.Add(-3*time.Second), at, at.Add(time.Duration(talk)*time.Second), talk, hold, talk-hold,
			map[bool]string{true: "blind"}[transferTo != ""], transferTo)
	}
	leg("c1", a, "1001", "2026-03-28T22:30:10Z", 100, 0, "")
	leg("c2", a, "1001", "2026-03-28T23:30:30Z", 200, 0, "")
	leg("c4", b, "1002", "2026-03-29T08:00:05Z", 20, 0, "1003")
	leg("c4", c, "1003", "2026-03-29T08:00:30Z", 40, 10, "")
	leg("c5", nil, "4930999000", "2026-03-29T21:30:08Z", 50, 0, "")
	leg("c6", b, "1002", "2026-03-29T22:10:03Z", 20, 0, "")
	leg("c7", c, "1003", "2026-03-30T07:05:45Z", 120, 0, "")
	leg("v1", b, "1002", "2026-03-29T13:30:25Z", 300, 0, "")
	attempt := func(call string, queue int, op int, start string, result string) {
		t.Helper()
		s := T(t, start)
		exec(`INSERT INTO queue_attempts (call_id, queue_id, operator_id, interface, ring_start, ring_end, result, ring_seconds)
			VALUES ($1, $2, $3, 'PJSIP/x', $4, $5, $6, 10)`, f.Calls[call], queue, op, s, s.Add(10*time.Second), result)
	}
	attempt("c2", f.QueueBerlin, f.OpB, "2026-03-28T23:30:05Z", "noanswer")
	attempt("c2", f.QueueBerlin, f.OpA, "2026-03-28T23:30:20Z", "answered")
	attempt("c3", f.QueueBerlin, f.OpA, "2026-03-29T01:15:05Z", "noanswer")
	attempt("c3", f.QueueBerlin, f.OpB, "2026-03-29T01:15:20Z", "cancelled")
	attempt("c8", f.QueueBerlin, f.OpC, "2026-03-30T16:30:05Z", "noanswer")
	attempt("c8", f.QueueBerlin, f.OpC, "2026-03-30T16:31:00Z", "busy")
	attempt("v2", f.QueueVla, f.OpA, "2026-03-29T14:30:10Z", "dump")
	status := func(op int, st, reason, queue, from, to string) {
		t.Helper()
		var end any
		if to != "" {
			end = T(t, to)
		}
		exec(`INSERT INTO operator_status_changes (operator_id, status, reason, queue, "from", "to") VALUES ($1, $2, nullif($3, ''), nullif($4, ''), $5, $6)`,
			op, st, reason, queue, T(t, from), end)
	}
	status(f.OpA, "loggedout", "", "", "2026-03-28T20:00:00Z", "2026-03-29T07:00:00Z")
	status(f.OpA, "available", "", "", "2026-03-29T07:00:00Z", "2026-03-29T11:00:00Z")
	status(f.OpA, "paused", "lunch", "", "2026-03-29T11:00:00Z", "2026-03-29T11:30:00Z")
	status(f.OpA, "available", "", "", "2026-03-29T11:30:00Z", "2026-03-29T15:00:00Z")
	status(f.OpA, "paused", "break", "", "2026-03-29T15:00:00Z", "2026-03-29T15:10:00Z")
	status(f.OpA, "available", "", "", "2026-03-29T15:10:00Z", "2026-03-29T16:00:00Z")
	status(f.OpA, "loggedout", "", "", "2026-03-29T16:00:00Z", "")
	// A per-queue pause overlaps the global statuses and must not count twice.
	status(f.OpA, "paused", "training", "600", "2026-03-29T12:00:00Z", "2026-03-29T12:30:00Z")
	return f
}

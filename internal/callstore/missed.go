package callstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/lib/pq"

	"github.com/linkage/linkage/ami/assemble"
)

// MissedNotifyChannel is the PostgreSQL NOTIFY channel announcing that missed calls
// were added or handled (the payload is the server id, or empty). The notification
// is sent inside the writing transaction, so listeners hear of it only once it is
// committed.
const MissedNotifyChannel = "linkage_missed_calls"

// The missed-call bookkeeping of newly stored calls runs in the caller's transaction,
// right after the calls: a batch that fails leaves no missed call behind, and a
// replayed batch (calls already stored) gets no ids here, so nothing is duplicated
// (missed_calls.call_id is unique besides).
//
// 1. An inbound call from an outside number that nobody answered and that waited in
// a queue becomes a missed call of the last queue it waited in.
const insertMissedSQL = `
INSERT INTO missed_calls (call_id, server_id, queue_id, caller_number, caller_name, missed_at, reason, wait_seconds, state, callback_attempts)
SELECT c.id, c.server_id, v.queue_id, c.caller_number, c.caller_name, c."end", c.missed_reason, c.wait_seconds, 'unhandled', 0
FROM calls c
JOIN LATERAL (SELECT qv.queue_id FROM queue_visits qv WHERE qv.call_id = c.id ORDER BY qv.joined_at DESC, qv.id DESC LIMIT 1) v ON true
WHERE c.id = ANY($1) AND c.type = 'inbound' AND c.status = 'missed'
  AND coalesce(c.caller_number, '') <> '' AND coalesce(c.parent_linkedid, '') = ''
ON CONFLICT (call_id) DO NOTHING`

// 2. A callback Linkage originated (its LINKAGE_CALLBACK variable names the missed
// call) that was answered handles that missed call, for the user who asked for it.
const callbackHandledSQL = `
UPDATE missed_calls m SET state = 'handled', handled_how = 'callback', handled_at = coalesce(a.answered, a."end"),
  handled_call_id = a.id,
  handled_by_id = coalesce((SELECT u.id FROM users u WHERE u.id::text = a.custom->>'` + assemble.VarCallbackBy + `'), m.handled_by_id)
FROM calls a
WHERE a.id = ANY($1) AND a.status = 'answered' AND a.custom ? '` + assemble.VarCallback + `'
  AND m.id = CASE WHEN a.custom->>'` + assemble.VarCallback + `' ~ '^[0-9]{1,18}$' THEN (a.custom->>'` + assemble.VarCallback + `')::bigint END
  AND m.server_id = a.server_id AND m.state = 'unhandled'`

// 3. Any answered outbound call to the customer's number handles their missed calls
// as a callback (an operator dialled them by hand, or the callback variable was
// lost). The dialled number may carry an outside-line prefix ("0", "9", "+7"), so a
// number of six digits or more also matches as the suffix of what was dialled.
//
// Statements 3. and 4. are written so that no plan can walk all the unhandled missed
// calls, whatever the statistics say (those of calls and missed_calls lag far behind
// while a collector fills them, and the planner then believes both tiny). Each step
// is a materialised CTE: the batch's calls (a); for each distinct caller number the
// batch can match, the unhandled missed calls with that number (mm: LATERAL ...
// OFFSET 0 with only the three equalities of the (server_id, caller_number, state)
// index, so no other index fits better; with the array as one condition, or with
// missed_at in the same scan, the planner used the index on state and filtered every
// unhandled missed call); the match of the two small sets (x); the update by primary
// key (id = ANY(array); the state check is kept out of reach of the state index, for
// the same reason). Written as one plain join, the planner walked every unhandled
// missed call and probed all the server's calls for each: 30 of 38 CPU-s of
// PostgreSQL for one simulated hour (issue #4). For 3., the suffix rule becomes a list
// of candidate numbers: callee and dialled number and each of their suffixes of six
// characters or more (right(d, length(n)) = n with length(n) >= 6 holds exactly when
// n is one of them).
const outboundHandledSQL = `
WITH a AS MATERIALIZED (
  SELECT id, server_id, start, answered, "end", caller_operator_id, callee_number, dialed FROM calls
  WHERE id = ANY($1) AND type = 'outbound' AND status = 'answered'),
cand AS MATERIALIZED (
  SELECT a.id, c.num FROM a CROSS JOIN LATERAL (
    SELECT a.callee_number AS num UNION SELECT a.dialed
    UNION SELECT right(a.dialed, n) FROM generate_series(6, length(a.dialed)) n
    UNION SELECT right(a.callee_number, n) FROM generate_series(6, length(a.callee_number)) n) c
  WHERE c.num IS NOT NULL),
mm AS MATERIALIZED (
  SELECT l.id, l.server_id, l.caller_number, l.missed_at FROM (SELECT DISTINCT num FROM cand) n
  CROSS JOIN LATERAL (
    SELECT id, server_id, caller_number, missed_at FROM missed_calls
    WHERE server_id = $2 AND caller_number = n.num AND state = 'unhandled' OFFSET 0) l),
x AS MATERIALIZED (
  SELECT a.id, a.answered, a."end", a.caller_operator_id, mm.id AS mid
  FROM a JOIN cand ON cand.id = a.id
  JOIN mm ON mm.server_id = a.server_id AND mm.caller_number = cand.num AND mm.missed_at <= a.start)
UPDATE missed_calls m SET state = 'handled', handled_how = 'callback', handled_at = coalesce(x.answered, x."end"),
  handled_call_id = x.id,
  handled_by_id = coalesce((SELECT o.user_id FROM operators o WHERE o.id = x.caller_operator_id), m.handled_by_id)
FROM x
WHERE m.id = ANY(ARRAY(SELECT mid FROM x)) AND m.id = x.mid AND (m.state || '') = 'unhandled'`

// 4. The customer called again and was answered: their earlier missed calls are
// handled by that call.
const calledAgainHandledSQL = `
WITH a AS MATERIALIZED (
  SELECT id, server_id, caller_number, coalesce(answered, "end") AS at FROM calls
  WHERE id = ANY($1) AND type = 'inbound' AND status = 'answered' AND coalesce(caller_number, '') <> ''),
mm AS MATERIALIZED (
  SELECT l.id, l.server_id, l.caller_number, l.missed_at, l.call_id FROM (SELECT DISTINCT caller_number FROM a) n
  CROSS JOIN LATERAL (
    SELECT id, server_id, caller_number, missed_at, call_id FROM missed_calls
    WHERE server_id = $2 AND caller_number = n.caller_number AND state = 'unhandled' OFFSET 0) l),
x AS MATERIALIZED (
  SELECT a.id, a.at, mm.id AS mid FROM a
  JOIN mm ON mm.server_id = a.server_id AND mm.caller_number = a.caller_number AND mm.missed_at <= a.at AND mm.call_id <> a.id)
UPDATE missed_calls m SET state = 'handled', handled_how = 'called_again', handled_at = x.at,
  handled_call_id = x.id
FROM x
WHERE m.id = ANY(ARRAY(SELECT mid FROM x)) AND m.id = x.mid AND (m.state || '') = 'unhandled'`

// trackMissed records the missed calls among the new calls and handles the missed
// calls the new answered ones resolve, inside tx; it announces a change on
// MissedNotifyChannel when anything changed. Each statement runs only when the
// batch has calls it concerns, so most batches cost nothing here.
func trackMissed(ctx context.Context, tx *sql.Tx, serverID int, calls []*assemble.Call, ids map[string]int64) error {
	if len(ids) == 0 {
		return nil
	}
	var missed, callbacks, outbound, inbound []int64
	for _, c := range calls {
		id, ok := ids[c.Linkedid]
		if !ok {
			continue
		}
		answered := c.Status == assemble.StatusAnswered
		switch {
		case c.Type == assemble.Inbound && c.Status == assemble.StatusMissed && c.Caller.Number != "" && len(c.Visits) > 0:
			missed = append(missed, id)
		case c.Type == assemble.Inbound && answered && c.Caller.Number != "":
			inbound = append(inbound, id)
		case c.Type == assemble.Outbound && answered:
			outbound = append(outbound, id)
		}
		if answered && c.Custom[assemble.VarCallback] != "" {
			callbacks = append(callbacks, id)
		}
	}
	var changed int64
	for _, st := range []struct {
		name, sql string
		ids       []int64
		byServer  bool // $2 is the server id
	}{
		{"insert", insertMissedSQL, missed, false},
		{"callback", callbackHandledSQL, callbacks, false},
		{"outbound", outboundHandledSQL, outbound, true},
		{"called again", calledAgainHandledSQL, inbound, true},
	} {
		if len(st.ids) == 0 {
			continue
		}
		args := []any{pq.Array(st.ids)}
		if st.byServer {
			args = append(args, serverID)
		}
		res, err := tx.ExecContext(ctx, st.sql, args...)
		if err != nil {
			return fmt.Errorf("callstore: missed calls (%s): %w", st.name, err)
		}
		n, _ := res.RowsAffected()
		changed += n
	}
	if changed == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, MissedNotifyChannel, strconv.Itoa(serverID)); err != nil {
		return fmt.Errorf("callstore: missed calls notify: %w", err)
	}
	return nil
}

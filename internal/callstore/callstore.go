// Package callstore is the live write path from assembled calls to PostgreSQL: calls
// with their legs, queue visits and queue attempts, operator status intervals, and the
// discovery of queues, operators and trunks the first time a call mentions them.
//
// New calls also keep the missed-call list (missed.go): missed inbound queue calls
// are added, and answered calls handle the missed calls they resolve.
//
// Writes are idempotent: a call is inserted with ON CONFLICT (server_id, linkedid) DO
// NOTHING and its children only when the call row is new, so replaying the journal
// after a crash never duplicates anything. The caller owns the transaction; the
// collector commits calls, journal rows and its checkpoint together.
package callstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/linkage/linkage/ami/assemble"
)

// Store writes calls and caches the ids of queues, operators and trunks per server.
// It is safe for concurrent use by the pipelines of several servers.
type Store struct {
	db *sql.DB

	mu    sync.Mutex
	ids   map[objKey]int // discovered rows: (server, kind, number) -> id
	known map[objKey]bool
}

type objKey struct {
	server int
	kind   kind
	number string
}

type kind uint8

const (
	kQueue kind = iota + 1
	kOperator
	kTrunk
)

// New returns a store. Discovery (creating Queue/Operator/Trunk rows) runs on db in
// autocommit, outside the caller's transaction: such a row is harmless if the batch
// that needed it fails, and a committed row can be cached without tracking the batch.
func New(db *sql.DB) *Store {
	return &Store{db: db, ids: map[objKey]int{}, known: map[objKey]bool{}}
}

// Forget drops the cached ids of a server (after its rows were edited or removed).
func (s *Store) Forget(serverID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.ids {
		if k.server == serverID {
			delete(s.ids, k)
		}
	}
	for k := range s.known {
		if k.server == serverID {
			delete(s.known, k)
		}
	}
}

// Write inserts the calls that are not stored yet, with their children, inside tx, and
// returns how many were new. Calls already stored (same server and linkedid) are left
// as they are.
func (s *Store) Write(ctx context.Context, tx *sql.Tx, serverID int, calls []*assemble.Call) (int, error) {
	ids, err := s.WriteIDs(ctx, tx, serverID, calls)
	return len(ids), err
}

// WriteIDs is Write returning the ids of the calls it stored, by linkedid, so the
// caller can tell subscribers which stored call a live call became.
func (s *Store) WriteIDs(ctx context.Context, tx *sql.Tx, serverID int, calls []*assemble.Call) (map[string]int64, error) {
	if len(calls) == 0 {
		return nil, nil
	}
	// One row per linkedid: a batch may hold a replayed fragment of a call next to it.
	seen := make(map[string]bool, len(calls))
	uniq := calls[:0:0]
	for _, c := range calls {
		if c == nil || c.Linkedid == "" || seen[c.Linkedid] {
			continue
		}
		seen[c.Linkedid] = true
		uniq = append(uniq, c)
	}
	if err := s.discover(ctx, serverID, uniq); err != nil {
		return nil, err
	}
	ids, err := s.insertCalls(ctx, tx, serverID, uniq)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	if err := s.insertChildren(ctx, tx, serverID, uniq, ids); err != nil {
		return nil, err
	}
	if err := trackMissed(ctx, tx, serverID, uniq, ids); err != nil {
		return nil, err
	}
	return ids, nil
}

// isOperator says whether p talked for the call as an operator.
func isOperator(c *assemble.Call, p assemble.Party) bool {
	if p.Number == "" {
		return false
	}
	for _, o := range c.Operators {
		if o.Number == p.Number {
			return true
		}
	}
	return false
}

// discover makes sure every queue, operator and trunk the calls mention has a row.
func (s *Store) discover(ctx context.Context, serverID int, calls []*assemble.Call) error {
	type want struct {
		k         objKey
		name, dev string
	}
	var need []want
	add := func(k kind, number, name, dev string) {
		if number == "" {
			return
		}
		key := objKey{serverID, k, number}
		s.mu.Lock()
		_, ok := s.ids[key]
		s.mu.Unlock()
		if !ok {
			need = append(need, want{key, name, dev})
		}
	}
	for _, c := range calls {
		for _, q := range c.Queues {
			add(kQueue, q, "", "")
		}
		for _, v := range c.Visits {
			add(kQueue, v.Queue, "", "")
		}
		for _, o := range c.Operators {
			add(kOperator, o.Number, o.Name, o.Device)
		}
		for _, o := range c.MissedByOperators {
			add(kOperator, o.Number, o.Name, o.Device)
		}
		for _, at := range c.Attempts {
			add(kQueue, at.Queue, "", "")
			add(kOperator, at.Operator.Number, at.Operator.Name, at.Operator.Device)
		}
		if c.Type == assemble.Inbound {
			add(kTrunk, c.Dialed, "", "")
		}
	}
	if len(need) == 0 {
		return nil
	}
	if err := s.preload(ctx, serverID); err != nil {
		return err
	}
	byKind := map[kind][]want{}
	for _, w := range need {
		s.mu.Lock()
		_, ok := s.ids[w.k]
		s.mu.Unlock()
		if !ok {
			byKind[w.k.kind] = append(byKind[w.k.kind], w)
		}
	}
	for k, ws := range byKind {
		nums, names, devs := make([]string, len(ws)), make([]string, len(ws)), make([]string, len(ws))
		for i, w := range ws {
			nums[i], names[i], devs[i] = w.k.number, w.name, w.dev
		}
		if err := s.ensureMany(ctx, serverID, k, nums, names, devs); err != nil {
			return err
		}
	}
	return nil
}

// preload reads the server's queues, operators and trunks once per store, so a
// restarted process does not look them up one by one.
func (s *Store) preload(ctx context.Context, serverID int) error {
	pk := objKey{serverID, 0, ""}
	s.mu.Lock()
	done := s.known[pk]
	s.mu.Unlock()
	if done {
		return nil
	}
	for _, q := range []struct {
		k   kind
		sql string
	}{{kQueue, `SELECT number, id FROM queues WHERE server_id = $1`}, {kOperator, `SELECT number, id FROM operators WHERE server_id = $1`},
		{kTrunk, `SELECT number, id FROM trunks WHERE server_id = $1`}} {
		if err := s.scanIDs(ctx, serverID, q.k, q.sql, serverID); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.known[pk] = true
	s.mu.Unlock()
	return nil
}

func (s *Store) scanIDs(ctx context.Context, serverID int, k kind, q string, args ...any) error {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("callstore: discover: %w", err)
	}
	defer rows.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for rows.Next() {
		var num string
		var id int
		if err := rows.Scan(&num, &id); err != nil {
			return fmt.Errorf("callstore: discover: %w", err)
		}
		s.ids[objKey{serverID, k, num}] = id
	}
	return rows.Err()
}

// ensureMany creates the missing rows of one kind in one statement and caches the ids.
// New queues and operators are marked discovered: an admin accepts (or edits) them.
func (s *Store) ensureMany(ctx context.Context, serverID int, k kind, nums, names, devs []string) error {
	var ins, sel string
	args := []any{serverID, pq.Array(nums)}
	switch k {
	case kQueue:
		ins = `INSERT INTO queues (server_id, number, discovered, created_at, updated_at) SELECT $1, n, true, now(), now() FROM unnest($2::text[]) AS n ON CONFLICT (server_id, number) DO NOTHING`
		sel = `SELECT number, id FROM queues WHERE server_id = $1 AND number = ANY($2::text[])`
	case kOperator:
		ins = `INSERT INTO operators (server_id, number, name, interface, discovered, created_at, updated_at)
			SELECT $1, n, NULLIF(nm, ''), NULLIF(d, ''), true, now(), now() FROM unnest($2::text[], $3::text[], $4::text[]) AS u(n, nm, d)
			ON CONFLICT (server_id, number) DO NOTHING`
		sel = `SELECT number, id FROM operators WHERE server_id = $1 AND number = ANY($2::text[])`
	case kTrunk:
		ins = `INSERT INTO trunks (server_id, number, created_at, updated_at) SELECT $1, n, now(), now() FROM unnest($2::text[]) AS n ON CONFLICT (server_id, number) DO NOTHING`
		sel = `SELECT number, id FROM trunks WHERE server_id = $1 AND number = ANY($2::text[])`
	}
	insArgs := args
	if k == kOperator {
		insArgs = append(insArgs, pq.Array(names), pq.Array(devs))
	}
	if _, err := s.db.ExecContext(ctx, ins, insArgs...); err != nil {
		return fmt.Errorf("callstore: discover: %w", err)
	}
	return s.scanIDs(ctx, serverID, k, sel, args...)
}

// id returns a cached id, or NULL.
func (s *Store) id(serverID int, k kind, number string) sql.NullInt64 {
	if number == "" {
		return sql.NullInt64{}
	}
	s.mu.Lock()
	id, ok := s.ids[objKey{serverID, k, number}]
	s.mu.Unlock()
	return sql.NullInt64{Int64: int64(id), Valid: ok}
}

// lookupOperators asks, in one statement, which of the batch's caller numbers that
// are neither cached nor known not to be operators are operators, and caches both
// answers, so that operatorID makes no round trip of its own for them. (One query per
// new caller number was a serial round trip for nearly every inbound call.)
func (s *Store) lookupOperators(ctx context.Context, serverID int, calls []*assemble.Call) error {
	var nums []string
	seen := map[string]bool{}
	s.mu.Lock()
	for _, c := range calls {
		n := c.Caller.Number
		if n == "" || seen[n] {
			continue
		}
		key := objKey{serverID, kOperator, n}
		if _, ok := s.ids[key]; ok || s.known[key] {
			continue
		}
		seen[n] = true
		nums = append(nums, n)
	}
	s.mu.Unlock()
	if len(nums) == 0 {
		return nil
	}
	if err := s.scanIDs(ctx, serverID, kOperator, `SELECT number, id FROM operators WHERE server_id = $1 AND number = ANY($2::text[])`, serverID, pq.Array(nums)); err != nil {
		return err
	}
	s.mu.Lock()
	for _, n := range nums {
		key := objKey{serverID, kOperator, n}
		if _, ok := s.ids[key]; !ok {
			s.known[key] = true // not an operator; asked again only after Forget
		}
	}
	s.mu.Unlock()
	return nil
}

// operatorID resolves a party that is not necessarily an operator (a caller): only
// existing operators count, none is created.
func (s *Store) operatorID(ctx context.Context, serverID int, number string) (sql.NullInt64, error) {
	if number == "" {
		return sql.NullInt64{}, nil
	}
	if id := s.id(serverID, kOperator, number); id.Valid {
		return id, nil
	}
	key := objKey{serverID, kOperator, number}
	s.mu.Lock()
	checked := s.known[key]
	s.mu.Unlock()
	if checked {
		return sql.NullInt64{}, nil
	}
	var id int
	err := s.db.QueryRowContext(ctx, `SELECT id FROM operators WHERE server_id = $1 AND number = $2`, serverID, number).Scan(&id)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err == sql.ErrNoRows:
		s.known[key] = true // not an operator; asked again only after Forget
		return sql.NullInt64{}, nil
	case err != nil:
		return sql.NullInt64{}, fmt.Errorf("callstore: operator %s: %w", number, err)
	}
	s.ids[key] = id
	return sql.NullInt64{Int64: int64(id), Valid: true}, nil
}

func nullStr(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func nullTime(t time.Time) sql.NullString {
	if t.IsZero() {
		return sql.NullString{}
	}
	return sql.NullString{String: t.UTC().Format(time.RFC3339Nano), Valid: true}
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func jsonOf(v any) sql.NullString {
	b, _ := json.Marshal(v) // strings, maps of strings and plain structs cannot fail
	return sql.NullString{String: string(b), Valid: true}
}

func jsonList(xs []string) sql.NullString {
	if len(xs) == 0 {
		return sql.NullString{}
	}
	return jsonOf(xs)
}

func numbers(ps []assemble.Party) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		n := p.Number
		if n == "" {
			n = p.Device
		}
		out = append(out, n)
	}
	return out
}

// storedTransfer is ent/schema.Transfer's JSON shape.
type storedTransfer struct {
	Type     string `json:"type"`
	By       string `json:"by"`
	To       string `json:"to"`
	Answered bool   `json:"answered"`
}

var hangupBy = map[string]bool{"caller": true, "callee": true, "operator": true, "system": true, "unknown": true}

// callColumns, in the order of the unnest arrays in insertCalls.
const callColumns = `server_id, linkedid, linkedids, start, answered, "end", type, status, missed_reason,
caller_number, caller_name, caller_operator_id, dialed, callee_number, callee_name,
answered_by_id, answered_by_number, answered_by_name, answered_by_device, trunk_id,
queues, missed_by_operators, missed_in_queues, hangup_by, wait_seconds, talk_seconds,
hold_seconds, talk_without_hold_seconds, transferred, transfers, recordings,
parent_linkedid, approximate_times, incomplete, incomplete_reason, custom`

const insertCallsSQL = `INSERT INTO calls (` + callColumns + `)
SELECT $1::bigint, * FROM unnest($2::text[], $3::jsonb[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[],
 $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[], $13::text[], $14::text[], $15::text[],
 $16::bigint[], $17::text[], $18::text[], $19::text[], $20::bigint[], $21::jsonb[], $22::jsonb[], $23::jsonb[],
 $24::text[], $25::bigint[], $26::bigint[], $27::bigint[], $28::bigint[], $29::bool[], $30::jsonb[], $31::jsonb[],
 $32::text[], $33::bool[], $34::bool[], $35::text[], $36::jsonb[])
ON CONFLICT (server_id, linkedid) DO NOTHING
RETURNING id, linkedid`

func (s *Store) insertCalls(ctx context.Context, tx *sql.Tx, serverID int, calls []*assemble.Call) (map[string]int64, error) {
	n := len(calls)
	var (
		linkedid                                     = make([]string, n)
		linkedids, queues, mbo, miq, transfers, recs = make([]sql.NullString, n), make([]sql.NullString, n), make([]sql.NullString, n), make([]sql.NullString, n), make([]sql.NullString, n), make([]sql.NullString, n)
		custom                                       = make([]sql.NullString, n)
		start, end                                   = make([]string, n), make([]string, n)
		answered                                     = make([]sql.NullString, n)
		typ, status, hup                             = make([]string, n), make([]string, n), make([]string, n)
		missed, cnum, cname, dialed, enum, ename     = make([]sql.NullString, n), make([]sql.NullString, n), make([]sql.NullString, n), make([]sql.NullString, n), make([]sql.NullString, n), make([]sql.NullString, n)
		abnum, abname, abdev, parent, increason      = make([]sql.NullString, n), make([]sql.NullString, n), make([]sql.NullString, n), make([]sql.NullString, n), make([]sql.NullString, n)
		callerOp, abID, trunk                        = make([]sql.NullInt64, n), make([]sql.NullInt64, n), make([]sql.NullInt64, n)
		wait, talk, hold, twh                        = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		transferred, approx, incomplete              = make([]bool, n), make([]bool, n), make([]bool, n)
	)
	if err := s.lookupOperators(ctx, serverID, calls); err != nil {
		return nil, err
	}
	for i, c := range calls {
		linkedid[i] = c.Linkedid
		linkedids[i] = jsonList(c.Linkedids)
		start[i], end[i] = ts(c.Start), ts(c.End)
		if c.Answered != nil {
			answered[i] = nullTime(*c.Answered)
		}
		typ[i], status[i] = string(c.Type), string(c.Status)
		missed[i] = nullStr(c.MissedReason)
		cnum[i], cname[i] = nullStr(c.Caller.Number), nullStr(c.Caller.Name)
		var err error
		if callerOp[i], err = s.operatorID(ctx, serverID, c.Caller.Number); err != nil {
			return nil, err
		}
		dialed[i] = nullStr(c.Dialed)
		enum[i], ename[i] = nullStr(c.Callee.Number), nullStr(c.Callee.Name)
		if ab := c.AnsweredBy; ab != nil {
			abnum[i], abname[i], abdev[i] = nullStr(ab.Number), nullStr(ab.Name), nullStr(ab.Device)
			if isOperator(c, *ab) {
				abID[i] = s.id(serverID, kOperator, ab.Number)
			}
		}
		if c.Type == assemble.Inbound {
			trunk[i] = s.id(serverID, kTrunk, c.Dialed)
		}
		queues[i] = jsonList(c.Queues)
		mbo[i] = jsonList(numbers(c.MissedByOperators))
		miq[i] = jsonList(c.MissedInQueues)
		hup[i] = c.HangupBy
		if !hangupBy[hup[i]] {
			hup[i] = "unknown"
		}
		wait[i], talk[i], hold[i], twh[i] = int64(c.WaitSeconds), int64(c.TalkSeconds), int64(c.HoldSeconds), int64(c.TalkWithoutHoldSeconds)
		transferred[i] = len(c.Transfers) > 0
		if len(c.Transfers) > 0 {
			ts := make([]storedTransfer, len(c.Transfers))
			for j, t := range c.Transfers {
				ts[j] = storedTransfer{Type: t.Type, By: partyKey(t.By), To: partyKey(t.To), Answered: t.Answered}
			}
			transfers[i] = jsonOf(ts)
		}
		recs[i] = jsonList(c.Recordings)
		parent[i] = nullStr(c.Parent)
		approx[i], incomplete[i] = c.ApproximateTimes, c.Incomplete
		increason[i] = nullStr(c.IncompleteReason)
		if len(c.Custom) > 0 {
			custom[i] = jsonOf(c.Custom)
		}
	}
	ga := func(v any) any { return pq.GenericArray{A: v} }
	rows, err := tx.QueryContext(ctx, insertCallsSQL, serverID,
		pq.Array(linkedid), ga(linkedids), pq.Array(start), ga(answered), pq.Array(end),
		pq.Array(typ), pq.Array(status), ga(missed), ga(cnum), ga(cname), ga(callerOp), ga(dialed), ga(enum), ga(ename),
		ga(abID), ga(abnum), ga(abname), ga(abdev), ga(trunk), ga(queues), ga(mbo), ga(miq),
		pq.Array(hup), pq.Array(wait), pq.Array(talk), pq.Array(hold), pq.Array(twh), pq.Array(transferred), ga(transfers), ga(recs),
		ga(parent), pq.Array(approx), pq.Array(incomplete), ga(increason), ga(custom))
	if err != nil {
		return nil, fmt.Errorf("callstore: insert calls: %w", err)
	}
	defer rows.Close()
	ids := make(map[string]int64, n)
	for rows.Next() {
		var id int64
		var lid string
		if err := rows.Scan(&id, &lid); err != nil {
			return nil, fmt.Errorf("callstore: insert calls: %w", err)
		}
		ids[lid] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("callstore: insert calls: %w", err)
	}
	return ids, nil
}

func partyKey(p assemble.Party) string {
	if p.Number != "" {
		return p.Number
	}
	return p.Device
}

var visitResults = map[string]bool{"answered": true, "abandoned": true, "timeout": true, "empty": true, "full": true, "transferred": true}
var attemptResults = map[string]bool{"answered": true, "noanswer": true, "busy": true, "dump": true, "cancelled": true}

func enumOr(ok map[string]bool, v string) string {
	if ok[v] {
		return v
	}
	return "unknown"
}

// insertChildren COPYs the legs, visits and attempts of the new calls.
func (s *Store) insertChildren(ctx context.Context, tx *sql.Tx, serverID int, calls []*assemble.Call, ids map[string]int64) error {
	type table struct {
		name string
		cols []string
		rows [][]any
	}
	legs := table{name: "call_legs", cols: []string{"call_id", "operator_id", "queue_id", "number", "name", "device", "ring_at", "answer_at", "end_at",
		"wait_seconds", "talk_seconds", "hold_seconds", "talk_without_hold_seconds", "transfer_type", "transfer_to"}}
	visits := table{name: "queue_visits", cols: []string{"call_id", "queue_id", "joined_at", "left_at", "position", "result", "wait_seconds", "answered_by_id"}}
	attempts := table{name: "queue_attempts", cols: []string{"call_id", "queue_id", "operator_id", "interface", "ring_start", "ring_end", "result", "ring_seconds"}}
	nv := func(v sql.NullInt64) any {
		if !v.Valid {
			return nil
		}
		return v.Int64
	}
	ns := func(v sql.NullString) any {
		if !v.Valid {
			return nil
		}
		return v.String
	}
	for _, c := range calls {
		id, ok := ids[c.Linkedid]
		if !ok {
			continue
		}
		for _, l := range c.Legs {
			var op sql.NullInt64
			if isOperator(c, l.Party) {
				op = s.id(serverID, kOperator, l.Party.Number)
			}
			var ttype, tto string
			if l.TransferredTo != nil {
				tto = partyKey(*l.TransferredTo)
				for _, t := range c.Transfers {
					if partyKey(t.To) == tto {
						ttype = t.Type
					}
				}
			}
			legs.rows = append(legs.rows, []any{id, nv(op), nv(s.id(serverID, kQueue, l.Queue)),
				ns(nullStr(l.Party.Number)), ns(nullStr(l.Party.Name)), ns(nullStr(l.Party.Device)),
				ns(nullTime(l.RingStart)), ns(nullTime(l.Answered)), ns(nullTime(l.End)),
				int64(l.WaitSeconds), int64(l.TalkSeconds), int64(l.HoldSeconds), int64(l.TalkWithoutHoldSeconds),
				ns(nullStr(ttype)), ns(nullStr(tto))})
		}
		for _, v := range c.Visits {
			q := s.id(serverID, kQueue, v.Queue)
			if !q.Valid {
				continue // a visit without a queue name cannot be stored (queue_id is required)
			}
			var ab sql.NullInt64
			if v.Result == assemble.ReasonAnswered {
				for _, l := range c.Legs {
					if l.Queue == v.Queue && !l.Answered.IsZero() && isOperator(c, l.Party) {
						ab = s.id(serverID, kOperator, l.Party.Number)
						break
					}
				}
			}
			visits.rows = append(visits.rows, []any{id, q.Int64, ts(v.Join), ns(nullTime(v.Leave)), int64(v.Position),
				enumOr(visitResults, v.Result), int64(v.WaitSeconds), nv(ab)})
		}
		for _, at := range c.Attempts {
			attempts.rows = append(attempts.rows, []any{id, nv(s.id(serverID, kQueue, at.Queue)), nv(s.id(serverID, kOperator, at.Operator.Number)),
				ns(nullStr(at.Interface)), ts(at.RingStart), ns(nullTime(at.RingEnd)), enumOr(attemptResults, at.Result), int64(at.RingSeconds)})
		}
	}
	for _, t := range []table{legs, visits, attempts} {
		if len(t.rows) == 0 {
			continue
		}
		if err := copyRows(ctx, tx, t.name, t.cols, t.rows); err != nil {
			return err
		}
	}
	return nil
}

func copyRows(ctx context.Context, tx *sql.Tx, table string, cols []string, rows [][]any) error {
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn(table, cols...))
	if err != nil {
		return fmt.Errorf("callstore: copy %s: %w", table, err)
	}
	defer stmt.Close()
	for _, r := range rows {
		if _, err := stmt.ExecContext(ctx, r...); err != nil {
			return fmt.Errorf("callstore: copy %s: %w", table, err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return fmt.Errorf("callstore: copy %s: %w", table, err)
	}
	return nil
}

// StatusName maps an OperatorStatus notification to the stored status.
func StatusName(n assemble.Notification) string {
	if n.Paused {
		return "paused"
	}
	switch n.Status { // AST_DEVICE_* as QueueMemberStatus reports them
	case 1:
		return "available"
	case 2, 3, 8, 9:
		return "busy"
	case 6:
		return "ringing"
	case 4, 5:
		return "unavailable"
	}
	return "unknown"
}

// operatorNumber is the extension behind a queue member interface: the party's number
// when the assembler knows it, else the resource of "PJSIP/1001" or the exten of
// "Local/1001@agents/n".
func operatorNumber(n assemble.Notification) string {
	if n.Party.Number != "" {
		return n.Party.Number
	}
	iface := n.Interface
	if i := strings.IndexByte(iface, '/'); i >= 0 {
		iface = iface[i+1:]
	}
	if i := strings.IndexAny(iface, "@/"); i >= 0 {
		iface = iface[:i]
	}
	return iface
}

// WriteStatus records OperatorStatus notifications as intervals: the operator's open
// interval for that queue is closed at the notification's time and a new one opened,
// unless status and reason did not change. Other notification kinds are ignored.
//
// A batch costs three statements whatever its size: one read of the open intervals of
// the operators involved, one UPDATE closing those that changed, one COPY of the new
// intervals (all but the last of each operator and queue already closed).
func (s *Store) WriteStatus(ctx context.Context, tx *sql.Tx, serverID int, notes []assemble.Notification) error {
	type key struct {
		op    int
		queue string
	}
	type state struct{ status, reason string }
	type change struct {
		k            key
		from         time.Time
		status, reas string
	}
	var changes []change
	var ops []int64
	seenOp := map[int]bool{}
	var nums, names, devs []string
	missing := map[string]bool{}
	for _, n := range notes {
		if n.Kind != assemble.OperatorStatus {
			continue
		}
		num := operatorNumber(n)
		if num == "" || missing[num] {
			continue
		}
		if id := s.id(serverID, kOperator, num); !id.Valid {
			missing[num] = true
			nums, names, devs = append(nums, num), append(names, n.Party.Name), append(devs, n.Party.Device)
		}
	}
	if len(nums) > 0 {
		if err := s.preload(ctx, serverID); err != nil {
			return err
		}
		if err := s.ensureMany(ctx, serverID, kOperator, nums, names, devs); err != nil {
			return err
		}
	}
	for _, n := range notes {
		if n.Kind != assemble.OperatorStatus {
			continue
		}
		num := operatorNumber(n)
		if num == "" {
			continue
		}
		oid := s.id(serverID, kOperator, num)
		if !oid.Valid {
			return fmt.Errorf("callstore: operator %s was not created", num)
		}
		id := int(oid.Int64)
		if !seenOp[id] {
			seenOp[id] = true
			ops = append(ops, int64(id))
		}
		changes = append(changes, change{k: key{id, n.Queue}, from: n.Time, status: StatusName(n), reas: n.Reason})
	}
	if len(changes) == 0 {
		return nil
	}
	open := map[key]state{}
	rows, err := tx.QueryContext(ctx, `SELECT operator_id, COALESCE(queue, ''), status, COALESCE(reason, '') FROM operator_status_changes
		WHERE "to" IS NULL AND operator_id = ANY($1::bigint[])`, pq.Array(ops))
	if err != nil {
		return fmt.Errorf("callstore: operator status: %w", err)
	}
	for rows.Next() {
		var k key
		var st state
		if err := rows.Scan(&k.op, &k.queue, &st.status, &st.reason); err != nil {
			rows.Close()
			return fmt.Errorf("callstore: operator status: %w", err)
		}
		open[k] = st
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("callstore: operator status: %w", err)
	}
	// Walk the changes in order; keep the new intervals and which stored ones close.
	type interval struct {
		k            key
		from, to     time.Time
		status, reas string
	}
	var fresh []*interval
	last := map[key]*interval{}
	var closeOp []int64
	var closeQ, closeAt []string
	for _, c := range changes {
		if l := last[c.k]; l != nil {
			if l.status == c.status && l.reas == c.reas {
				continue
			}
			l.to = c.from
		} else if st, ok := open[c.k]; ok {
			if st.status == c.status && st.reason == c.reas {
				continue
			}
			closeOp, closeQ, closeAt = append(closeOp, int64(c.k.op)), append(closeQ, c.k.queue), append(closeAt, ts(c.from))
		}
		iv := &interval{k: c.k, from: c.from, status: c.status, reas: c.reas}
		fresh = append(fresh, iv)
		last[c.k] = iv
	}
	if len(closeOp) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE operator_status_changes o SET "to" = GREATEST(v.t, o."from")
			FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS v(op, q, t)
			WHERE o.operator_id = v.op AND COALESCE(o.queue, '') = v.q AND o."to" IS NULL`,
			pq.Array(closeOp), pq.Array(closeQ), pq.Array(closeAt)); err != nil {
			return fmt.Errorf("callstore: operator status: %w", err)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	rowsOut := make([][]any, 0, len(fresh))
	for _, iv := range fresh {
		var to any
		if !iv.to.IsZero() {
			if iv.to.Before(iv.from) {
				iv.to = iv.from
			}
			to = ts(iv.to)
		}
		var q, r any
		if iv.k.queue != "" {
			q = iv.k.queue
		}
		if iv.reas != "" {
			r = iv.reas
		}
		rowsOut = append(rowsOut, []any{int64(iv.k.op), iv.status, r, q, ts(iv.from), to})
	}
	return copyRows(ctx, tx, "operator_status_changes", []string{"operator_id", "status", "reason", "queue", "from", "to"}, rowsOut)
}

package collector

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/linkage/linkage/auth"
	"time"

	"github.com/lib/pq"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/assemble"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/server"
	"github.com/linkage/linkage/internal/callstore"
)

// RebuildResult says what Rebuild did, per server summed.
type RebuildResult struct {
	Servers    int // servers rebuilt
	Events     int // journal events read
	Deleted    int // calls of the period removed
	Written    int // calls of the period written from the journal
	Unfinished int // calls of the period still in flight at the end of the journal (left as stored)
}

// RebuildMargin is how far before from the journal is read (events of one call may be
// stamped slightly out of order), and RebuildTail how long after to a call that
// started in the period may still be going on.
const (
	RebuildMargin = time.Minute
	RebuildTail   = 6 * time.Hour
)

// Rebuild re-assembles the calls that started in [from, to) from the journal (after an
// assembler fix) and replaces the stored calls of that period, per server in one
// transaction: readers see either the old calls or the new ones. serverID 0 means
// every server. Calls the journal does not finish (still in flight at its end) keep
// their stored row, if any; the live path writes them when they end.
//
// Run it while the server is ingested if need be: a call the live path finishes during
// the rebuild is written by whichever commits first, and the other does nothing.
func Rebuild(ctx context.Context, db *sql.DB, client *ent.Client, from, to time.Time, serverID int) (RebuildResult, error) {
	ctx = auth.SystemContext(ctx)
	var res RebuildResult
	if !from.Before(to) {
		return res, fmt.Errorf("collector: rebuild: empty period %s .. %s", from, to)
	}
	q := client.Server.Query()
	if serverID != 0 {
		q = q.Where(server.ID(serverID))
	}
	servers, err := q.All(ctx)
	if err != nil {
		return res, fmt.Errorf("collector: rebuild: servers: %w", err)
	}
	if serverID != 0 && len(servers) == 0 {
		return res, fmt.Errorf("collector: rebuild: no server %d", serverID)
	}
	store := callstore.New(db)
	c := &Collector{o: Options{DB: db, Client: client}}
	c.o.setDefaults()
	for _, s := range servers {
		r, err := rebuildServer(ctx, c, store, s, from.UTC(), to.UTC())
		if err != nil {
			return res, err
		}
		res.Servers++
		res.Events += r.Events
		res.Deleted += r.Deleted
		res.Written += r.Written
		res.Unfinished += r.Unfinished
	}
	return res, nil
}

func rebuildServer(ctx context.Context, c *Collector, store *callstore.Store, s *ent.Server, from, to time.Time) (RebuildResult, error) {
	var res RebuildResult
	db := c.o.DB
	var first sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT min(seq) FROM ami_journal WHERE server_id = $1 AND event_time >= $2 AND event_time < $3`,
		s.ID, from.Add(-RebuildMargin), to).Scan(&first); err != nil {
		return res, fmt.Errorf("collector: rebuild %d: %w", s.ID, err)
	}
	ops, trunks, err := c.assembleInputs(ctx, s)
	if err != nil {
		return res, err
	}
	var calls []*assemble.Call
	inPeriod := func(cl *assemble.Call) bool { return !cl.Start.Before(from) && cl.Start.Before(to) }
	unfinished := map[string]bool{}
	if first.Valid {
		asm := assemble.New(c.o.AssembleConfig(s, ops, trunks))
		stop := to.Add(RebuildTail)
		err := readJournal(ctx, db, s.ID, uint64(first.Int64), func(e *ami.Event) bool {
			res.Events++
			for _, o := range feed(asm, e) {
				if o.Call != nil && inPeriod(o.Call) {
					calls = append(calls, o.Call)
				}
			}
			return e.Time.Before(stop) || asm.InFlight() > 0 && e.Time.Before(stop.Add(RebuildTail))
		})
		if err != nil {
			return res, err
		}
		for _, o := range asm.Close() {
			if o.Call != nil && inPeriod(o.Call) {
				unfinished[o.Call.Linkedid] = true
				for _, l := range o.Call.Linkedids {
					unfinished[l] = true
				}
			}
		}
	}
	keep := make([]string, 0, len(unfinished))
	for l := range unfinished {
		keep = append(keep, l)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("collector: rebuild %d: %w", s.ID, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if _, err := tx.ExecContext(ctx, saveMissedSQL, s.ID, from, to, pq.Array(keep)); err != nil {
		return res, fmt.Errorf("collector: rebuild %d: save missed calls: %w", s.ID, err)
	}
	r, err := tx.ExecContext(ctx, `DELETE FROM calls WHERE server_id = $1 AND start >= $2 AND start < $3 AND linkedid <> ALL($4::text[])`,
		s.ID, from, to, pq.Array(keep))
	if err != nil {
		return res, fmt.Errorf("collector: rebuild %d: delete: %w", s.ID, err)
	}
	n, _ := r.RowsAffected()
	res.Deleted = int(n)
	if res.Written, err = store.Write(ctx, tx, s.ID, calls); err != nil {
		return res, fmt.Errorf("collector: rebuild %d: %w", s.ID, err)
	}
	if _, err := tx.ExecContext(ctx, restoreMissedSQL, s.ID); err != nil {
		return res, fmt.Errorf("collector: rebuild %d: restore missed calls: %w", s.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("collector: rebuild %d: commit: %w", s.ID, err)
	}
	res.Unfinished = len(unfinished)
	return res, nil
}

// Rebuilding deletes calls, and their missed-call rows with them (ON DELETE
// CASCADE); the re-stored calls bring the rows back unhandled. What people did with
// them (handled by hand with a comment, callbacks made) is not in the journal, so it
// is saved by linkedid before the delete and put back afterwards, together with
// links to handling calls that were re-stored under new ids.
const saveMissedSQL = `
CREATE TEMP TABLE rebuild_missed ON COMMIT DROP AS
SELECT c.linkedid, m.state, m.handled_how, m.handled_at, m.handled_by_id, m.comment, h.linkedid AS handled_linkedid,
       m.callback_attempts, m.last_callback_at
FROM missed_calls m
JOIN calls c ON c.id = m.call_id
LEFT JOIN calls h ON h.id = m.handled_call_id
WHERE m.server_id = $1 AND (
  c.start >= $2 AND c.start < $3 AND c.linkedid <> ALL($4::text[])
  OR h.server_id = $1 AND h.start >= $2 AND h.start < $3 AND h.linkedid <> ALL($4::text[]))`

const restoreMissedSQL = `
UPDATE missed_calls m SET state = r.state, handled_how = r.handled_how, handled_at = r.handled_at,
  handled_by_id = (SELECT u.id FROM users u WHERE u.id = r.handled_by_id), comment = r.comment,
  handled_call_id = (SELECT h.id FROM calls h WHERE h.server_id = $1 AND h.linkedid = r.handled_linkedid),
  callback_attempts = r.callback_attempts, last_callback_at = r.last_callback_at
FROM rebuild_missed r, calls c
WHERE c.server_id = $1 AND c.linkedid = r.linkedid AND m.call_id = c.id
  AND (r.state = 'handled' OR m.state = 'unhandled')` // never undo a handling the rebuild found

package collector

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/assemble"
)

// journalColumns are the COPY columns of ami_journal.
var journalColumns = []string{"server_id", "seq", "received_at", "event_time", "stamped", "name", "fields"}

// appendJournal COPYs events into the journal inside tx.
func appendJournal(ctx context.Context, tx *sql.Tx, serverID int, evs []ami.Event) error {
	if len(evs) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn("ami_journal", journalColumns...))
	if err != nil {
		return fmt.Errorf("collector: journal copy: %w", err)
	}
	defer stmt.Close()
	sid := int64(serverID)
	var buf []byte
	for i := range evs {
		e := &evs[i]
		buf = appendFields(buf[:0], e.Fields)
		t := e.Time
		if t.IsZero() {
			t = e.Received
		}
		if _, err := stmt.ExecContext(ctx, sid, int64(e.Seq), e.Received.UTC(), t.UTC(), e.Stamped, e.Name, string(buf)); err != nil {
			return fmt.Errorf("collector: journal copy: %w", err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return fmt.Errorf("collector: journal copy: %w", err)
	}
	return nil
}

// appendFields renders fields as the journal stores them: "Key: Value" lines, each
// ended by LF, in wire order.
func appendFields(b []byte, m ami.Message) []byte {
	for _, f := range m {
		b = append(b, f.Key...)
		b = append(b, ": "...)
		b = append(b, f.Value...)
		b = append(b, '\n')
	}
	return b
}

// fieldsOf parses the stored lines back into a message (the first ": " separates).
func fieldsOf(s string) ami.Message {
	m := make(ami.Message, 0, strings.Count(s, "\n"))
	for len(s) > 0 {
		line, rest, _ := strings.Cut(s, "\n")
		s = rest
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			k, v = strings.TrimSuffix(line, ":"), ""
		}
		m = append(m, ami.Field{Key: k, Value: v})
	}
	return m
}

// journalState reads where a server's journal stands: the next seq base (max seq) and
// the checkpoint to replay from (0 when there is none).
func journalState(ctx context.Context, db *sql.DB, serverID int) (maxSeq, checkpoint uint64, err error) {
	var m sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(seq) FROM ami_journal WHERE server_id = $1`, serverID).Scan(&m); err != nil {
		return 0, 0, fmt.Errorf("collector: journal max seq: %w", err)
	}
	var cp int64
	err = db.QueryRowContext(ctx, `SELECT seq FROM ami_checkpoints WHERE server_id = $1`, serverID).Scan(&cp)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, 0, fmt.Errorf("collector: checkpoint: %w", err)
	}
	return uint64(m.Int64), uint64(cp), nil
}

func saveCheckpoint(ctx context.Context, tx *sql.Tx, serverID int, seq uint64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO ami_checkpoints (server_id, seq, updated_at) VALUES ($1, $2, now())
		ON CONFLICT (server_id) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`, serverID, int64(seq))
	if err != nil {
		return fmt.Errorf("collector: checkpoint: %w", err)
	}
	return nil
}

// readJournal streams a server's journal from seq `from` in seq order, calling fn for
// each event until fn returns false.
func readJournal(ctx context.Context, db *sql.DB, serverID int, from uint64, fn func(*ami.Event) bool) error {
	rows, err := db.QueryContext(ctx, `SELECT seq, received_at, event_time, stamped, name, fields FROM ami_journal
		WHERE server_id = $1 AND seq >= $2 ORDER BY seq`, serverID, int64(from))
	if err != nil {
		return fmt.Errorf("collector: read journal: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq  int64
			e    ami.Event
			kv   string
			name string
		)
		if err := rows.Scan(&seq, &e.Received, &e.Time, &e.Stamped, &name, &kv); err != nil {
			return fmt.Errorf("collector: read journal: %w", err)
		}
		e.Seq, e.Name, e.Fields = uint64(seq), name, fieldsOf(kv)
		e.Received, e.Time = e.Received.UTC(), e.Time.UTC()
		if !fn(&e) {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("collector: read journal: %w", err)
	}
	return nil
}

// feed gives one event to the assembler. It is the only way events reach an
// assembler, live, on replay and on rebuild, so the three agree.
//
// The Conn's LinkageConnected marker means nothing was received between GapStart and
// GapEnd. The assembler only knows LinkageGap: when it has calls in flight (a
// reconnect, or a restart after a replay) the marker is fed as a gap so that the
// resync that follows closes the calls whose channels are gone.
func feed(a *assemble.Assembler, e *ami.Event) []assemble.Output {
	if e.Name == ami.EventConnected {
		if a.InFlight() == 0 {
			return nil
		}
		g := *e
		g.Name = ami.EventGap
		g.Fields = append(ami.Message{{Key: "Event", Value: ami.EventGap}}, e.Fields[1:]...)
		return a.Feed(&g)
	}
	return a.Feed(e)
}

// oldestInFlight is the assembler method the assembler's engineers are adding; until
// it is there the checkpoint falls back to "nothing in flight" points.
type oldestInFlight interface {
	OldestInFlightSeq() (uint64, bool)
}

// checkpointAfter is the journal seq a restart must replay from, after the events up
// to last were fed to a. prev is the previous checkpoint.
func checkpointAfter(a *assemble.Assembler, last, prev uint64) uint64 {
	if o, ok := any(a).(oldestInFlight); ok {
		if seq, inFlight := o.OldestInFlightSeq(); inFlight {
			return max(seq, prev)
		}
		return last + 1
	}
	if a.InFlight() == 0 {
		return last + 1
	}
	return prev
}

// lockKey is the advisory lock key of a server's pipeline (64-bit: server ids are
// large).
func lockKey(serverID int) int64 {
	h := fnv.New64a()
	h.Write([]byte("linkage/collector/" + strconv.Itoa(serverID)))
	return int64(h.Sum64())
}

// maintainPartitions creates the journal's daily partitions from today to ahead days
// on, and drops those entirely older than retention.
func maintainPartitions(ctx context.Context, db *sql.DB, now time.Time, ahead int, retention time.Duration) error {
	day := now.UTC().Truncate(24 * time.Hour)
	for i := -1; i <= ahead; i++ {
		d := day.AddDate(0, 0, i)
		name := partitionName(d)
		q := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF ami_journal FOR VALUES FROM ('%s') TO ('%s')`,
			pq.QuoteIdentifier(name), d.Format(time.RFC3339), d.AddDate(0, 0, 1).Format(time.RFC3339))
		if _, err := db.ExecContext(ctx, q); err != nil && !isDuplicate(err) {
			return fmt.Errorf("collector: create partition %s: %w", name, err)
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'ami_journal'`)
	if err != nil {
		return fmt.Errorf("collector: list partitions: %w", err)
	}
	var old []string
	cutoff := now.UTC().Add(-retention)
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		d, ok := partitionDay(n)
		if ok && !d.AddDate(0, 0, 1).After(cutoff) {
			old = append(old, n)
		}
	}
	rows.Close()
	for _, n := range old {
		if _, err := db.ExecContext(ctx, `DROP TABLE IF EXISTS `+pq.QuoteIdentifier(n)); err != nil {
			return fmt.Errorf("collector: drop partition %s: %w", n, err)
		}
	}
	return nil
}

func partitionName(d time.Time) string { return "ami_journal_" + d.Format("20060102") }

func partitionDay(name string) (time.Time, bool) {
	s, ok := strings.CutPrefix(name, "ami_journal_")
	if !ok {
		return time.Time{}, false
	}
	d, err := time.Parse("20060102", s)
	return d, err == nil
}

// isDuplicate reports the errors two processes creating the same partition may get.
func isDuplicate(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		switch pe.Code {
		case "42P07", "23505": // duplicate_table, unique_violation on pg_type
			return true
		}
	}
	return false
}

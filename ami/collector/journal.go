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

// execer is a *sql.DB (a block in its own transaction) or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// insertBlock stores one journal block. One row per batch instead of one per event
// is what lifts the journal from ~95k rows/s through COPY to the write rate of a few
// hundred KB of bytea (see BENCHMARKS-collector.md).
func insertBlock(ctx context.Context, db execer, serverID int, b *block) error {
	_, err := db.ExecContext(ctx, `INSERT INTO ami_journal_blocks
		(server_id, first_seq, last_seq, events, received_from, received_to, event_from, event_to, codec, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		serverID, int64(b.first), int64(b.last), b.events, b.recvFrom.UTC(), b.recvTo.UTC(), b.eventFrom.UTC(), b.eventTo.UTC(), b.codec, b.data)
	if err != nil {
		return fmt.Errorf("collector: journal block %d..%d: %w", b.first, b.last, err)
	}
	return nil
}

// journalState reads where a server's journal stands: the next seq base (max seq) and
// the checkpoint to replay from (0 when there is none).
func journalState(ctx context.Context, db *sql.DB, serverID int) (maxSeq, checkpoint uint64, err error) {
	var m sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(last_seq) FROM ami_journal_blocks WHERE server_id = $1`, serverID).Scan(&m); err != nil {
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
// each event until fn returns false. Blocks are fetched a few at a time (a cursor-less
// keyset walk on last_seq), so a long replay never holds more than a handful of
// decompressed blocks.
func readJournal(ctx context.Context, db *sql.DB, serverID int, from uint64, fn func(*ami.Event) bool) error {
	next := int64(from)
	for {
		var (
			blocks []storedBlock
			more   bool
		)
		rows, err := db.QueryContext(ctx, `SELECT last_seq, codec, data FROM ami_journal_blocks
			WHERE server_id = $1 AND last_seq >= $2 ORDER BY last_seq LIMIT $3`, serverID, next, readBlocks)
		if err != nil {
			return fmt.Errorf("collector: read journal: %w", err)
		}
		for rows.Next() {
			var sb storedBlock
			if err := rows.Scan(&sb.last, &sb.codec, &sb.data); err != nil {
				rows.Close()
				return fmt.Errorf("collector: read journal: %w", err)
			}
			blocks = append(blocks, sb)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("collector: read journal: %w", err)
		}
		more = len(blocks) == readBlocks
		for _, sb := range blocks {
			text, err := decompress(sb.codec, sb.data)
			if err != nil {
				return fmt.Errorf("collector: read journal block ..%d: %w", sb.last, err)
			}
			goOn, err := decodeBlock(text, func(e *ami.Event) bool {
				if e.Seq < from {
					return true
				}
				return fn(e)
			})
			if err != nil {
				return fmt.Errorf("collector: read journal block ..%d: %w", sb.last, err)
			}
			if !goOn {
				return nil
			}
			next = sb.last + 1
		}
		if !more {
			return nil
		}
	}
}

// readBlocks is how many blocks one journal query fetches (5,000 events each at most).
const readBlocks = 8

type storedBlock struct {
	last  int64
	codec string
	data  []byte
}

// firstSeqAt is the seq of the first journaled event (in seq order) whose time is in
// [from, to), and false when there is none. Blocks index their event-time range, so
// only the blocks that overlap it are decoded, a few at a time: usually the first
// one has such an event.
func firstSeqAt(ctx context.Context, db *sql.DB, serverID int, from, to time.Time) (uint64, bool, error) {
	next := int64(0)
	for {
		rows, err := db.QueryContext(ctx, `SELECT last_seq, codec, data FROM ami_journal_blocks
			WHERE server_id = $1 AND event_to >= $2 AND event_from < $3 AND last_seq >= $4 ORDER BY last_seq LIMIT $5`,
			serverID, from, to, next, readBlocks)
		if err != nil {
			return 0, false, fmt.Errorf("collector: journal period: %w", err)
		}
		var blocks []storedBlock
		for rows.Next() {
			var sb storedBlock
			if err := rows.Scan(&sb.last, &sb.codec, &sb.data); err != nil {
				rows.Close()
				return 0, false, fmt.Errorf("collector: journal period: %w", err)
			}
			blocks = append(blocks, sb)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, false, fmt.Errorf("collector: journal period: %w", err)
		}
		for _, sb := range blocks {
			text, err := decompress(sb.codec, sb.data)
			if err != nil {
				return 0, false, err
			}
			var seq uint64
			found := false
			if _, err := decodeBlock(text, func(e *ami.Event) bool {
				if t := eventTime(e); !t.Before(from) && t.Before(to) {
					seq, found = e.Seq, true
					return false
				}
				return true
			}); err != nil {
				return 0, false, err
			}
			if found {
				return seq, true, nil
			}
			next = sb.last + 1
		}
		if len(blocks) < readBlocks {
			return 0, false, nil
		}
	}
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

// maintainPartitions creates the journal's daily partitions from yesterday to ahead
// days on, and drops those entirely older than retention. A block lives in the
// partition of its first event's receive time.
func maintainPartitions(ctx context.Context, db *sql.DB, now time.Time, ahead int, retention time.Duration) error {
	day := now.UTC().Truncate(24 * time.Hour)
	for i := -1; i <= ahead; i++ {
		d := day.AddDate(0, 0, i)
		name := partitionName(d)
		q := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF ami_journal_blocks FOR VALUES FROM ('%s') TO ('%s')`,
			pq.QuoteIdentifier(name), d.Format(time.RFC3339), d.AddDate(0, 0, 1).Format(time.RFC3339))
		if _, err := db.ExecContext(ctx, q); err != nil && !isDuplicate(err) {
			return fmt.Errorf("collector: create partition %s: %w", name, err)
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'ami_journal_blocks'`)
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

func partitionName(d time.Time) string { return "ami_journal_blocks_" + d.Format("20060102") }

func partitionDay(name string) (time.Time, bool) {
	s, ok := strings.CutPrefix(name, "ami_journal_blocks_")
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

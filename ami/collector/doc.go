// Package collector runs one ingestion pipeline per enabled Asterisk server: the AMI
// connection, an ordered worker that journals every raw event and feeds the server's
// assembler, and two writers that store journal blocks, and finished calls with
// operator status intervals, in PostgreSQL.
//
// # Pipeline
//
//	ami.Conn (its socket reader never blocks; bounded queue, overflow -> LinkageGap + resync)
//	   │ Events()
//	   ▼
//	worker (one goroutine per server, in order): renumber Seq, keep the raw event for the
//	   │    journal, Feed the assembler, collect calls and notifications, hand the live
//	   │    outputs to the Sink's queue (dropped and counted when full, never waited for)
//	   ▼ batches (BatchSize events or FlushInterval), two waiting at most
//	journal writer (one per server, own connection): render the batch's events as one
//	   │    block, compress it, INSERT it (a transaction of its own), mark it journaled;
//	   │    the batch goes on to the calls writer as soon as it arrives, two waiting
//	   ▼    at most
//	calls writer (one per server, own connection): one transaction per batch: insert
//	        new calls with children; operator status intervals; upsert the checkpoint;
//	        wait until the batch's block is journaled; COMMIT
//
// When the writers fall behind, the worker waits for them and the Conn's queue fills;
// past its bound the Conn drops events and reports a gap, which the assembler turns
// into Incomplete calls. Nothing downstream ever stalls the socket reader.
//
// # Journal
//
// ami_journal_blocks keeps every event received, one row per batch of a server (a
// block): the events' wire text with their seq, receive time, event time and stamped
// flag, compressed (S2), with the block's first and last seq, event count and receive
// and event time ranges as columns. It is partitioned by day of the block's first
// receive time; the collector creates partitions ahead and drops whole days past
// JournalRetention. block.go has the format. Nothing is filtered out: the journal is
// the record of what Asterisk said, whatever the assembler makes of it.
//
// # Sequences
//
// The journal's seq is per server and keeps increasing across restarts: a pipeline
// reads the max(last_seq) of its server's blocks when it becomes active and adds it to the Conn's own
// Seq (which restarts at 1 for every Conn). The assembler sees the journal seq.
//
// # Recovery guarantees, in order
//
//  1. A batch's journal block commits before the calls finished by its events and
//     the checkpoint that covers them, which commit together in one transaction:
//     the checkpoint never passes an event that is not durable in the journal. If the
//     process dies between the two commits, the calls are not lost: the block is
//     after the old checkpoint, so the replay (3.) finishes them again. A block that
//     fails is retried, and the calls transaction waits for it.
//  2. The checkpoint is the oldest journal seq that a restart needs: the smallest Seq
//     of any event of a call still in flight (assembler OldestInFlightSeq), or the
//     last seq + 1 when nothing is in flight. With an assembler that cannot tell
//     (OldestInFlightSeq not available), the checkpoint only advances at batch ends
//     where nothing is in flight, which is correct but replays more.
//  3. On start (and on taking over from another process) the pipeline replays the
//     journal from the checkpoint through a fresh assembler before connecting. Calls
//     it finishes are written idempotently (ON CONFLICT (server_id, linkedid) DO
//     NOTHING), so calls already stored are not duplicated; calls still in flight at
//     the end of the replay go on with the live events.
//  4. Events received but not yet committed when the process dies are lost (AMI has
//     no replay); the new connection's marker is fed to the assembler as a gap, and
//     the resync closes calls whose channels are gone, flagged Incomplete with the gap.
//
// # One collector per server
//
// A pipeline holds pg_try_advisory_lock(key of the server id) on a dedicated
// connection while it is active. A process that cannot get the lock stands by and
// retries every LockRetry; if the lock connection dies the pipeline stops writing at
// once (it no longer owns the server) and goes back to standby.
package collector

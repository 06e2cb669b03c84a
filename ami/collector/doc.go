// Package collector runs one ingestion pipeline per enabled Asterisk server: the AMI
// connection, an ordered worker that journals every raw event and feeds the server's
// assembler, and a writer that stores journal rows, finished calls and operator status
// intervals in PostgreSQL.
//
// # Pipeline
//
//	ami.Conn (never blocks amigo; bounded queue, overflow -> LinkageGap + resync)
//	   │ Events()
//	   ▼
//	worker (one goroutine per server, in order): renumber Seq, keep the raw event for the
//	   │    journal, Feed the assembler, collect calls and notifications, hand the live
//	   │    outputs to the Sink's queue (dropped and counted when full, never waited for)
//	   ▼ batches (BatchSize events or FlushInterval), two in flight at most
//	writer (one per server): one transaction per batch:
//	        COPY journal rows; insert new calls with children; operator status
//	        intervals; upsert the checkpoint; COMMIT
//
// When the writer falls behind, the worker waits for it and the Conn's queue fills;
// past its bound the Conn drops events and reports a gap, which the assembler turns
// into Incomplete calls. Nothing downstream ever stalls the socket reader.
//
// # Sequences
//
// The journal's seq is per server and keeps increasing across restarts: a pipeline
// reads max(seq) of its server when it becomes active and adds it to the Conn's own
// Seq (which restarts at 1 for every Conn). The assembler sees the journal seq.
//
// # Recovery guarantees, in order
//
//  1. A journal row, the calls finished by the events up to it, and the checkpoint
//     that covers them are committed in one transaction: either all are durable or
//     none.
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

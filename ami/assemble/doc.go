// Package assemble turns one Asterisk server's AMI events into calls.
//
// It is pure and deterministic: events in (in arrival order, one goroutine per server),
// finished Call records and live Notifications out, no I/O and no wall clock. It can
// therefore be golden-tested on captures, benchmarked alone, and replayed from the
// journal to rebuild calls after a fix.
//
//	a := assemble.New(cfg)
//	for ev := range events {
//		for _, out := range a.Feed(ev) { ... out.Call / out.Note ... }
//	}
//	a.Close() // end what is still in flight (a capture file ended)
//
// # Grouping
//
// Channels are grouped by Linkedid (asterisk-ami-reference.md §2.4). What changes the
// grouping is followed: Local pairs (;1/;2, paired by name and LocalBridge) are seen
// through to the phone they dial; Local optimisation needs nothing special because the
// linkedid does not change and BridgeEnter ... SwapUniqueid just puts the phone in the
// caller's bridge; a channel whose events start carrying another Linkedid (SIP attended
// transfer, Bridge(), pickup: there is no event for it, §4.2) moves into the call that
// owns the new linkedid, and the call it left is linked to it (Parent / Linkedids).
// Asterisk 11 streams (no Linkedid) are grouped by Dial, LocalBridge and Bridge Link, and
// Masquerade/Rename move identities the way app_queue and chan_local did then.
//
// A SIP attended transfer leaves two records: the customer call, with the transfer and
// the consultation's linkedid in Linkedids, and the consultation call as an internal
// call whose Parent is the customer call's linkedid. A DTMF attended transfer happens
// inside one linkedid and leaves one record.
//
// # Times
//
// An event's time is its Timestamp header (Stamped), else its receive time, else (a
// capture without either) the newest uniqueid creation epoch seen. Durations are whole
// seconds, truncated like Asterisk's own. Without timestamps the durations Asterisk
// reports are used instead (AgentConnect HoldTime, AgentComplete TalkTime,
// QueueCallerAbandon HoldTime, AgentRingNoAnswer RingTime) and the call is flagged
// ApproximateTimes.
//
// # Definitions
//
//   - Start: the first channel's creation; End: the last channel's Hangup.
//   - Answered: the first real party (not a Local half, not the originator's own phone in
//     a click-to-dial) that went Up after being dialled, or AgentConnect.
//   - WaitSeconds: for queue calls the sum of the queue waits up to the answering visit
//     (AgentConnect/QueueCallerAbandon HoldTime); otherwise Start to answer (or to End).
//   - TalkSeconds: answer to the end of the caller's last conversation (the last bridge
//     it left), hold and transfers included. Legs carry per-party talk, with
//     AgentComplete's TalkTime for queue legs.
//   - HoldSeconds: Hold..Unhold on any channel of the call (an Unhold without Hold, which
//     every transfer sends, is ignored).
//   - HangupBy: the last HangupRequest of a bridged party (reference §3.l), else
//     AgentComplete's Reason, else the first to leave the last two-party bridge, else
//     (unanswered) the caller's HangupRequest or how the dial ended.
//   - MissedByOperators: operators that rang and never answered, except those cancelled
//     because a colleague answered first.
//   - A QueueCallerAbandon is an abandon only if the caller's HangupRequest came first;
//     QUEUESTATUS (TIMEOUT, LEAVEEMPTY, JOINEMPTY, FULL, WITHDRAW) or later activity of the
//     caller's channel turns it into a timeout/empty/... (reference §3.c).
//
// # Gaps
//
// The collector reports lost connections with a LinkageGap event and a marked
// CoreShowChannels resync; see the contract in resync.go (gapState).
//
// # Duplicates and replay
//
// An event whose Seq was already fed among the last 32 is dropped (a retry, a journal
// read twice); events without Seq are compared by content instead. Two events with the
// same content but different Seq are both handled: without a Timestamp header, distinct
// events (app_queue's CANCELs to two members, a second Hold) can be identical.
//
// OldestInFlightSeq says where a journal replay must start so that a fresh assembler
// rebuilds every call in flight: the smallest Seq any of them was built from. Records
// of calls that had finished before that point can come out again as fragments (their
// last events only); the collector must not let them overwrite what it wrote.
package assemble

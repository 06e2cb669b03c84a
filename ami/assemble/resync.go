package assemble

import (
	"sort"
	"time"
)

// Gaps and resynchronisation: the contract with the collector.
//
// AMI has no replay (reference §4.8). When the collector loses the connection it feeds,
// in stream order:
//
//  1. Event "LinkageGap" with GapStart and GapEnd (RFC 3339 or "<epoch>.<usec>") and a
//     free-text Reason, as soon as it is reconnected and before any event of the new
//     session. Every call in flight is now marked Incomplete (events were lost), and
//     the assembler waits for the resync list.
//  2. The CoreShowChannels reply of the new session: one "CoreShowChannel" per live
//     channel and a closing "CoreShowChannelsComplete", each carrying the header
//     "LinkageResync: 1" (the collector adds it; it is how these are told apart from
//     somebody else's polling, which the lab captures are full of). QueueEntry items of a
//     QueueStatus resync may carry it too; they only count as "still alive".
//  3. At CoreShowChannelsComplete every channel the assembler had open and that was not
//     listed is considered hung up at GapStart (the last moment it was known to exist):
//     calls left without channels are finished with Incomplete=true and the gap as
//     IncompleteReason. A listed channel the assembler did not know started during the
//     gap: it is created from its snapshot, and its call is flagged the same way.
//
// Without step 2 (a collector that cannot resync) calls stay open until their channels
// hang up or Flush ends them.
type gapState struct {
	start, end time.Time
	seq        uint64 // the LinkageGap event's Seq: resync items only count after it
	why        string
	resyncing  bool
	listed     map[string]bool
}

func (g *gapState) reason() string {
	if g == nil {
		return ""
	}
	s := "gap " + g.start.Format(time.RFC3339) + " – " + g.end.Format(time.RFC3339)
	if g.why != "" {
		s += ": " + g.why
	}
	return s
}

func parseGapTime(s string) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	if t, ok := parseEpoch(s); ok {
		return t
	}
	return time.Time{}
}

func (a *Assembler) onGap(ev *evCtx) {
	g := &gapState{
		start:     parseGapTime(ev.get("GapStart")),
		end:       parseGapTime(ev.get("GapEnd")),
		why:       ev.get("Reason"),
		seq:       ev.e.Seq,
		resyncing: true,
		listed:    map[string]bool{},
	}
	if g.start.IsZero() {
		g.start = a.clock
	}
	if g.end.IsZero() {
		g.end = ev.t
	}
	a.gap = g
	for id, c := range a.calls {
		if c.id() == id {
			c.gapAffected = true
		}
	}
}

func (a *Assembler) onResyncItem(ev *evCtx) {
	if a.gap == nil || !a.gap.resyncing || ev.get("LinkageResync") != "1" {
		return
	}
	uid := ev.get("Uniqueid")
	if uid == "" {
		return
	}
	a.gap.listed[uid] = true
	if ev.e.Name == "CoreShowChannel" {
		known := a.chans[uid] != nil
		if ch := a.snapshot(ev, pNone); ch != nil && ch.call != nil {
			ch.call.gapAffected = true
			// A replay that starts at this item would ignore it (no gap pending): the
			// call needs the LinkageGap too (OldestInFlightSeq).
			ch.call.firstSeq = min(ch.call.firstSeq, a.gap.seq)
			if !known {
				// A channel we never saw: its call began while we were away.
				ch.call.startedInGap = true
			}
		}
	}
}

func (a *Assembler) onResyncDone(ev *evCtx) {
	g := a.gap
	if g == nil || !g.resyncing || ev.get("LinkageResync") != "1" {
		return
	}
	g.resyncing = false
	var dead []*channel
	for uid, ch := range a.chans {
		if !g.listed[uid] {
			dead = append(dead, ch)
		}
	}
	// Map order is random; hang up in uniqueid order so output is deterministic.
	sort.Slice(dead, func(i, j int) bool { return olderUniqueid(dead[i].uid, dead[j].uid) })
	at := evCtx{e: ev.e, t: g.start, approx: ev.approx}
	for _, ch := range dead {
		if ch.call == nil || a.chans[ch.uid] != ch {
			continue
		}
		c := ch.call
		c.gapAffected = true
		c.rec.Incomplete = true
		c.rec.IncompleteReason = "ended during " + g.reason()
		a.hangup(ch, &at)
	}
	g.listed = nil
}

// Flush ends every call still in flight, as of now, flagged Incomplete: the input ended
// (a capture file) or the caller gives up on them. Calls come out oldest first.
func (a *Assembler) Flush(now time.Time) []Output {
	a.out = a.out[:0]
	var open []*callState
	for id, c := range a.calls {
		if c.id() == id {
			open = append(open, c)
		}
	}
	sort.Slice(open, func(i, j int) bool { return olderUniqueid(open[i].id(), open[j].id()) })
	for _, c := range open {
		if now.IsZero() || now.Before(c.lastTime) {
			now = c.lastTime
		}
		c.rec.Incomplete = true
		if c.rec.IncompleteReason == "" {
			c.rec.IncompleteReason = "still in flight when the input ended"
		}
		for _, ch := range c.chans {
			delete(a.chans, ch.uid)
			delete(a.dests, ch)
			if a.names[ch.name] == ch {
				delete(a.names, ch.name)
			}
		}
		a.finish(c, now)
	}
	return a.out
}

// Close ends everything in flight at the time of the last event (see Flush).
func (a *Assembler) Close() []Output { return a.Flush(a.clock) }

// snapshotKeys are the headers of a channel snapshot; a captured UserEvent copies every
// other header.
var snapshotKeys = map[string]bool{
	"Event": true, "Privilege": true, "Timestamp": true, "UserEvent": true, "Channel": true,
	"ChannelState": true, "ChannelStateDesc": true, "CallerIDNum": true, "CallerIDName": true,
	"ConnectedLineNum": true, "ConnectedLineName": true, "Language": true, "AccountCode": true,
	"Context": true, "Exten": true, "Priority": true, "Uniqueid": true, "Linkedid": true,
	"SystemName": true, "ActionID": true,
}

func (a *Assembler) onUserEvent(ev *evCtx) {
	name := ev.get("UserEvent")
	if !a.dir.userEvents[name] {
		return
	}
	ch := a.snapshot(ev, pNone)
	if ch == nil {
		return
	}
	c := ch.call
	if c.rec.Custom == nil {
		c.rec.Custom = map[string]string{}
	}
	for _, f := range ev.e.Fields {
		if snapshotKeys[f.Key] {
			continue
		}
		c.rec.Custom[name+"."+f.Key] = f.Value
	}
}

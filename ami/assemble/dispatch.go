package assemble

import (
	"hash/maphash"
	"strings"

	"github.com/linkage/linkage/ami"
)

type handler uint8

const (
	hNone handler = iota
	hNewchannel
	hNewstate
	hNewCallerid
	hNewexten
	hVarSet
	hDialBegin
	hDialEnd
	hDial11
	hHangupRequest
	hHangup
	hBridgeEnter
	hBridgeLeave
	hBridgeDestroy
	hBridge11
	hLocalBridge
	hMasquerade
	hRename
	hHold
	hUnhold
	hQueueCallerJoin
	hQueueCallerLeave
	hQueueCallerAbandon
	hAgentCalled
	hAgentConnect
	hAgentComplete
	hAgentRingNoAnswer
	hAgentDump
	hBlindTransfer
	hAttendedTransfer
	hTransfer11
	hMember
	hUserEvent
	hGap
	hResyncItem
	hResyncDone
)

// handlerOf maps an event name to its handler. Most of a real stream (RTCP, CEL, Cdr,
// DeviceStateChange, DTMF, security events) is dropped here, before any field is read,
// which is what keeps the assembler fast.
func handlerOf(name string) handler {
	switch name {
	case "Newchannel":
		return hNewchannel
	case "Newstate":
		return hNewstate
	case "NewCallerid":
		return hNewCallerid
	case "Newexten", "NewExten":
		return hNewexten
	case "VarSet":
		return hVarSet
	case "DialBegin":
		return hDialBegin
	case "DialEnd":
		return hDialEnd
	case "Dial":
		return hDial11
	case "HangupRequest":
		return hHangupRequest
	case "Hangup":
		return hHangup
	case "BridgeEnter":
		return hBridgeEnter
	case "BridgeLeave":
		return hBridgeLeave
	case "BridgeDestroy":
		return hBridgeDestroy
	case "Bridge":
		return hBridge11
	case "LocalBridge":
		return hLocalBridge
	case "Masquerade":
		return hMasquerade
	case "Rename":
		return hRename
	case "Hold":
		return hHold
	case "Unhold":
		return hUnhold
	case "QueueCallerJoin", "Join":
		return hQueueCallerJoin
	case "QueueCallerLeave", "Leave":
		return hQueueCallerLeave
	case "QueueCallerAbandon":
		return hQueueCallerAbandon
	case "AgentCalled":
		return hAgentCalled
	case "AgentConnect":
		return hAgentConnect
	case "AgentComplete":
		return hAgentComplete
	case "AgentRingNoAnswer":
		return hAgentRingNoAnswer
	case "AgentDump":
		return hAgentDump
	case "BlindTransfer":
		return hBlindTransfer
	case "AttendedTransfer":
		return hAttendedTransfer
	case "Transfer":
		return hTransfer11
	case "QueueMemberStatus", "QueueMemberAdded", "QueueMemberRemoved", "QueueMemberPause", "QueueMemberPaused", "QueueMember":
		return hMember
	case "UserEvent":
		return hUserEvent
	case "LinkageGap":
		return hGap
	case "CoreShowChannel", "QueueEntry":
		return hResyncItem
	case "CoreShowChannelsComplete":
		return hResyncDone
	case "RTCPSent", "RTCPReceived", "Cdr", "CEL", "DeviceStateChange", "DTMFBegin", "DTMFEnd",
		"NewConnectedLine", "NewAccountCode", "MusicOnHoldStart", "MusicOnHoldStop", "DialState",
		"BridgeCreate", "QueueParams", "QueueSummary", "Status", "StatusComplete", "SuccessfulAuth",
		"ExtensionStatus", "LocalOptimizationBegin", "LocalOptimizationEnd", "SoftHangupRequest",
		"MixMonitorStart", "FullyBooted", "BridgeMerge", "BridgeListItem", "BridgeListComplete":
		return hNone
	}
	// Names are case-insensitive on the wire in principle (Newexten vs NewExten).
	if l := strings.ToLower(name); l != name {
		for _, n := range [...]string{"Newexten", "Newchannel", "Hangup", "VarSet", "DialBegin", "DialEnd", "BridgeEnter", "BridgeLeave"} {
			if strings.ToLower(n) == l {
				return handlerOf(n)
			}
		}
	}
	return hNone
}

// prefix selects a snapshot prefix (reference §2.2).
type prefix uint8

const (
	pNone prefix = iota
	pDest
	pLocalOne
	pLocalTwo
	pTransferer
	pTransferee
	pOrigTransferer
	pSecondTransferer
	pTransferTarget
	nPrefixes
)

// snapKeys are the snapshot header names for one prefix, built once so lookups do not
// concatenate strings per event.
type snapKeys struct {
	channel, uniqueid, linkedid, context, exten, cidNum, cidName string
}

var keys = func() [nPrefixes]snapKeys {
	names := [nPrefixes]string{"", "Dest", "LocalOne", "LocalTwo", "Transferer", "Transferee", "OrigTransferer", "SecondTransferer", "TransferTarget"}
	var k [nPrefixes]snapKeys
	for i, p := range names {
		k[i] = snapKeys{p + "Channel", p + "Uniqueid", p + "Linkedid", p + "Context", p + "Exten", p + "CallerIDNum", p + "CallerIDName"}
	}
	return k
}()

// dedupRing drops exact duplicates (reference §4.4: a collector that retries, a journal
// replayed twice) among the last 32 events. Events from the collector carry Seq, unique
// per server across reconnects: the same Seq is the same event, and nothing is hashed.
// Events without Seq fall back to a hash of every value. Legitimate repeats such as
// app_queue's double DialEnd CANCEL are harmless to drop: handling is idempotent.
//
// What the simulator's unstamped events showed about the previous hash: it covered only
// the first and last eight lines of long events, so app_queue's DialEnd CANCELs to two
// members (they differ in the middle, DestChannel and DestUniqueid) were taken for
// repeats; and it mixed the event name in twice (as the name and as the Event line)
// with XOR, which cancelled out for about one seed in four, so an Unhold was taken for
// the same channel's earlier Newstate (identical snapshot without a Timestamp) and the
// hold ran to the hangup. Both only need events without Timestamp; both are gone.
type dedupRing struct {
	seed   maphash.Seed
	seeded bool
	h      [32]uint64
	n      int
}

func (d *dedupRing) seen(e *ami.Event) bool {
	var h uint64
	if e.Seq != 0 {
		// Even numbers: never equal to a content hash (odd), and never zero.
		h = e.Seq << 1
	} else {
		if !d.seeded {
			d.seed, d.seeded = maphash.MakeSeed(), true
		}
		// maphash.String per value is several times cheaper than streaming every byte
		// through a maphash.Hash; key lengths stand in for the keys (their order and
		// values are what differ between events).
		fs := e.Fields
		// The name is multiplied in before the lines are XORed in: the Event line
		// repeats it, and XORing the same hash twice would cancel it out.
		h = maphash.String(d.seed, e.Name)*0x100000001b3 + uint64(len(fs))
		for _, f := range fs {
			h = (h^maphash.String(d.seed, f.Value))*0x100000001b3 + uint64(len(f.Key))
		}
		h |= 1
	}
	for _, x := range d.h {
		if x == h {
			return true
		}
	}
	d.h[d.n%len(d.h)] = h
	d.n++
	return false
}

// goneSet remembers recently hung-up uniqueids (bounded FIFO), so that an event that
// arrives after its channel's Hangup (reference §4.4) does not resurrect the channel as
// a new call.
type goneSet struct {
	m    map[string]struct{}
	ring []string
	i    int
}

func newGoneSet(n int) goneSet {
	return goneSet{m: make(map[string]struct{}, n), ring: make([]string, n)}
}

func (g *goneSet) add(uid string) {
	if old := g.ring[g.i]; old != "" {
		delete(g.m, old)
	}
	g.ring[g.i] = uid
	g.m[uid] = struct{}{}
	g.i = (g.i + 1) % len(g.ring)
}

func (g *goneSet) has(uid string) bool {
	_, ok := g.m[uid]
	return ok
}

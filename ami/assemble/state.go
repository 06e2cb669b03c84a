package assemble

import (
	"time"
)

// channel is the compact state kept per live channel. No raw events are kept: only what
// later events or the final record need.
type channel struct {
	uid     string
	name    string
	device  string // endpoint: "PJSIP/1001", "Local/1001@agents"
	kind    Kind
	local   int8     // 1 or 2 for the halves of a Local pair, else 0
	peer    *channel // the other Local half
	call    *callState
	up      bool // went Up
	cidNum  string
	cidName string
	exten   string // exten at creation (the DID on an inbound trunk channel)
	context string
	// dialString is how this channel was dialled; lastDest is the last channel this
	// channel dialled (Local ;2 -> phone), used to see through Local pairs.
	dialString string
	dialedBy   *channel
	lastDest   *channel
	bridge     *bridge
	bpeer      *channel // Asterisk 11 Bridge Link partner
	holdAt     int64    // unix nanoseconds: 8 bytes instead of time.Time's 24
	onHold     bool
	hangupReq  bool
	answered   bool  // answer() ran for it
	transferer bool  // it transferred the call: its leaving is not a hangup
	ring       int32 // index+1 into call.rings
	attempt    int32 // index+1 into call.rec.Attempts
	leg        int32 // index+1 into call.rec.Legs
	queueApp   string
}

type bridge struct {
	id      string
	members []*channel
}

// ring is one direct ring of a real party (queue member phones included).
type ring struct {
	party  Party
	op     bool
	start  time.Time
	status string // ANSWER, BUSY, NOANSWER, CANCEL, CONGESTION, CHANUNAVAIL, FORWARD
}

// callState is one call in flight.
type callState struct {
	rec    Call
	origin *channel
	live   int
	// firstSeq is the smallest ami.Event.Seq whose event this call's state depends on:
	// the event that created it, lowered by every call merged or moved into it
	// (OldestInFlightSeq).
	firstSeq uint64
	chans    []*channel // live channels, for resync

	answeredAt time.Time
	answered   bool
	rings      []ring

	originReq    bool     // the origin channel got a HangupRequest
	lastReq      *channel // last HangupRequest of a talking (bridged) party
	lastReqRole  string
	leaver       *channel
	leaverRole   string // role of the first to leave the last two-party bridge
	unlink       [2]*channel
	unlinkRole   string
	agentReason  string
	originDial   string // last DialEnd status of a dial made by the origin side
	pendingBlind int
	talkEnd      time.Time
	hold         time.Duration
	lastTime     time.Time
	provisional  int // index+1 of a visit whose "abandoned" is not yet proven
	gapAffected  bool
	// noClock: some event had neither Timestamp nor receive time (a stripped capture);
	// durations then come only from what Asterisk reports.
	noClock      bool
	startedInGap bool
	// aliases are group ids merged into this call that are not linkedids (Asterisk 11
	// groups channels by creation, not by linkedid).
	aliases []string
}

func (c *callState) id() string { return c.rec.Linkedid }

func (c *callState) addLinkedid(id string) {
	for _, x := range c.rec.Linkedids {
		if x == id {
			return
		}
	}
	c.rec.Linkedids = append(c.rec.Linkedids, id)
}

func (c *callState) removeLive(ch *channel) {
	for i, x := range c.chans {
		if x == ch {
			c.chans[i] = c.chans[len(c.chans)-1]
			c.chans[len(c.chans)-1] = nil
			c.chans = c.chans[:len(c.chans)-1]
			break
		}
	}
	c.live--
}

// openVisit returns the last visit of queue that has not been left yet, or the last
// visit of queue if all were left (AgentConnect comes after QueueCallerLeave).
func (c *callState) visit(queue string, open bool) *QueueVisit {
	for i := len(c.rec.Visits) - 1; i >= 0; i-- {
		v := &c.rec.Visits[i]
		if v.Queue != queue && queue != "" {
			continue
		}
		if open && !v.Leave.IsZero() {
			continue
		}
		return v
	}
	return nil
}

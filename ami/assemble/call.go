package assemble

import "time"

// CallType says which way a call went, seen from the call center.
type CallType string

// Call types. A call is inbound when its first real channel is a trunk, outbound when an
// internal party reached a trunk, internal otherwise.
const (
	Inbound  CallType = "inbound"
	Outbound CallType = "outbound"
	Internal CallType = "internal"
)

// Status is whether anybody answered.
type Status string

// Call statuses.
const (
	StatusAnswered Status = "answered"
	StatusMissed   Status = "missed"
)

// Missed reasons: why an unanswered call (or queue visit) ended. They are the values
// supervisors filter on, so they are few and stable.
const (
	ReasonAbandoned = "abandoned" // the caller hung up while waiting (queue or IVR)
	ReasonNoAnswer  = "noanswer"  // the callee rang out
	ReasonBusy      = "busy"      // the callee rejected or was busy
	ReasonCancelled = "cancelled" // the caller hung up while a direct dial was ringing
	ReasonTimeout   = "timeout"   // the queue's own timeout expired (QUEUESTATUS=TIMEOUT)
	ReasonFailed    = "failed"    // congestion, unavailable, or nothing was dialled
	ReasonEmpty     = "empty"     // the queue had no usable members (JOINEMPTY/LEAVEEMPTY)
	ReasonFull      = "full"      // the queue was full (QUEUESTATUS=FULL)
	ReasonWithdrawn = "withdrawn" // QueueWithdrawCaller took the caller out
)

// ReasonAnswered is the visit and attempt result for an answer.
const ReasonAnswered = "answered"

// Who hung up.
const (
	ByCaller   = "caller"
	ByCallee   = "callee"
	ByOperator = "operator"
	BySystem   = "system"
	ByUnknown  = "unknown"
)

// Party is one side of a call as a supervisor reads it: a number, a name, and the device
// (endpoint, e.g. "PJSIP/1002") it was reached on. Any field may be empty.
type Party struct {
	Number string `json:"number"`
	Name   string `json:"name"`
	Device string `json:"device"`
}

// IsZero reports whether nothing is known about the party.
func (p Party) IsZero() bool { return p.Number == "" && p.Name == "" && p.Device == "" }

// QueueVisit is one stint of the caller in one queue (QueueCallerJoin ... Leave). A call
// that re-enters a queue has one visit per entry.
type QueueVisit struct {
	Queue    string
	Join     time.Time
	Leave    time.Time // zero while waiting
	Position int       // position at join (0 when the queue refused the caller)
	// Result is answered, abandoned, timeout, empty, full, withdrawn, or transferred
	// (left the queue without an answer and without an abandon: exit digit, redirect).
	Result      string
	WaitSeconds int
}

// QueueAttempt is one ring of one member for one visit (AgentCalled and what followed).
type QueueAttempt struct {
	Queue     string
	Operator  Party
	Interface string // queue member interface, e.g. "Local/1001@agents/n"
	RingStart time.Time
	RingEnd   time.Time
	// Result is answered, noanswer (AgentRingNoAnswer), busy, dump (AgentDump) or
	// cancelled (the queue stopped ringing: someone else answered, the caller left).
	Result      string
	RingSeconds int
}

// Leg is the part of a call one answering party (usually an operator) took part in.
type Leg struct {
	Party                  Party
	Queue                  string
	RingStart              time.Time
	Answered               time.Time
	End                    time.Time
	WaitSeconds            int
	TalkSeconds            int
	HoldSeconds            int
	TalkWithoutHoldSeconds int
	TransferredTo          *Party // set when this party transferred the call away
}

// Transfer is one transfer of the call.
type Transfer struct {
	Type     string    `json:"type"` // blind, attended or blonde
	By       Party     `json:"by"`
	To       Party     `json:"to"`
	Answered bool      `json:"answered"`
	At       time.Time `json:"-"`
}

// Transfer types.
const (
	TransferBlind    = "blind"
	TransferAttended = "attended"
	TransferBlonde   = "blonde"
)

// Call is one finished (or given-up) call: everything a report or a CRM needs, computed
// once from the events.
type Call struct {
	Server    string
	Linkedid  string   // the call's key: the oldest linkedid
	Linkedids []string // every linkedid that was merged into or linked to this call
	Start     time.Time
	Answered  *time.Time
	End       time.Time
	Type      CallType
	Status    Status
	// MissedReason is set for missed calls only.
	MissedReason string
	Caller       Party
	Dialed       string // DID for inbound calls, the dialled number otherwise
	// Callee is whom the caller reached or wanted: the answering party, else the first
	// party rung; empty for an unanswered queue call (it was for the queue).
	Callee     Party
	AnsweredBy *Party // the first party that answered; nil for missed calls
	Queues     []string
	Operators  []Party // operators who talked, in answer order
	// MissedByOperators are operators that rang for this call and never answered it
	// (members cancelled because a colleague answered first are not counted).
	MissedByOperators []Party
	MissedInQueues    []string
	HangupBy          string
	WaitSeconds       int
	TalkSeconds       int
	HoldSeconds       int
	// TalkWithoutHoldSeconds is TalkSeconds minus HoldSeconds.
	TalkWithoutHoldSeconds int
	Legs                   []Leg
	Visits                 []QueueVisit
	Attempts               []QueueAttempt
	Transfers              []Transfer
	Recordings             []string
	Parent                 string // for a consultation call: the customer call's linkedid
	ApproximateTimes       bool
	Custom                 map[string]string
	Incomplete             bool
	IncompleteReason       string
}

// NotificationKind says what a live notification reports.
type NotificationKind int

// Notification kinds, for live state and CRM subscriptions.
const (
	CallStarted NotificationKind = iota + 1
	Ringing
	Answered
	Transferred
	Ended
	OperatorStatus
)

func (k NotificationKind) String() string {
	switch k {
	case CallStarted:
		return "CallStarted"
	case Ringing:
		return "Ringing"
	case Answered:
		return "Answered"
	case Transferred:
		return "Transferred"
	case Ended:
		return "Ended"
	case OperatorStatus:
		return "OperatorStatus"
	}
	return "Unknown"
}

// Notification is a live change. Fields that do not apply to the kind are empty.
type Notification struct {
	Kind     NotificationKind
	Time     time.Time
	Linkedid string
	Caller   Party
	Party    Party  // Ringing: who rings; Answered: who answered; Transferred: the target
	Queue    string // queue involved, if any
	// OperatorStatus fields (from QueueMember* events).
	Interface string
	Status    int // device state number (QueueMemberStatus Status)
	Paused    bool
	Reason    string
	Transfer  *Transfer
}

// Output is what Feed produces: a finished call or a live notification (exactly one set).
type Output struct {
	Call *Call
	Note *Notification
}

// Package live keeps the live state of queues, operators and active calls of every
// Asterisk server, built from the AMI event stream and the resync after each
// (re)connect, and fans its changes out to subscribers through a Hub.
//
// The collector's per-server worker calls State.Apply synchronously for every event;
// Apply does no I/O and never blocks. Changes go to a Hub, which keeps the latest value
// of every item (the snapshot a new subscriber starts from) and coalesces per
// subscriber, so a slow subscriber never slows ingestion. A PGBridge carries the
// changes between processes over PostgreSQL LISTEN/NOTIFY.
//
// # Wiring
//
// Every process that serves the API:
//
//	hub := live.NewHub(live.HubOptions{Registerer: reg})          // Close last
//	bridge := live.NewPGBridge(db, dsn, hub, live.BridgeOptions{}) // Start; Stop before hub.Close
//	resolver.Live = &graph.Live{Hub: hub, Scope: scopeFromAuth}
//
// The process that ingests a server, additionally:
//
//	dir, _ := live.LoadDirectory(ctx, db)                 // refresh when queues/operators change
//	sw := live.NewStatusWriter(db, live.StatusWriterOptions{Registerer: reg}); sw.Start()
//	st := live.NewState(live.Options{Hub: hub, Directory: dir, Location: serverZone, OnStatus: sw.Record})
//	today, _ := live.LoadToday(ctx, db, time.Now(), serverZone); st.Seed(today) // before the first event
//	// per event, on the server's worker goroutine, after the assembler:
//	st.Apply(serverID, &ev, outs)
//	// after the finished call is stored:
//	st.CallStored(serverID, call.Linkedid, storedID, time.Now())
//	// every minute: st.Tick(time.Now())
package live

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// Status is what an operator (or one queue membership) is doing now.
type Status string

// Statuses, in the words supervisors use on the live board.
const (
	StatusFree        Status = "FREE"
	StatusRinging     Status = "RINGING"
	StatusOnCallIn    Status = "ON_CALL_IN"  // on an incoming (queue or direct) call
	StatusOnCallOut   Status = "ON_CALL_OUT" // on a call the operator placed
	StatusBusy        Status = "BUSY"        // the device is in use, no call of ours known
	StatusPaused      Status = "PAUSED"
	StatusUnavailable Status = "UNAVAILABLE" // device unreachable or invalid
	StatusLoggedOut   Status = "LOGGED_OUT"  // in no queue
)

// MarshalGQL writes the status as a GraphQL enum value.
func (s Status) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL reads a GraphQL enum value.
func (s *Status) UnmarshalGQL(v any) error {
	str, ok := v.(string)
	if !ok {
		return fmt.Errorf("status must be a string")
	}
	*s = Status(str)
	return nil
}

// CallState is where an active call is.
type CallState string

// Call states.
const (
	CallNew     CallState = "NEW"     // started, not (yet) queued or ringing (IVR, dialling)
	CallQueued  CallState = "QUEUED"  // waiting in a queue
	CallRinging CallState = "RINGING" // an operator or phone is ringing
	CallTalking CallState = "TALKING" // answered
)

// MarshalGQL writes the state as a GraphQL enum value.
func (s CallState) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL reads a GraphQL enum value.
func (s *CallState) UnmarshalGQL(v any) error {
	str, ok := v.(string)
	if !ok {
		return fmt.Errorf("call state must be a string")
	}
	*s = CallState(str)
	return nil
}

// EventKind is what a CallEvent reports.
type EventKind string

// Call event kinds. Ended comes when the call is over; Stored follows once the collector
// has written it, with the stored Call's id.
const (
	EventRinging     EventKind = "RINGING"
	EventAnswered    EventKind = "ANSWERED"
	EventTransferred EventKind = "TRANSFERRED"
	EventEnded       EventKind = "ENDED"
	EventStored      EventKind = "STORED"
)

// MarshalGQL writes the kind as a GraphQL enum value.
func (k EventKind) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(k))) }

// UnmarshalGQL reads a GraphQL enum value.
func (k *EventKind) UnmarshalGQL(v any) error {
	str, ok := v.(string)
	if !ok {
		return fmt.Errorf("event kind must be a string")
	}
	*k = EventKind(str)
	return nil
}

// Caller is one caller waiting in a queue.
type Caller struct {
	Uniqueid string    `json:"u"`
	Linkedid string    `json:"l,omitempty"`
	Number   string    `json:"n,omitempty"`
	Name     string    `json:"nm,omitempty"`
	Since    time.Time `json:"s"`
	Position int       `json:"p"`
	// hungUp: the caller's HangupRequest came while waiting, so a QueueCallerAbandon
	// is a real abandon and not the queue's timeout (reference §3.c.1).
	hungUp bool
}

// Member is one queue membership and what the member is doing.
type Member struct {
	Interface      string    `json:"i"`
	StateInterface string    `json:"si,omitempty"`
	Name           string    `json:"n,omitempty"`
	OperatorID     int       `json:"o,omitempty"` // 0 when Linkage does not know the operator
	Status         Status    `json:"st"`
	Reason         string    `json:"r,omitempty"` // pause reason
	Since          time.Time `json:"s"`           // when Status last changed
	Paused         bool      `json:"p,omitempty"`
	InCall         bool      `json:"c,omitempty"`
	DeviceState    int       `json:"d"` // AMI device state number
	CallsTaken     int       `json:"t,omitempty"`
}

// Counters are a queue's counts for one day in the queue's time zone. Waits and talk
// are whole seconds.
type Counters struct {
	Received     int `json:"rc"` // callers who joined
	Answered     int `json:"an"`
	Abandoned    int `json:"ab"`
	Finished     int `json:"fi"` // callers who left the queue (any way)
	AnsweredInSL int `json:"sl"` // answered within the queue's threshold
	WaitSum      int `json:"ws"` // over finished callers
	MaxWait      int `json:"wm"`
	TalkSum      int `json:"ts"`
	TalkCount    int `json:"tc"`
}

// QueueStats is one queue now: waiting callers, members and today's counters.
type QueueStats struct {
	Server  int    `json:"sv"`
	QueueID int    `json:"q"` // Linkage id; 0 when the queue is not known to Linkage
	Name    string `json:"n"`
	// Day is the queue's current day (YYYY-MM-DD in its time zone) the counters are for.
	Day                string    `json:"d"`
	SLThresholdSeconds int       `json:"slt"`
	Waiting            []Caller  `json:"w"`
	Members            []Member  `json:"m"`
	Counters           Counters  `json:"c"`
	UpdatedAt          time.Time `json:"t"`
}

// Received is the number of callers who joined the queue today.
func (q *QueueStats) Received() int { return q.Counters.Received }

// Answered is the number of callers answered today.
func (q *QueueStats) Answered() int { return q.Counters.Answered }

// Abandoned is the number of callers who hung up while waiting today.
func (q *QueueStats) Abandoned() int { return q.Counters.Abandoned }

// ServiceLevel is the share (percent) of callers who left the queue today that were
// answered within the threshold; nil before anyone left.
func (q *QueueStats) ServiceLevel() *float64 {
	if q.Counters.Finished == 0 {
		return nil
	}
	v := float64(q.Counters.AnsweredInSL) * 100 / float64(q.Counters.Finished)
	return &v
}

// AvgWaitSeconds is the average wait of callers who left the queue today.
func (q *QueueStats) AvgWaitSeconds() int {
	if q.Counters.Finished == 0 {
		return 0
	}
	return q.Counters.WaitSum / q.Counters.Finished
}

// MaxWaitSeconds is the longest wait today, counting callers still waiting.
func (q *QueueStats) MaxWaitSeconds() int {
	m := q.Counters.MaxWait
	for _, c := range q.Waiting {
		if w := int(q.UpdatedAt.Sub(c.Since) / time.Second); w > m {
			m = w
		}
	}
	return m
}

// AvgTalkSeconds is the average talk time of today's answered queue calls.
func (q *QueueStats) AvgTalkSeconds() int {
	if q.Counters.TalkCount == 0 {
		return 0
	}
	return q.Counters.TalkSum / q.Counters.TalkCount
}

// OperatorState is one operator across all their queues.
type OperatorState struct {
	Server     int       `json:"sv"`
	OperatorID int       `json:"o"`
	Interface  string    `json:"i"` // the state interface (device), e.g. PJSIP/1001
	Name       string    `json:"n,omitempty"`
	Status     Status    `json:"st"`
	Reason     string    `json:"r,omitempty"`
	Since      time.Time `json:"s"`
	Queues     []string  `json:"q,omitempty"`
	Linkedid   string    `json:"l,omitempty"` // the call the operator is on or ringing for
	Day        string    `json:"d"`
	Incoming   int       `json:"in"`
	Outgoing   int       `json:"out"`
	Missed     int       `json:"mi"`
}

// ActiveCall is one call in progress.
type ActiveCall struct {
	Server         int       `json:"sv"`
	Linkedid       string    `json:"l"`
	CallerNumber   string    `json:"cn,omitempty"`
	CallerName     string    `json:"cm,omitempty"`
	DID            string    `json:"did,omitempty"`
	Queue          string    `json:"q,omitempty"`
	QueueID        int       `json:"qi,omitempty"`
	OperatorID     int       `json:"oi,omitempty"`
	OperatorNumber string    `json:"on,omitempty"`
	OperatorName   string    `json:"om,omitempty"`
	State          CallState `json:"st"`
	Since          time.Time `json:"s"` // when State last changed
	Started        time.Time `json:"b"`
}

// CallEvent is one step of a call, for CRMs.
type CallEvent struct {
	Kind           EventKind `json:"k"`
	Server         int       `json:"sv"`
	Time           time.Time `json:"t"`
	Linkedid       string    `json:"l"`
	CallerNumber   string    `json:"cn,omitempty"`
	CallerName     string    `json:"cm,omitempty"`
	DID            string    `json:"did,omitempty"`
	Queue          string    `json:"q,omitempty"`
	QueueID        int       `json:"qi,omitempty"`
	OperatorID     int       `json:"oi,omitempty"`
	OperatorNumber string    `json:"on,omitempty"`
	OperatorName   string    `json:"om,omitempty"`
	// StoredID is the stored Call's id (Stored events only).
	StoredID int `json:"ci,omitempty"`
	// TransferType is blind, attended or blonde (Transferred events only).
	TransferType string `json:"tt,omitempty"`
}

// CallID is the stored Call's id on Stored events, nil otherwise.
func (e *CallEvent) CallID() *int {
	if e.StoredID == 0 {
		return nil
	}
	id := e.StoredID
	return &id
}

package ami

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ActionError is Asterisk's refusal of an action (Response: Error). Message is
// Asterisk's own text ("Unable to add interface: Already there"), fit to show to the
// operator who asked.
type ActionError struct {
	Action   string
	Message  string
	Response Message
}

func (e *ActionError) Error() string {
	return fmt.Sprintf("ami: %s refused by Asterisk: %s", e.Action, e.Message)
}

func (c *Conn) run(ctx context.Context, a Message, list bool) (Message, []Message, error) {
	s := c.current()
	if s == nil {
		return nil, nil, fmt.Errorf("ami: %s: %w", a.Get("Action"), ErrNotConnected)
	}
	return s.do(ctx, a, list, false)
}

// Action sends any single-response action and returns the response. Any ActionID in
// a is replaced by one of ours (correlation relies on it). Response: Error gives an
// *ActionError together with the response.
func (c *Conn) Action(ctx context.Context, a Message) (Message, error) {
	resp, _, err := c.run(ctx, a, false)
	return resp, err
}

// ListAction sends a list action (EventList: start ... Complete) and returns the
// response and the item events, without the Complete event. It waits at most
// Config.ListTimeout.
func (c *Conn) ListAction(ctx context.Context, a Message) (Message, []Message, error) {
	return c.run(ctx, a, true)
}

// Ping checks the link end to end.
func (c *Conn) Ping(ctx context.Context) error {
	_, err := c.Action(ctx, Message{{"Action", "Ping"}})
	return err
}

// QueueStatusResult is the answer to QueueStatus, split by item type.
type QueueStatusResult struct {
	Params  []Message // QueueParams, one per queue
	Members []Message // QueueMember
	Entries []Message // QueueEntry: waiting callers
}

// QueueStatus lists queue parameters, members and waiting callers; queue and member
// filter when not empty.
func (c *Conn) QueueStatus(ctx context.Context, queue, member string) (QueueStatusResult, error) {
	a := Message{{"Action", "QueueStatus"}}
	if queue != "" {
		a = a.Add("Queue", queue)
	}
	if member != "" {
		a = a.Add("Member", member)
	}
	_, items, err := c.ListAction(ctx, a)
	var r QueueStatusResult
	if err != nil {
		return r, err
	}
	for _, it := range items {
		switch strings.ToLower(it.Get("Event")) {
		case "queueparams":
			r.Params = append(r.Params, it)
		case "queuemember":
			r.Members = append(r.Members, it)
		case "queueentry":
			r.Entries = append(r.Entries, it)
		}
	}
	return r, nil
}

// QueueSummary returns one QueueSummary event per queue (or for queue only).
func (c *Conn) QueueSummary(ctx context.Context, queue string) ([]Message, error) {
	a := Message{{"Action", "QueueSummary"}}
	if queue != "" {
		a = a.Add("Queue", queue)
	}
	_, items, err := c.ListAction(ctx, a)
	return items, err
}

// CoreShowChannels returns one CoreShowChannel event per live channel.
func (c *Conn) CoreShowChannels(ctx context.Context) ([]Message, error) {
	_, items, err := c.ListAction(ctx, Message{{"Action", "CoreShowChannels"}})
	return items, err
}

// QueuePause pauses or unpauses iface in queue (in all its queues when queue is "").
// The effect arrives as QueueMemberPause events on the stream.
func (c *Conn) QueuePause(ctx context.Context, queue, iface string, paused bool, reason string) error {
	a := Message{{"Action", "QueuePause"}, {"Interface", iface}, {"Paused", strconv.FormatBool(paused)}}
	if queue != "" {
		a = a.Add("Queue", queue)
	}
	if reason != "" {
		a = a.Add("Reason", reason)
	}
	_, err := c.Action(ctx, a)
	return err
}

// QueueAdd adds a dynamic member. Adding one that is already there is an *ActionError.
func (c *Conn) QueueAdd(ctx context.Context, queue, iface, memberName, stateIface string, penalty int, paused bool) error {
	a := Message{{"Action", "QueueAdd"}, {"Queue", queue}, {"Interface", iface},
		{"Penalty", strconv.Itoa(penalty)}, {"Paused", strconv.FormatBool(paused)}}
	if memberName != "" {
		a = a.Add("MemberName", memberName)
	}
	if stateIface != "" {
		a = a.Add("StateInterface", stateIface)
	}
	_, err := c.Action(ctx, a)
	return err
}

// QueueRemove removes a dynamic member.
func (c *Conn) QueueRemove(ctx context.Context, queue, iface string) error {
	_, err := c.Action(ctx, Message{{"Action", "QueueRemove"}, {"Queue", queue}, {"Interface", iface}})
	return err
}

// OriginateRequest is an Originate action. Either Exten+Context(+Priority) or
// Application(+Data) says where the answered channel goes.
type OriginateRequest struct {
	Channel     string // e.g. "PJSIP/1001"
	Exten       string
	Context     string
	Priority    int // default 1 when Exten is set
	Application string
	Data        string
	Timeout     time.Duration // ring time (Asterisk default 30 s)
	CallerID    string
	Account     string
	// Variables are "NAME=value" pairs, sent as repeated Variable headers.
	Variables []string
	// Sync waits for the call to be answered (or to fail) before the response comes;
	// by default the response is immediate and the outcome arrives as an
	// OriginateResponse event carrying our ActionID.
	Sync bool
}

// Originate starts a call.
func (c *Conn) Originate(ctx context.Context, r OriginateRequest) error {
	_, err := c.OriginateID(ctx, r)
	return err
}

// OriginateID is Originate returning the ActionID it was sent with, which an async
// Originate's OriginateResponse event carries (callers show or log it).
func (c *Conn) OriginateID(ctx context.Context, r OriginateRequest) (string, error) {
	a := Message{{"Action", "Originate"}, {"Channel", r.Channel}}
	if r.Exten != "" {
		p := r.Priority
		if p == 0 {
			p = 1
		}
		a = a.Add("Exten", r.Exten).Add("Context", r.Context).Add("Priority", strconv.Itoa(p))
	}
	if r.Application != "" {
		a = a.Add("Application", r.Application).Add("Data", r.Data)
	}
	if r.Timeout > 0 {
		a = a.Add("Timeout", strconv.FormatInt(r.Timeout.Milliseconds(), 10))
	}
	if r.CallerID != "" {
		a = a.Add("CallerID", r.CallerID)
	}
	if r.Account != "" {
		a = a.Add("Account", r.Account)
	}
	for _, v := range r.Variables {
		a = a.Add("Variable", v)
	}
	a = a.Add("Async", strconv.FormatBool(!r.Sync))
	resp, err := c.Action(ctx, a)
	return resp.Get("ActionID"), err
}

// Hangup hangs up a channel; cause 0 leaves Asterisk's default (16, normal clearing).
func (c *Conn) Hangup(ctx context.Context, channel string, cause int) error {
	a := Message{{"Action", "Hangup"}, {"Channel", channel}}
	if cause > 0 {
		a = a.Add("Cause", strconv.Itoa(cause))
	}
	_, err := c.Action(ctx, a)
	return err
}

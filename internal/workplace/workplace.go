// Package workplace is the operator's workplace: pausing, joining and leaving
// queues through Asterisk (AMI actions confirmed by Asterisk's own events on the live
// state), the missed calls to call back, and the caller's history.
//
// Permissions: acting for yourself needs self.status (the operator role); acting for
// another operator needs queues.membership with both that operator and the queue in
// the viewer's scope. The service checks them itself and then reads and writes with
// auth.SystemContext, because operators may not write missed calls or read calls
// through the data-layer rules; every read that serves the viewer keeps an explicit
// scope predicate. Every action is audited, refused or not.
package workplace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/live"
	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/auth/viewer"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/operator"
)

// Error codes (GraphQL extensions.code) of workplace errors.
const (
	CodeNoOperator    = "NO_OPERATOR"               // the viewer works as no operator (on that server)
	CodeServerOffline = "SERVER_OFFLINE"            // no AMI connection to the operator's server here
	CodeActionRefused = "ACTION_REFUSED"            // Asterisk refused the action; Message is Asterisk's
	CodeBadInput      = "GRAPHQL_VALIDATION_FAILED" // the API's code for bad input (graph.CodeBadInput)
	CodeUnavailable   = "UNAVAILABLE"
)

// Error is an error meant for the workplace's user, with a code.
type Error struct {
	Code    string
	Message string
	Err     error // the cause, for logs and errors.Is
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Conns gives the live AMI connection of a server (the collector).
type Conns interface {
	Conn(serverID int) (*ami.Conn, bool)
}

// Options configure a Service.
type Options struct {
	Client *ent.Client
	DB     *sql.DB
	// Hub is the live state actions are confirmed on (required for actions).
	Hub *live.Hub
	// Conns reaches Asterisk; nil: every action answers SERVER_OFFLINE.
	Conns Conns
	// Notifier wakes missedCallCounts subscriptions; nil: the subscription is
	// unavailable (the *Now query still works).
	Notifier *Notifier
	// ConfirmWait bounds the wait for Asterisk's confirming event (default 3 s).
	ConfirmWait time.Duration
	// CallbackContext and CallbackPrefix say how a callback reaches the customer:
	// Originate from the operator's device to CallbackPrefix+number in
	// CallbackContext. The defaults ("from-internal", "0") are the common "0 for an
	// outside line" convention, which the simulator's dialplan follows too.
	CallbackContext string
	CallbackPrefix  string
	// CallbackRing is how long the operator's phone rings for a callback (default 30 s).
	CallbackRing time.Duration
	Logger       *slog.Logger
	// Now is the clock (tests).
	Now func() time.Time
}

// Service is the operator workplace.
type Service struct {
	o Options
}

// New returns a Service.
func New(o Options) *Service {
	if o.ConfirmWait <= 0 {
		o.ConfirmWait = 3 * time.Second
	}
	if o.CallbackContext == "" {
		o.CallbackContext = "from-internal"
	}
	if o.CallbackPrefix == "" {
		o.CallbackPrefix = "0"
	}
	if o.CallbackRing <= 0 {
		o.CallbackRing = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{o: o}
}

func sys(ctx context.Context) context.Context { return auth.SystemContext(ctx) }

// viewerOf returns the request's viewer; the system has none (and no workplace).
func viewerOf(ctx context.Context) (*auth.Viewer, error) {
	v, ok := auth.ViewerFromContext(ctx)
	if !ok {
		return nil, auth.ErrUnauthenticated
	}
	return v, nil
}

// ownOperators are the operators the viewer works as, by server.
func (s *Service) ownOperators(ctx context.Context) ([]*ent.Operator, error) {
	v, err := viewerOf(ctx)
	if err != nil {
		return nil, err
	}
	ops, err := s.o.Client.Operator.Query().Where(operator.UserID(v.UserID)).Order(ent.Asc(operator.FieldServerID), ent.Asc(operator.FieldID)).All(sys(ctx))
	if err != nil {
		return nil, fmt.Errorf("workplace: operators of user %d: %w", v.UserID, err)
	}
	return ops, nil
}

// ownOperator is the viewer's operator on serverID (0: the only one).
func (s *Service) ownOperator(ctx context.Context, serverID int) (*ent.Operator, error) {
	ops, err := s.ownOperators(ctx)
	if err != nil {
		return nil, err
	}
	if serverID != 0 {
		ops = slices.DeleteFunc(ops, func(o *ent.Operator) bool { return o.ServerID != serverID })
	}
	switch len(ops) {
	case 0:
		if serverID != 0 {
			return nil, errorf(CodeNoOperator, "you do not work as an operator on server %d: ask an administrator to link your user to your operator", serverID)
		}
		return nil, errorf(CodeNoOperator, "you do not work as an operator: ask an administrator to link your user to your operator")
	case 1:
		return ops[0], nil
	default:
		return nil, errorf(CodeBadInput, "you work as an operator on several servers: say which one (serverID)")
	}
}

// target is who an action is for and the permission it was checked against.
type target struct {
	op   *ent.Operator
	self bool
}

// actFor resolves the operator an action is for — another operator (operatorID) or
// the viewer's own on serverID — and checks the permission for queueIDs.
func (s *Service) actFor(ctx context.Context, operatorID *int, serverID int, queueIDs ...int) (target, error) {
	if operatorID != nil {
		own, err := s.ownOperators(ctx)
		if err != nil {
			return target{}, err
		}
		for _, o := range own {
			if o.ID == *operatorID {
				return s.checkSelf(ctx, o, queueIDs)
			}
		}
		// Another operator: queues.membership on the operator and every queue.
		if err := auth.Can(ctx, viewer.QueuesMembership, "operator/"+strconv.Itoa(*operatorID)); err != nil {
			return target{}, err
		}
		for _, q := range queueIDs {
			if err := auth.Can(ctx, viewer.QueuesMembership, "queue/"+strconv.Itoa(q)); err != nil {
				return target{}, err
			}
		}
		op, err := s.o.Client.Operator.Get(sys(ctx), *operatorID)
		if err != nil {
			return target{}, fmt.Errorf("workplace: operator %d: %w", *operatorID, err)
		}
		return target{op: op}, nil
	}
	op, err := s.ownOperator(ctx, serverID)
	if err != nil {
		return target{}, err
	}
	return s.checkSelf(ctx, op, queueIDs)
}

func (s *Service) checkSelf(ctx context.Context, op *ent.Operator, queueIDs []int) (target, error) {
	if err := auth.Can(ctx, viewer.SelfStatus, "*"); err != nil {
		return target{}, err
	}
	// Operators serve the queues of their scope only.
	for _, q := range queueIDs {
		if err := auth.Can(ctx, viewer.SelfStatus, "queue/"+strconv.Itoa(q)); err != nil {
			return target{}, err
		}
	}
	return target{op: op, self: true}, nil
}

func (s *Service) conn(serverID int) (*ami.Conn, error) {
	if s.o.Conns != nil {
		if c, ok := s.o.Conns.Conn(serverID); ok && c != nil {
			return c, nil
		}
	}
	return nil, errorf(CodeServerOffline, "the Asterisk server %d is not connected: try again in a moment", serverID)
}

// refused turns Asterisk's refusal into ACTION_REFUSED and wraps anything else.
func refused(what string, err error) error {
	var ae *ami.ActionError
	if errors.As(err, &ae) {
		return &Error{Code: CodeActionRefused, Message: "Asterisk refused " + what + ": " + ae.Message, Err: err}
	}
	if errors.Is(err, ami.ErrNotConnected) || errors.Is(err, ami.ErrDisconnected) {
		return &Error{Code: CodeServerOffline, Message: "the Asterisk server is not connected: try again in a moment", Err: err}
	}
	return fmt.Errorf("workplace: %s: %w", what, err)
}

// audit records an action's outcome. A failure to audit is logged, not returned: the
// action itself already happened (or failed) in Asterisk.
func (s *Service) audit(ctx context.Context, action, tgt string, err error, details map[string]any) {
	if details == nil {
		details = map[string]any{}
	}
	if err != nil {
		details["error"] = err.Error()
	}
	if aerr := auth.AuditOutcome(ctx, action, tgt, err == nil, details); aerr != nil {
		s.o.Logger.WarnContext(ctx, "workplace: audit", "action", action, "target", tgt, "err", aerr)
	}
}

func opTarget(op *ent.Operator) string { return "operator/" + strconv.Itoa(op.ID) }

func strOr(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(*p)
}

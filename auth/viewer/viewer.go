// Package viewer holds who is asking — the Viewer in a context — and the data-layer
// rules that filter every ent query to the viewer's scope. It depends on nothing
// generated, so ent/schema can install its rules (schema Interceptors and Hooks)
// without an import cycle; package auth builds viewers and re-exports this API.
//
// The rules deny by default: a query or mutation whose context carries neither a
// viewer nor the explicit system marker fails with ErrUnauthenticated.
package viewer

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Actions are the permissions the built-in policy (auth/policy.csv) grants to roles.
// A request names one of them; casbin decides whether the viewer's roles allow it.
const (
	QueuesRead       = "queues.read"       // queues in scope
	OperatorsRead    = "operators.read"    // operators and operator groups in scope
	ServersRead      = "servers.read"      // servers and trunks that host a queue in scope
	CallsRead        = "calls.read"        // call history: calls, legs, queue visits and attempts (statistics)
	StatusesRead     = "statuses.read"     // operator status history (statistics)
	ReportsRead      = "reports.read"      // reports
	ExportsCreate    = "exports.create"    // report and call-list exports
	MonitorRead      = "monitor.read"      // live monitoring of queues, operators, calls
	RecordingsListen = "recordings.listen" // recordings, on queues whose grant has the listen flag
	SelfStatus       = "self.status"       // an operator's own tools: pause, join/leave own queues, missed calls
	QueuesMembership = "queues.membership" // change which operators serve a queue
	ConfigWrite      = "config.write"      // servers, queues, operators, groups, trunks
	UsersRead        = "users.read"        // other users, their roles and scopes
	UsersManage      = "users.manage"      // create/update/disable users, passwords, roles, scopes, sessions
	TokensManage     = "tokens.manage"     // API tokens of any user
	AuditRead        = "audit.read"        // the audit log
)

// Actions lists every action, for the viewer's permission set and the truth table.
var Actions = []string{
	QueuesRead, OperatorsRead, ServersRead, CallsRead, StatusesRead, ReportsRead, ExportsCreate,
	MonitorRead, RecordingsListen, SelfStatus, QueuesMembership, ConfigWrite, UsersRead,
	UsersManage, TokensManage, AuditRead,
}

// Level is how much an action changes: API tokens carry a ceiling.
type Level int

// Levels in increasing order; a token scope allows its level and the ones below.
const (
	LevelRead Level = iota
	LevelWrite
	LevelAdmin
)

// ActionLevel classifies an action for token scopes: reading, operational writes,
// administration.
func ActionLevel(action string) Level {
	switch action {
	case SelfStatus, QueuesMembership, ConfigWrite:
		return LevelWrite
	case UsersRead, UsersManage, TokensManage, AuditRead:
		return LevelAdmin
	}
	return LevelRead
}

// Viewer is an authenticated caller: a user signed in with a session, or an API
// token acting as its user within the token's scope.
type Viewer struct {
	UserID    int
	Login     string
	Roles     []string
	SessionID int    // the session, when signed in with a cookie
	TokenID   int    // the API token, when called with one
	Address   string // remote address, for the audit log
	// Permissions is the set of actions the viewer's roles allow, already capped by
	// the token's scope.
	Permissions map[string]bool
	Scope       Scope
}

// Allowed reports whether the viewer's roles (and token) allow action.
func (v *Viewer) Allowed(action string) bool { return v != nil && v.Permissions[action] }

// Actor names the viewer in logs and the audit log.
func (v *Viewer) Actor() string {
	if v.TokenID != 0 {
		return fmt.Sprintf("%s (token %d)", v.Login, v.TokenID)
	}
	return v.Login
}

type viewerKey struct{}
type systemKey struct{}

// NewContext returns ctx carrying v.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// FromContext returns the viewer in ctx, if any.
func FromContext(ctx context.Context) (*Viewer, bool) {
	v, ok := ctx.Value(viewerKey{}).(*Viewer)
	return v, ok && v != nil
}

// SystemContext marks ctx as Linkage itself acting (the collector writing calls,
// migrations, the CLI, the auth package's own bookkeeping): the data-layer rules let
// it through. Never derive it from a request context that serves a user.
func SystemContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, systemKey{}, true)
}

// IsSystem reports whether ctx was marked by SystemContext.
func IsSystem(ctx context.Context) bool {
	b, _ := ctx.Value(systemKey{}).(bool)
	return b
}

// ErrUnauthenticated is returned for data access without a viewer or the system marker.
var ErrUnauthenticated = errors.New("authentication required")

// PermissionError is a denied request, naming who asked for what (Argo CD's
// util/rbac style), so logs and the API say exactly what was refused.
type PermissionError struct {
	Subject string
	Action  string
	Object  string
}

func (e *PermissionError) Error() string {
	if e.Object == "" || e.Object == "*" {
		return fmt.Sprintf("permission denied: %s: %s", e.Action, e.Subject)
	}
	return fmt.Sprintf("permission denied: %s, %s: %s", e.Action, e.Object, e.Subject)
}

// Scope is what a viewer may see, resolved to ids when the viewer is built. Raw-SQL
// readers (reports, exports) and live subscriptions must apply it themselves through
// the helpers below; ent queries get it applied by the schema's interceptors.
type Scope struct {
	// All is unrestricted access (the Admin role): every queue, group and operator,
	// untracked operators included.
	All bool
	// QueueIDs are the queues the viewer may see; ListenQueueIDs the subset whose
	// recordings they may hear.
	QueueIDs       []int
	ListenQueueIDs []int
	// GroupIDs are the operator groups the viewer may see.
	GroupIDs []int
	// OperatorIDs are the operators the viewer may see: tracked operators of the
	// allowed groups (when the grant includes all of their operators) plus the extra
	// operators granted outside the groups.
	OperatorIDs []int
	// QueueNumbers and OperatorNumbers are the numbers of the allowed queues and
	// operators, for trimming denormalised lists of numbers (a call's queues).
	QueueNumbers    []string
	OperatorNumbers []string
}

// AllowsQueue reports whether the scope includes queue id.
func (s Scope) AllowsQueue(id int) bool { return s.All || slices.Contains(s.QueueIDs, id) }

// MayListen reports whether the scope lets the viewer hear recordings of queue id.
// The recordings.listen permission is checked separately (Can).
func (s Scope) MayListen(id int) bool { return s.All || slices.Contains(s.ListenQueueIDs, id) }

// AllowsOperator reports whether the scope includes operator id.
func (s Scope) AllowsOperator(id int) bool { return s.All || slices.Contains(s.OperatorIDs, id) }

// AllowsGroup reports whether the scope includes operator group id.
func (s Scope) AllowsGroup(id int) bool { return s.All || slices.Contains(s.GroupIDs, id) }

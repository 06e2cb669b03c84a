// Package auth decides who is asking and what they may see: users with argon2id
// passwords, server-side sessions, API tokens, casbin roles and per-user scopes, the
// audit log, and the Viewer every request carries in its context.
//
// The scope is enforced in the data layer (auth/viewer rules, installed on every ent
// type), so resolvers never check it. Code outside auth uses:
//
//   - ViewerFromContext / ScopeFromContext: who asks and what they may see; raw-SQL
//     readers apply Scope.SQLQueueFilter and friends themselves.
//   - Can(ctx, action, object): an explicit permission check that returns a
//     *PermissionError naming the request.
//   - SystemContext(ctx): Linkage itself acting (collector, CLI, migrations).
//   - Audit / RecordListen / RecordExport: the audit log.
package auth

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/linkage/linkage/auth/viewer"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/operator"
	"github.com/linkage/linkage/ent/operatorgroup"
	"github.com/linkage/linkage/ent/queue"
	_ "github.com/linkage/linkage/ent/runtime" // installs the schema's rules (interceptors, hooks)
)

// Re-exported from auth/viewer, which holds them so that ent/schema can use them
// without importing this package.
type (
	// Viewer is an authenticated caller.
	Viewer = viewer.Viewer
	// Scope is what a viewer may see, resolved to ids.
	Scope = viewer.Scope
	// PermissionError is a denied request.
	PermissionError = viewer.PermissionError
)

// ErrUnauthenticated is returned for data access without a viewer.
var ErrUnauthenticated = viewer.ErrUnauthenticated

// SystemContext marks ctx as Linkage itself acting; the data-layer rules let it
// through. Use it for the collector, migrations and CLI commands — never for a
// request made on behalf of a user.
func SystemContext(ctx context.Context) context.Context { return viewer.SystemContext(ctx) }

// ViewerFromContext returns the request's viewer, if any.
func ViewerFromContext(ctx context.Context) (*Viewer, bool) { return viewer.FromContext(ctx) }

// ScopeFromContext returns what the context may see: everything for the system,
// the viewer's scope for a viewer, and nothing (the zero Scope) without either.
func ScopeFromContext(ctx context.Context) Scope {
	if viewer.IsSystem(ctx) {
		return Scope{All: true}
	}
	if v, ok := viewer.FromContext(ctx); ok {
		return v.Scope
	}
	return Scope{}
}

// Can reports whether the context may do action on object: nil, ErrUnauthenticated,
// or a *PermissionError naming the request. The action must be allowed by the
// viewer's roles (and token scope); an object "queue/<id>", "operator/<id>" or
// "group/<id>" must also be in the viewer's scope, and recordings.listen on a queue
// needs that queue's listen flag.
func Can(ctx context.Context, action, object string) error {
	if viewer.IsSystem(ctx) {
		return nil
	}
	v, ok := viewer.FromContext(ctx)
	if !ok {
		return ErrUnauthenticated
	}
	deny := &PermissionError{Subject: v.Actor(), Action: action, Object: object}
	if !v.Allowed(action) {
		return deny
	}
	kind, idText, ok := strings.Cut(object, "/")
	if !ok {
		return nil
	}
	id, err := strconv.Atoi(idText)
	if err != nil {
		return deny
	}
	var in bool
	switch kind {
	case "queue":
		in = v.Scope.AllowsQueue(id)
		if action == viewer.RecordingsListen {
			in = v.Scope.MayListen(id)
		}
	case "operator":
		in = v.Scope.AllowsOperator(id)
	case "group":
		in = v.Scope.AllowsGroup(id)
	default:
		in = v.Scope.All
	}
	if !in {
		return deny
	}
	return nil
}

// Options configures the Service.
type Options struct {
	// SessionIdle ends a session nobody used for this long; SessionMax ends any
	// session this long after sign-in.
	SessionIdle time.Duration
	SessionMax  time.Duration
	// LoginRate limits login attempts; zero values take the defaults.
	LoginRate RateOptions
	// Now is the clock (tests move it).
	Now    func() time.Time
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.SessionIdle == 0 {
		o.SessionIdle = 12 * time.Hour
	}
	if o.SessionMax == 0 {
		o.SessionMax = 7 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.LoginRate.defaults()
}

// Service is access control for one process.
type Service struct {
	client *ent.Client
	en     *Enforcer
	opts   Options
	log    *slog.Logger
	limit  *loginLimiter
	// hashing bounds concurrent argon2id checks: each takes 64 MiB, and a burst of
	// logins from many addresses must not exhaust memory.
	hashing chan struct{}
}

// NewService returns the service over client and enforcer.
func NewService(client *ent.Client, en *Enforcer, opts Options) *Service {
	opts.defaults()
	return &Service{client: client, en: en, opts: opts, log: opts.Logger, limit: newLoginLimiter(opts.LoginRate, opts.Now),
		hashing: make(chan struct{}, 4)}
}

// Enforcer returns the service's enforcer.
func (s *Service) Enforcer() *Enforcer { return s.en }

func subject(userID int) string { return "user:" + strconv.Itoa(userID) }

// viewerFor builds the viewer of user u: roles and permissions from casbin (capped
// by a token's scope) and the scope resolved to ids.
func (s *Service) viewerFor(ctx context.Context, u *ent.User, tokenLevel viewer.Level) (*Viewer, error) {
	sub := subject(u.ID)
	v := &Viewer{UserID: u.ID, Login: u.Login, Roles: s.en.Roles(sub), Permissions: map[string]bool{}}
	for _, a := range viewer.Actions {
		if viewer.ActionLevel(a) <= tokenLevel && s.en.Allowed(sub, a, "*") {
			v.Permissions[a] = true
		}
	}
	sc, err := s.resolveScope(ctx, sub)
	if err != nil {
		return nil, err
	}
	v.Scope = sc
	return v, nil
}

// resolveScope turns the subject's grants into ids. It reads as the system: the
// scope is what defines what the viewer may read, so it cannot be read through it.
func (s *Service) resolveScope(ctx context.Context, sub string) (Scope, error) {
	if s.en.Allowed(sub, "scope.all", "*") {
		return Scope{All: true}, nil
	}
	ctx = viewer.SystemContext(ctx)
	g := s.grantOf(sub)
	var sc Scope
	var err error
	if g.AllQueues {
		if sc.QueueIDs, err = s.client.Queue.Query().IDs(ctx); err != nil {
			return sc, err
		}
	} else {
		for _, q := range g.Queues {
			sc.QueueIDs = append(sc.QueueIDs, q.QueueID)
		}
	}
	for _, q := range g.Queues {
		if q.Listen || g.ListenAll {
			sc.ListenQueueIDs = append(sc.ListenQueueIDs, q.QueueID)
		}
	}
	if g.ListenAll && g.AllQueues {
		sc.ListenQueueIDs = sc.QueueIDs
	}
	if g.AllGroups {
		if sc.GroupIDs, err = s.client.OperatorGroup.Query().IDs(ctx); err != nil {
			return sc, err
		}
	} else {
		sc.GroupIDs = g.GroupIDs
	}
	// Untracked operators are never in a restricted scope.
	ops := s.client.Operator.Query().Where(operator.Tracked(true))
	switch {
	case g.AllGroupOperators && g.AllGroups:
		// every tracked operator
	case g.AllGroupOperators:
		ops.Where(operator.Or(operator.HasGroupsWith(operatorgroup.IDIn(g.GroupIDs...)), operator.IDIn(g.OperatorIDs...)))
	default:
		ops.Where(operator.IDIn(g.OperatorIDs...))
	}
	if sc.OperatorIDs, err = ops.IDs(ctx); err != nil {
		return sc, err
	}
	if sc.QueueNumbers, err = s.client.Queue.Query().Where(queue.IDIn(sc.QueueIDs...)).Unique(true).Select(queue.FieldNumber).Strings(ctx); err != nil {
		return sc, err
	}
	if sc.OperatorNumbers, err = s.client.Operator.Query().Where(operator.IDIn(sc.OperatorIDs...)).Unique(true).Select(operator.FieldNumber).Strings(ctx); err != nil {
		return sc, err
	}
	return sc, nil
}

func (s *Service) auditFailure(ctx context.Context, err error) {
	if err != nil {
		s.log.ErrorContext(ctx, "audit log write failed", "err", err)
	}
}

func idOf(kind string, id int) string { return fmt.Sprintf("%s/%d", kind, id) }

// Actions lists every action the policy knows (see auth/viewer).
func Actions() []string { return viewer.Actions }

// WithViewer returns ctx carrying v (for tests and for code that authenticated a
// caller some other way).
func WithViewer(ctx context.Context, v *Viewer) context.Context { return viewer.NewContext(ctx, v) }

// Package admin is Linkage's configuration administration: queues, operators and
// their groups, trunks, pause reasons, discovery suggestions and AMI connection
// tests. Every change needs the config.write permission (ent privacy enforces it
// too; the explicit check gives a clean error and an audit entry), is validated as a
// whole (every bad field reported at once), is audited, and tells the running
// collector and live state so they pick it up at once.
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/linkage/linkage/ami/live"
	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/auth/viewer"
	"github.com/linkage/linkage/ent"
)

// Service runs the administrative operations. Zero values of optional fields are
// usable.
type Service struct {
	Client *ent.Client
	// Hub holds the live state (queues and members seen over AMI) that discovery
	// suggestions come from; nil suggests only rows still marked discovered.
	Hub *live.Hub
	// Changed is called after a change of a server's queues, operators or trunks,
	// so the collector drops its cached ids and the live state re-reads the
	// directory now rather than at its next refresh. Nil: nothing runs here.
	Changed func(ctx context.Context, serverID int) error
	// ConnTimeout bounds a connection test (default 5 s).
	ConnTimeout time.Duration
	Logger      *slog.Logger
}

// FieldError is one problem of one input field.
type FieldError struct {
	Field   string
	Message string
}

// InputError lists every problem of an input, so a form can mark all bad fields at
// once.
type InputError struct{ Errors []FieldError }

func (e *InputError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, f := range e.Errors {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Fields are the names of the bad fields, in order, without repeats.
func (e *InputError) Fields() []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range e.Errors {
		if !seen[f.Field] {
			seen[f.Field] = true
			out = append(out, f.Field)
		}
	}
	return out
}

// ConflictError refuses a change that the stored data does not allow (a row still
// in use); the message says why and what to do instead.
type ConflictError struct{ Msg string }

func (e *ConflictError) Error() string { return e.Msg }

// fieldErrs collects field errors.
type fieldErrs []FieldError

func (f *fieldErrs) add(field, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (f fieldErrs) err() error {
	if len(f) == 0 {
		return nil
	}
	return &InputError{Errors: f}
}

func invalid(field, format string, args ...any) error {
	var f fieldErrs
	f.add(field, format, args...)
	return f.err()
}

// sys is the context for the service's own reads (existence and in-use checks) once
// the caller's permission was checked: they must see every row, whatever the
// caller's scope.
func sys(ctx context.Context) context.Context { return auth.SystemContext(ctx) }

// change runs one administrative change: permission first (a refusal is audited as a
// failure), then fn, then the audit entry. target is read after fn, so a create can
// name the row it made.
func (s *Service) change(ctx context.Context, action string, target func() string, details map[string]any, fn func() error) error {
	if err := auth.Can(ctx, viewer.ConfigWrite, "*"); err != nil {
		if aerr := auth.AuditFailure(ctx, action, target(), map[string]any{"denied": err.Error()}); aerr != nil && !errors.Is(aerr, auth.ErrUnauthenticated) {
			s.log().WarnContext(ctx, "admin: audit a refused change", "action", action, "err", aerr)
		}
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	if err := auth.Audit(ctx, action, target(), details); err != nil {
		return fmt.Errorf("admin: audit %s: %w", action, err)
	}
	return nil
}

// notify tells the running collector and live state about a change of serverID. The
// change is stored already, so a failure is logged, not returned: the periodic
// refresh picks it up.
func (s *Service) notify(ctx context.Context, serverID int) {
	if s.Changed == nil {
		return
	}
	if err := s.Changed(ctx, serverID); err != nil {
		s.log().WarnContext(ctx, "admin: refresh collector and live state", "server", serverID, "err", err)
	}
}

func (s *Service) log() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

func ref(kind string, id int) string { return fmt.Sprintf("%s/%d", kind, id) }

// trimmed returns the trimmed value of p (nil stays nil).
func trimmed(p *string) *string {
	if p == nil {
		return nil
	}
	v := strings.TrimSpace(*p)
	return &v
}

// uniq returns ids without repeats, in order.
func uniq(ids []int) []int {
	seen := make(map[int]bool, len(ids))
	out := make([]int, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

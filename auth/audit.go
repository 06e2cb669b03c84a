package auth

import (
	"context"
	"errors"
	"strconv"

	"github.com/linkage/linkage/auth/viewer"
)

// Audit records an event in the audit log on behalf of the context's viewer (or the
// system): action is a dotted verb ("recording.listen", "export.create"), target
// what it was done to ("call/42"), details anything useful — never a secret.
func (s *Service) Audit(ctx context.Context, action, target string, details map[string]any) error {
	return s.write(ctx, action, target, true, details)
}

// RecordListen audits a recording being played or downloaded. Call it after
// Can(ctx, "recordings.listen", "queue/<id>") allowed it.
func (s *Service) RecordListen(ctx context.Context, callID int, recording string) error {
	return s.Audit(ctx, "recording.listen", idOf("call", callID), map[string]any{"recording": recording})
}

// RecordExport audits an export: what was exported and with which parameters.
func (s *Service) RecordExport(ctx context.Context, what string, params map[string]any) error {
	return s.Audit(ctx, "export.create", what, params)
}

// Audit is Service.Audit through the service a request context carries (set by the
// HTTP middleware), for packages that are not handed the Service.
func Audit(ctx context.Context, action, target string, details map[string]any) error {
	s, ok := ctx.Value(serviceKey{}).(*Service)
	if !ok {
		return ErrUnauthenticated
	}
	return s.Audit(ctx, action, target, details)
}

// AuditFailure is Audit for an attempt that failed or was refused (success: false),
// so denied administrative requests stand out in the audit log.
func AuditFailure(ctx context.Context, action, target string, details map[string]any) error {
	s, ok := ctx.Value(serviceKey{}).(*Service)
	if !ok {
		return ErrUnauthenticated
	}
	return s.write(ctx, action, target, false, details)
}

type serviceKey struct{}

func (s *Service) audit(ctx context.Context, action, target string, success bool, details map[string]any) {
	s.auditFailure(ctx, s.write(ctx, action, target, success, details))
}

func (s *Service) write(ctx context.Context, action, target string, success bool, details map[string]any) error {
	c := s.client.AuditLog.Create().SetAction(action).SetTarget(target).SetSuccess(success).
		SetActor(actor(ctx)).SetAt(s.opts.Now())
	if v, ok := viewer.FromContext(ctx); ok {
		c.SetActorID(v.UserID)
		if v.TokenID != 0 {
			if details == nil {
				details = map[string]any{}
			}
			details["token"] = strconv.Itoa(v.TokenID)
		}
	}
	if ri := requestInfoFrom(ctx); ri != nil {
		c.SetAddress(ri.addr)
	}
	if details != nil {
		c.SetDetails(details)
	}
	return c.Exec(viewer.SystemContext(ctx))
}

// denied audits a refused administrative request (and passes err on), so that
// attempts to go beyond one's permissions show in the audit log.
func (s *Service) denied(ctx context.Context, action, target string, err error) error {
	var pe *PermissionError
	if errors.As(err, &pe) {
		s.audit(ctx, action, target, false, map[string]any{"denied": pe.Error()})
	}
	return err
}

// AuditOutcome is Audit with the outcome: success false records an attempt that
// failed or was refused (an operator action Asterisk rejected, a denied request).
func AuditOutcome(ctx context.Context, action, target string, success bool, details map[string]any) error {
	s, ok := ctx.Value(serviceKey{}).(*Service)
	if !ok {
		return ErrUnauthenticated
	}
	return s.write(ctx, action, target, success, details)
}

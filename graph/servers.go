package graph

import (
	"context"
	"errors"
	"fmt"

	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/auth/viewer"
	"github.com/linkage/linkage/graph/model"
	"github.com/linkage/linkage/internal/servers"
)

// serverChange runs one administrative change of a server: it needs the config.write
// permission, is audited (the secret never is), and wakes the collector so the change
// takes effect at once rather than at its next poll.
// id is read when auditing, so a create can name the server it made.
func (r *Resolver) serverChange(ctx context.Context, action string, id func() int, details map[string]any, change func() error) error {
	target := func() string { return fmt.Sprintf("server/%d", id()) }
	if err := auth.Can(ctx, viewer.ConfigWrite, "*"); err != nil {
		_ = auth.AuditFailure(ctx, action, target(), map[string]any{"denied": err.Error()})
		return err
	}
	if err := change(); err != nil {
		switch {
		case errors.Is(err, servers.ErrInvalid):
			return &UserError{Code: CodeBadInput, Message: err.Error()}
		case errors.Is(err, servers.ErrHasCalls):
			return &UserError{Code: CodeConflict, Message: err.Error()}
		}
		return err
	}
	if err := auth.Audit(ctx, action, target(), details); err != nil {
		return err
	}
	if r.Ingest != nil {
		if err := r.Ingest.Reload(ctx); err != nil {
			return fmt.Errorf("graph: reload collector: %w", err)
		}
	}
	return nil
}

func serverInput(in model.ServerInput) servers.Input {
	return servers.Input{
		Name: in.Name, AMIAddress: in.AmiAddress, AMIUsername: in.AmiUsername, AMISecret: in.AmiSecret,
		Timezone: in.Timezone, Enabled: in.Enabled, TrunkPrefixes: in.TrunkPrefixes, TrunkContexts: in.TrunkContexts,
		RecordingsLocation: in.RecordingsLocation, CustomVariables: in.CustomVariables,
	}
}

// auditedSettings is what the audit log keeps of a change: which settings, never the secret.
func auditedSettings(in model.ServerInput) map[string]any {
	d := map[string]any{}
	if in.Name != nil {
		d["name"] = *in.Name
	}
	if in.AmiAddress != nil {
		d["amiAddress"] = *in.AmiAddress
	}
	if in.AmiSecret != nil {
		d["amiSecret"] = "changed"
	}
	if in.Enabled != nil {
		d["enabled"] = *in.Enabled
	}
	if in.CustomVariables != nil {
		d["customVariables"] = in.CustomVariables
	}
	return d
}

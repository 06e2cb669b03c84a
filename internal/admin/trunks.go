package admin

import (
	"context"
	"fmt"

	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/call"
	"github.com/linkage/linkage/ent/pausereason"
	"github.com/linkage/linkage/ent/trunk"
)

// TrunkInput is a trunk's settings; nil leaves a setting as it is.
type TrunkInput struct {
	Number *string
	Name   *string
}

func (in TrunkInput) details() map[string]any {
	d := map[string]any{}
	if in.Number != nil {
		d["number"] = *in.Number
	}
	if in.Name != nil {
		d["name"] = *in.Name
	}
	return d
}

func (s *Service) validateTrunk(ctx context.Context, serverID, self int, in TrunkInput) error {
	var f fieldErrs
	number := trimmed(in.Number)
	switch {
	case number == nil && self == 0, number != nil && *number == "":
		f.add("number", "is required")
	case number != nil:
		if ok, err := s.Client.Trunk.Query().Where(trunk.ServerID(serverID), trunk.Number(*number), trunk.IDNEQ(self)).Exist(ctx); err != nil {
			return fmt.Errorf("admin: trunk %q: %w", *number, err)
		} else if ok {
			f.add("number", "trunk %q exists on this server already", *number)
		}
	}
	return f.err()
}

// CreateTrunk adds a trunk (DID) to a server.
func (s *Service) CreateTrunk(ctx context.Context, serverID int, in TrunkInput) (*ent.Trunk, error) {
	var t *ent.Trunk
	d := in.details()
	d["server"] = serverID
	err := s.change(ctx, "trunk.create", func() string {
		if t != nil {
			return ref("trunk", t.ID)
		}
		return ref("server", serverID)
	}, d, func() error {
		if _, err := s.Client.Server.Get(sys(ctx), serverID); err != nil {
			return fmt.Errorf("admin: server %d: %w", serverID, err)
		}
		if err := s.validateTrunk(sys(ctx), serverID, 0, in); err != nil {
			return err
		}
		c := s.Client.Trunk.Create().SetServerID(serverID).SetNumber(*trimmed(in.Number))
		if v := trimmed(in.Name); v != nil && *v != "" {
			c.SetName(*v)
		}
		var err error
		t, err = c.Save(ctx)
		if ent.IsConstraintError(err) {
			return invalid("number", "trunk %q exists on this server already", *trimmed(in.Number))
		}
		if err != nil {
			return fmt.Errorf("admin: create trunk: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, serverID)
	return t, nil
}

// UpdateTrunk changes a trunk.
func (s *Service) UpdateTrunk(ctx context.Context, id int, in TrunkInput) (*ent.Trunk, error) {
	var t *ent.Trunk
	err := s.change(ctx, "trunk.update", func() string { return ref("trunk", id) }, in.details(), func() error {
		cur, err := s.Client.Trunk.Get(sys(ctx), id)
		if err != nil {
			return fmt.Errorf("admin: trunk %d: %w", id, err)
		}
		if err := s.validateTrunk(sys(ctx), cur.ServerID, id, in); err != nil {
			return err
		}
		u := s.Client.Trunk.UpdateOneID(id)
		if v := trimmed(in.Number); v != nil {
			u.SetNumber(*v)
		}
		if v := trimmed(in.Name); v != nil {
			if *v == "" {
				u.ClearName()
			} else {
				u.SetName(*v)
			}
		}
		t, err = u.Save(ctx)
		if ent.IsConstraintError(err) {
			return invalid("number", "trunk %q exists on this server already", *trimmed(in.Number))
		}
		if err != nil {
			return fmt.Errorf("admin: update trunk %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, t.ServerID)
	return t, nil
}

// DeleteTrunk removes a trunk no stored call arrived on (the calls would lose it).
func (s *Service) DeleteTrunk(ctx context.Context, id int) error {
	var serverID int
	err := s.change(ctx, "trunk.delete", func() string { return ref("trunk", id) }, nil, func() error {
		t, err := s.Client.Trunk.Get(sys(ctx), id)
		if err != nil {
			return fmt.Errorf("admin: trunk %d: %w", id, err)
		}
		serverID = t.ServerID
		if used, err := s.Client.Call.Query().Where(call.TrunkID(id)).Exist(sys(ctx)); err != nil {
			return fmt.Errorf("admin: calls of trunk %d: %w", id, err)
		} else if used {
			return &ConflictError{Msg: fmt.Sprintf("trunk %s has stored calls: it cannot be deleted without them", t.Number)}
		}
		if err := s.Client.Trunk.DeleteOneID(id).Exec(ctx); err != nil {
			return fmt.Errorf("admin: delete trunk %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.notify(ctx, serverID)
	return nil
}

// PauseReasonInput is a pause reason's settings; nil leaves a setting as it is. A
// reason without a server applies to every server.
type PauseReasonInput struct {
	ServerID *int
	Name     *string
	Position *int
	Enabled  *bool
}

func (in PauseReasonInput) details() map[string]any {
	d := map[string]any{}
	if in.ServerID != nil {
		d["server"] = *in.ServerID
	}
	if in.Name != nil {
		d["name"] = *in.Name
	}
	if in.Position != nil {
		d["position"] = *in.Position
	}
	if in.Enabled != nil {
		d["enabled"] = *in.Enabled
	}
	return d
}

// validatePauseReason checks a reason whose server will be serverID (nil: global).
// The unique index on (server_id, name) does not cover global reasons (NULLs are
// distinct in PostgreSQL), so uniqueness is checked here for both.
func (s *Service) validatePauseReason(ctx context.Context, serverID *int, self int, in PauseReasonInput, creating bool) error {
	var f fieldErrs
	if in.ServerID != nil {
		if _, err := s.Client.Server.Get(ctx, *in.ServerID); ent.IsNotFound(err) {
			f.add("serverID", "no server %d", *in.ServerID)
		} else if err != nil {
			return fmt.Errorf("admin: server %d: %w", *in.ServerID, err)
		}
	}
	if in.Position != nil && *in.Position < 0 {
		f.add("position", "must be 0 or more, got %d", *in.Position)
	}
	name := trimmed(in.Name)
	switch {
	case name == nil && creating, name != nil && *name == "":
		f.add("name", "is required")
	case name != nil || in.ServerID != nil:
		var n string
		if name != nil {
			n = *name
		} else {
			cur, err := s.Client.PauseReason.Get(ctx, self)
			if err != nil {
				return fmt.Errorf("admin: pause reason %d: %w", self, err)
			}
			n = cur.Name
		}
		q := s.Client.PauseReason.Query().Where(pausereason.Name(n), pausereason.IDNEQ(self))
		if serverID == nil {
			q.Where(pausereason.ServerIDIsNil())
		} else {
			q.Where(pausereason.ServerID(*serverID))
		}
		if ok, err := q.Exist(ctx); err != nil {
			return fmt.Errorf("admin: pause reason %q: %w", n, err)
		} else if ok {
			where := "among the reasons of every server"
			if serverID != nil {
				where = "on this server"
			}
			f.add("name", "a pause reason %q exists %s already", n, where)
		}
	}
	return f.err()
}

// CreatePauseReason adds a pause reason.
func (s *Service) CreatePauseReason(ctx context.Context, in PauseReasonInput) (*ent.PauseReason, error) {
	var p *ent.PauseReason
	err := s.change(ctx, "pause_reason.create", func() string {
		if p != nil {
			return ref("pause_reason", p.ID)
		}
		return "pause_reason"
	}, in.details(), func() error {
		if err := s.validatePauseReason(sys(ctx), in.ServerID, 0, in, true); err != nil {
			return err
		}
		var err error
		p, err = s.Client.PauseReason.Create().SetNillableServerID(in.ServerID).SetName(*trimmed(in.Name)).
			SetNillablePosition(in.Position).SetNillableEnabled(in.Enabled).Save(ctx)
		if ent.IsConstraintError(err) {
			return invalid("name", "a pause reason %q exists on this server already", *trimmed(in.Name))
		}
		if err != nil {
			return fmt.Errorf("admin: create pause reason: %w", err)
		}
		return nil
	})
	return p, err
}

// UpdatePauseReason changes a pause reason; a serverID moves it to that server.
func (s *Service) UpdatePauseReason(ctx context.Context, id int, in PauseReasonInput) (*ent.PauseReason, error) {
	var p *ent.PauseReason
	err := s.change(ctx, "pause_reason.update", func() string { return ref("pause_reason", id) }, in.details(), func() error {
		cur, err := s.Client.PauseReason.Get(sys(ctx), id)
		if err != nil {
			return fmt.Errorf("admin: pause reason %d: %w", id, err)
		}
		serverID := cur.ServerID
		if in.ServerID != nil {
			serverID = in.ServerID
		}
		if err := s.validatePauseReason(sys(ctx), serverID, id, in, false); err != nil {
			return err
		}
		u := s.Client.PauseReason.UpdateOneID(id).SetNillableServerID(in.ServerID).
			SetNillablePosition(in.Position).SetNillableEnabled(in.Enabled)
		if v := trimmed(in.Name); v != nil {
			u.SetName(*v)
		}
		p, err = u.Save(ctx)
		if ent.IsConstraintError(err) {
			return invalid("name", "a pause reason with this name exists on this server already")
		}
		if err != nil {
			return fmt.Errorf("admin: update pause reason %d: %w", id, err)
		}
		return nil
	})
	return p, err
}

// DeletePauseReason removes a pause reason. Pauses already taken keep their reason
// text in the status history.
func (s *Service) DeletePauseReason(ctx context.Context, id int) error {
	return s.change(ctx, "pause_reason.delete", func() string { return ref("pause_reason", id) }, nil, func() error {
		if err := s.Client.PauseReason.DeleteOneID(id).Exec(ctx); err != nil {
			return fmt.Errorf("admin: delete pause reason %d: %w", id, err)
		}
		return nil
	})
}

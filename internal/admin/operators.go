package admin

import (
	"context"
	"fmt"
	"strings"

	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/call"
	"github.com/linkage/linkage/ent/callleg"
	"github.com/linkage/linkage/ent/operator"
	"github.com/linkage/linkage/ent/operatorgroup"
	"github.com/linkage/linkage/ent/operatorstatuschange"
	"github.com/linkage/linkage/ent/queueattempt"
	"github.com/linkage/linkage/ent/queuevisit"
	"github.com/linkage/linkage/ent/user"
)

// OperatorInput is an operator's settings. Nil leaves a setting as it is; GroupIDs
// non-nil replaces the operator's groups.
type OperatorInput struct {
	Number    *string
	Interface *string
	Name      *string
	Tracked   *bool
	// UserID links the Linkage user who works as this operator; ClearUser unlinks.
	UserID    *int
	ClearUser bool
	GroupIDs  []int
}

func (in OperatorInput) details() map[string]any {
	d := map[string]any{}
	if in.Number != nil {
		d["number"] = *in.Number
	}
	if in.Interface != nil {
		d["interface"] = *in.Interface
	}
	if in.Name != nil {
		d["name"] = *in.Name
	}
	if in.Tracked != nil {
		d["tracked"] = *in.Tracked
	}
	if in.UserID != nil {
		d["user"] = *in.UserID
	}
	if in.ClearUser {
		d["clearUser"] = true
	}
	if in.GroupIDs != nil {
		d["groups"] = in.GroupIDs
	}
	return d
}

// validate checks in against the stored data: self is the operator being updated (0
// when creating one on serverID).
func (s *Service) validateOperator(ctx context.Context, serverID, self int, in OperatorInput) error {
	var f fieldErrs
	number := trimmed(in.Number)
	switch {
	case number == nil && self == 0, number != nil && *number == "":
		f.add("number", "is required")
	case number != nil:
		q := s.Client.Operator.Query().Where(operator.ServerID(serverID), operator.Number(*number), operator.IDNEQ(self))
		if ok, err := q.Exist(ctx); err != nil {
			return fmt.Errorf("admin: operator %q: %w", *number, err)
		} else if ok {
			f.add("number", "operator %q exists on this server already", *number)
		}
	}
	if iface := trimmed(in.Interface); iface != nil && *iface != "" {
		tech, res, ok := strings.Cut(*iface, "/")
		if !ok || tech == "" || res == "" || strings.ContainsAny(*iface, " \t") {
			f.add("interface", "%q: want TECH/RESOURCE, e.g. PJSIP/1001 or Local/1001@agents/n", *iface)
		}
	}
	if in.UserID != nil && in.ClearUser {
		f.add("userID", "give either userID or clearUser")
	} else if in.UserID != nil {
		if ok, err := s.Client.User.Query().Where(user.ID(*in.UserID)).Exist(ctx); err != nil {
			return fmt.Errorf("admin: user %d: %w", *in.UserID, err)
		} else if !ok {
			f.add("userID", "no user %d", *in.UserID)
		} else {
			q := s.Client.Operator.Query().Where(operator.ServerID(serverID), operator.UserID(*in.UserID), operator.IDNEQ(self))
			if other, err := q.First(ctx); err == nil {
				f.add("userID", "the user works as operator %s on this server already", other.Number)
			} else if !ent.IsNotFound(err) {
				return fmt.Errorf("admin: operators of user %d: %w", *in.UserID, err)
			}
		}
	}
	if in.GroupIDs != nil {
		ids := uniq(in.GroupIDs)
		n, err := s.Client.OperatorGroup.Query().Where(operatorgroup.IDIn(ids...)).Count(ctx)
		if err != nil {
			return fmt.Errorf("admin: groups: %w", err)
		}
		if n != len(ids) {
			f.add("groupIDs", "unknown operator group among %v", ids)
		}
	}
	return f.err()
}

// CreateOperator adds an operator to a server.
func (s *Service) CreateOperator(ctx context.Context, serverID int, in OperatorInput) (*ent.Operator, error) {
	var op *ent.Operator
	d := in.details()
	d["server"] = serverID
	err := s.change(ctx, "operator.create", func() string {
		if op != nil {
			return ref("operator", op.ID)
		}
		return ref("server", serverID)
	}, d, func() error {
		if _, err := s.Client.Server.Get(sys(ctx), serverID); err != nil {
			return fmt.Errorf("admin: server %d: %w", serverID, err)
		}
		if err := s.validateOperator(sys(ctx), serverID, 0, in); err != nil {
			return err
		}
		c := s.Client.Operator.Create().SetServerID(serverID).SetNumber(*trimmed(in.Number)).
			SetNillableTracked(in.Tracked).SetNillableUserID(in.UserID).AddGroupIDs(uniq(in.GroupIDs)...)
		if v := trimmed(in.Interface); v != nil && *v != "" {
			c.SetInterface(*v)
		}
		if v := trimmed(in.Name); v != nil && *v != "" {
			c.SetName(*v)
		}
		var err error
		op, err = c.Save(ctx)
		if ent.IsConstraintError(err) {
			return invalid("number", "operator %q exists on this server already", *trimmed(in.Number))
		}
		if err != nil {
			return fmt.Errorf("admin: create operator: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, serverID)
	return op, nil
}

// UpdateOperator changes an operator. Editing a discovered operator accepts it.
func (s *Service) UpdateOperator(ctx context.Context, id int, in OperatorInput) (*ent.Operator, error) {
	var op *ent.Operator
	err := s.change(ctx, "operator.update", func() string { return ref("operator", id) }, in.details(), func() error {
		cur, err := s.Client.Operator.Get(sys(ctx), id)
		if err != nil {
			return fmt.Errorf("admin: operator %d: %w", id, err)
		}
		if err := s.validateOperator(sys(ctx), cur.ServerID, id, in); err != nil {
			return err
		}
		u := s.Client.Operator.UpdateOneID(id).SetDiscovered(false).SetNillableTracked(in.Tracked)
		if v := trimmed(in.Number); v != nil {
			u.SetNumber(*v)
		}
		if v := trimmed(in.Interface); v != nil {
			if *v == "" {
				u.ClearInterface()
			} else {
				u.SetInterface(*v)
			}
		}
		if v := trimmed(in.Name); v != nil {
			if *v == "" {
				u.ClearName()
			} else {
				u.SetName(*v)
			}
		}
		if in.UserID != nil {
			u.SetUserID(*in.UserID)
		} else if in.ClearUser {
			u.ClearUserID()
		}
		if in.GroupIDs != nil {
			u.ClearGroups().AddGroupIDs(uniq(in.GroupIDs)...)
		}
		op, err = u.Save(ctx)
		if ent.IsConstraintError(err) {
			return invalid("number", "operator %q exists on this server already", *trimmed(in.Number))
		}
		if err != nil {
			return fmt.Errorf("admin: update operator %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, op.ServerID)
	return op, nil
}

// DeleteOperator removes an operator no stored call mentions, with their status
// history (a shift log without calls). Operators with calls are kept for their
// statistics: mark them untracked instead.
func (s *Service) DeleteOperator(ctx context.Context, id int) error {
	var serverID int
	err := s.change(ctx, "operator.delete", func() string { return ref("operator", id) }, nil, func() error {
		op, err := s.Client.Operator.Get(sys(ctx), id)
		if err != nil {
			return fmt.Errorf("admin: operator %d: %w", id, err)
		}
		serverID = op.ServerID
		if used, err := s.operatorInUse(sys(ctx), id); err != nil {
			return err
		} else if used {
			return &ConflictError{Msg: fmt.Sprintf("operator %s has stored calls: mark them untracked to keep their statistics", op.Number)}
		}
		tx, err := s.Client.Tx(ctx)
		if err != nil {
			return fmt.Errorf("admin: delete operator %d: %w", id, err)
		}
		defer tx.Rollback() //nolint:errcheck // no-op after commit
		// Only the collector writes status history, so its removal runs as the system
		// once the caller was allowed to remove the operator.
		if _, err := tx.OperatorStatusChange.Delete().Where(operatorstatuschange.HasOperatorWith(operator.ID(id))).Exec(auth.SystemContext(ctx)); err != nil {
			return fmt.Errorf("admin: status history of operator %d: %w", id, err)
		}
		if err := tx.Operator.DeleteOneID(id).Exec(ctx); err != nil {
			return fmt.Errorf("admin: delete operator %d: %w", id, err)
		}
		return tx.Commit()
	})
	if err != nil {
		return err
	}
	s.notify(ctx, serverID)
	return nil
}

// operatorInUse says whether any stored call names the operator.
func (s *Service) operatorInUse(ctx context.Context, id int) (bool, error) {
	checks := []func() (bool, error){
		func() (bool, error) {
			return s.Client.Call.Query().Where(call.Or(call.CallerOperatorID(id), call.AnsweredByID(id))).Exist(ctx)
		},
		func() (bool, error) { return s.Client.CallLeg.Query().Where(callleg.OperatorID(id)).Exist(ctx) },
		func() (bool, error) {
			return s.Client.QueueAttempt.Query().Where(queueattempt.OperatorID(id)).Exist(ctx)
		},
		func() (bool, error) { return s.Client.QueueVisit.Query().Where(queuevisit.AnsweredByID(id)).Exist(ctx) },
	}
	for _, c := range checks {
		used, err := c()
		if err != nil {
			return false, fmt.Errorf("admin: calls of operator %d: %w", id, err)
		}
		if used {
			return true, nil
		}
	}
	return false, nil
}

// GroupInput is an operator group's settings; OperatorIDs non-nil replaces the
// members.
type GroupInput struct {
	Name        *string
	Virtual     *bool
	OperatorIDs []int
}

func (in GroupInput) details() map[string]any {
	d := map[string]any{}
	if in.Name != nil {
		d["name"] = *in.Name
	}
	if in.Virtual != nil {
		d["virtual"] = *in.Virtual
	}
	if in.OperatorIDs != nil {
		d["operators"] = in.OperatorIDs
	}
	return d
}

func (s *Service) validateGroup(ctx context.Context, self int, in GroupInput) error {
	var f fieldErrs
	name := trimmed(in.Name)
	switch {
	case name == nil && self == 0, name != nil && *name == "":
		f.add("name", "is required")
	case name != nil:
		if ok, err := s.Client.OperatorGroup.Query().Where(operatorgroup.Name(*name), operatorgroup.IDNEQ(self)).Exist(ctx); err != nil {
			return fmt.Errorf("admin: group %q: %w", *name, err)
		} else if ok {
			f.add("name", "a group named %q exists already", *name)
		}
	}
	if in.OperatorIDs != nil {
		ids := uniq(in.OperatorIDs)
		n, err := s.Client.Operator.Query().Where(operator.IDIn(ids...)).Count(ctx)
		if err != nil {
			return fmt.Errorf("admin: operators: %w", err)
		}
		if n != len(ids) {
			f.add("operatorIDs", "unknown operator among %v", ids)
		}
	}
	return f.err()
}

// CreateGroup adds an operator group.
func (s *Service) CreateGroup(ctx context.Context, in GroupInput) (*ent.OperatorGroup, error) {
	var g *ent.OperatorGroup
	err := s.change(ctx, "group.create", func() string {
		if g != nil {
			return ref("group", g.ID)
		}
		return "group"
	}, in.details(), func() error {
		if err := s.validateGroup(sys(ctx), 0, in); err != nil {
			return err
		}
		var err error
		g, err = s.Client.OperatorGroup.Create().SetName(*trimmed(in.Name)).SetNillableVirtual(in.Virtual).
			AddOperatorIDs(uniq(in.OperatorIDs)...).Save(ctx)
		if ent.IsConstraintError(err) {
			return invalid("name", "a group named %q exists already", *trimmed(in.Name))
		}
		if err != nil {
			return fmt.Errorf("admin: create group: %w", err)
		}
		return nil
	})
	return g, err
}

// UpdateGroup changes an operator group.
func (s *Service) UpdateGroup(ctx context.Context, id int, in GroupInput) (*ent.OperatorGroup, error) {
	var g *ent.OperatorGroup
	err := s.change(ctx, "group.update", func() string { return ref("group", id) }, in.details(), func() error {
		if _, err := s.Client.OperatorGroup.Get(sys(ctx), id); err != nil {
			return fmt.Errorf("admin: group %d: %w", id, err)
		}
		if err := s.validateGroup(sys(ctx), id, in); err != nil {
			return err
		}
		u := s.Client.OperatorGroup.UpdateOneID(id).SetNillableVirtual(in.Virtual)
		if v := trimmed(in.Name); v != nil {
			u.SetName(*v)
		}
		if in.OperatorIDs != nil {
			u.ClearOperators().AddOperatorIDs(uniq(in.OperatorIDs)...)
		}
		var err error
		g, err = u.Save(ctx)
		if ent.IsConstraintError(err) {
			return invalid("name", "a group named %q exists already", *trimmed(in.Name))
		}
		if err != nil {
			return fmt.Errorf("admin: update group %d: %w", id, err)
		}
		return nil
	})
	return g, err
}

// DeleteGroup removes an operator group (its operators stay).
func (s *Service) DeleteGroup(ctx context.Context, id int) error {
	return s.change(ctx, "group.delete", func() string { return ref("group", id) }, nil, func() error {
		if err := s.Client.OperatorGroup.DeleteOneID(id).Exec(ctx); err != nil {
			return fmt.Errorf("admin: delete group %d: %w", id, err)
		}
		return nil
	})
}

// Package servers manages the Asterisk servers Linkage listens to: the one place that
// validates, creates, changes and removes them, for the CLI and the GraphQL API alike.
// A running collector picks the changes up by itself (it re-reads the table).
package servers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/call"
	"github.com/linkage/linkage/ent/operator"
	"github.com/linkage/linkage/ent/operatorstatuschange"
	"github.com/linkage/linkage/ent/queue"
	"github.com/linkage/linkage/ent/server"
	"github.com/linkage/linkage/ent/trunk"
)

// Input is a server's settings. Nil pointers leave a setting as it is on update.
type Input struct {
	Name               *string
	AMIAddress         *string
	AMIUsername        *string
	AMISecret          *string
	Timezone           *string
	Enabled            *bool
	TrunkPrefixes      []string
	TrunkContexts      []string
	RecordingsLocation *string
	// CustomVariables are channel variables captured as call custom fields; nil
	// leaves them as they are on update.
	CustomVariables []string
}

// ErrInvalid marks settings a user must correct; the message says which and how.
var ErrInvalid = errors.New("invalid server settings")

// ErrHasCalls refuses to remove a server whose statistics would go with it.
var ErrHasCalls = errors.New("the server has stored calls: disable it to stop listening and keep them")

// Validate checks in as a whole; creating needs every required setting.
func Validate(in Input, creating bool) error {
	var errs []string
	req := func(p *string, what string) {
		if creating && (p == nil || strings.TrimSpace(*p) == "") {
			errs = append(errs, what+" is required")
		}
	}
	req(in.Name, "name")
	req(in.AMIAddress, "AMI address")
	req(in.AMIUsername, "AMI username")
	req(in.AMISecret, "AMI secret")
	if in.Name != nil && strings.TrimSpace(*in.Name) == "" && !creating {
		errs = append(errs, "name must not be empty")
	}
	if in.AMIAddress != nil && *in.AMIAddress != "" {
		if _, port, err := net.SplitHostPort(*in.AMIAddress); err != nil || port == "" {
			errs = append(errs, fmt.Sprintf("AMI address %q: want HOST:PORT, e.g. 10.0.0.5:5038", *in.AMIAddress))
		}
	}
	if in.Timezone != nil {
		if _, err := time.LoadLocation(*in.Timezone); err != nil || *in.Timezone == "" {
			errs = append(errs, fmt.Sprintf("time zone %q: not an IANA time zone", *in.Timezone))
		}
	}
	for _, v := range in.CustomVariables {
		if v == "" || strings.ContainsAny(v, " \t\r\n:=,") {
			errs = append(errs, fmt.Sprintf("custom variable %q: want a channel variable name, e.g. CRM_ID", v))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(errs, "; "))
	}
	return nil
}

// Create adds a server.
func Create(ctx context.Context, c *ent.Client, in Input) (*ent.Server, error) {
	if err := Validate(in, true); err != nil {
		return nil, err
	}
	q := c.Server.Create().SetName(*in.Name).SetAmiAddress(*in.AMIAddress).
		SetAmiUsername(*in.AMIUsername).SetAmiSecret(*in.AMISecret).
		SetTrunkPrefixes(in.TrunkPrefixes).SetTrunkContexts(in.TrunkContexts).SetCustomVariables(in.CustomVariables).
		SetNillableTimezone(in.Timezone).SetNillableEnabled(in.Enabled).
		SetNillableRecordingsLocation(in.RecordingsLocation)
	s, err := q.Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, fmt.Errorf("%w: a server named %q exists already", ErrInvalid, *in.Name)
	}
	return s, err
}

// Update changes the given settings of server id.
func Update(ctx context.Context, c *ent.Client, id int, in Input) (*ent.Server, error) {
	if err := Validate(in, false); err != nil {
		return nil, err
	}
	u := c.Server.UpdateOneID(id)
	if in.Name != nil {
		u.SetName(*in.Name)
	}
	if in.AMIAddress != nil {
		u.SetAmiAddress(*in.AMIAddress)
	}
	if in.AMIUsername != nil {
		u.SetAmiUsername(*in.AMIUsername)
	}
	if in.AMISecret != nil && *in.AMISecret != "" {
		u.SetAmiSecret(*in.AMISecret)
	}
	if in.Timezone != nil {
		u.SetTimezone(*in.Timezone)
	}
	if in.Enabled != nil {
		u.SetEnabled(*in.Enabled)
	}
	if in.TrunkPrefixes != nil {
		u.SetTrunkPrefixes(in.TrunkPrefixes)
	}
	if in.TrunkContexts != nil {
		u.SetTrunkContexts(in.TrunkContexts)
	}
	if in.RecordingsLocation != nil {
		u.SetRecordingsLocation(*in.RecordingsLocation)
	}
	if in.CustomVariables != nil {
		u.SetCustomVariables(in.CustomVariables)
	}
	s, err := u.Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, fmt.Errorf("%w: a server named %q exists already", ErrInvalid, *in.Name)
	}
	return s, err
}

// Delete removes a server with no stored calls, and what was discovered on it. The
// caller checks the permission to change the configuration first.
func Delete(ctx context.Context, c *ent.Client, id int) error {
	if n, err := c.Call.Query().Where(call.ServerID(id)).Limit(1).Count(ctx); err != nil {
		return err
	} else if n > 0 {
		return ErrHasCalls
	}
	tx, err := c.Tx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if _, err := tx.Queue.Delete().Where(queue.ServerID(id)).Exec(ctx); err != nil {
		return err
	}
	// Status history of a server without calls is only its operators' shift log. Nobody
	// writes it but the collector, so its removal runs as the system, once the caller
	// was allowed to remove the server.
	if _, err := tx.OperatorStatusChange.Delete().Where(operatorstatuschange.HasOperatorWith(operator.ServerID(id))).Exec(auth.SystemContext(ctx)); err != nil {
		return err
	}
	if _, err := tx.Operator.Delete().Where(operator.ServerID(id)).Exec(ctx); err != nil {
		return err
	}
	if _, err := tx.Trunk.Delete().Where(trunk.ServerID(id)).Exec(ctx); err != nil {
		return err
	}
	if err := tx.Server.DeleteOneID(id).Exec(ctx); err != nil {
		return err
	}
	return tx.Commit()
}

// ByName finds a server by name.
func ByName(ctx context.Context, c *ent.Client, name string) (*ent.Server, error) {
	s, err := c.Server.Query().Where(server.Name(name)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("no server named %q", name)
	}
	return s, err
}

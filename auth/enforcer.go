package auth

import (
	"bufio"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/lib/pq"

	"entgo.io/ent/dialect/sql"
	"github.com/linkage/linkage/auth/viewer"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/casbinrule"
	"github.com/linkage/linkage/ent/predicate"
)

//go:embed model.conf
var modelConf string

//go:embed policy.csv
var policyCSV string

// notifyChannel is the PostgreSQL channel on which a process announces that it
// changed assignments; every process listening reloads its policy.
const notifyChannel = "linkage_authz"

// Enforcer wraps casbin: the embedded model and role policy, assignments from
// PostgreSQL, a cached synced enforcer, and reloads when another process changes
// the assignments.
type Enforcer struct {
	e      *casbin.SyncedCachedEnforcer
	client *ent.Client
	log    *slog.Logger

	listener *pq.Listener
	done     chan struct{}
	wg       sync.WaitGroup
	reloads  chan struct{} // for tests: a reload after a notification finished
}

// NewEnforcer loads the policy. With a non-empty dbURL it also listens for changes
// made by other processes (LISTEN/NOTIFY); Close stops listening.
func NewEnforcer(client *ent.Client, dbURL string, log *slog.Logger) (*Enforcer, error) {
	m, err := model.NewModelFromString(modelConf)
	if err != nil {
		return nil, fmt.Errorf("auth: casbin model: %w", err)
	}
	ce, err := casbin.NewSyncedCachedEnforcer(m, &adapter{client: client})
	if err != nil {
		return nil, fmt.Errorf("auth: casbin enforcer: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	en := &Enforcer{e: ce, client: client, log: log, done: make(chan struct{}), reloads: make(chan struct{}, 16)}
	if dbURL != "" {
		if err := en.listen(dbURL); err != nil {
			return nil, err
		}
	}
	return en, nil
}

func (en *Enforcer) listen(dbURL string) error {
	en.listener = pq.NewListener(dbURL, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			en.log.Warn("authz listener", "event", ev, "err", err)
		}
	})
	if err := en.listener.Listen(notifyChannel); err != nil {
		en.listener.Close()
		return fmt.Errorf("auth: listen for policy changes: %w", err)
	}
	en.wg.Add(1)
	go func() {
		defer en.wg.Done()
		for {
			select {
			case <-en.done:
				return
			case _, ok := <-en.listener.Notify:
				if !ok {
					return
				}
				// A nil notification means the connection was re-established and
				// notifications may have been missed: reload all the same.
				if err := en.Reload(); err != nil {
					en.log.Error("authz reload", "err", err)
				}
				select {
				case en.reloads <- struct{}{}:
				default:
				}
			}
		}
	}()
	return nil
}

// Close stops listening for changes.
func (en *Enforcer) Close() error {
	if en.listener == nil {
		return nil
	}
	close(en.done)
	err := en.listener.Close()
	en.wg.Wait()
	return err
}

// Reload reads the policy again (embedded role policy + assignments).
func (en *Enforcer) Reload() error {
	if err := en.e.LoadPolicy(); err != nil {
		return fmt.Errorf("auth: load policy: %w", err)
	}
	// LoadPolicy clears the cache before loading; an Enforce racing with it could
	// have cached an old answer in between.
	return en.e.InvalidateCache()
}

// Allowed reports whether subject may do action on object.
func (en *Enforcer) Allowed(subject, action, object string) bool {
	ok, err := en.e.Enforce(subject, action, object)
	if err != nil {
		en.log.Error("authz enforce", "subject", subject, "action", action, "err", err)
		return false
	}
	return ok
}

// Roles returns the roles assigned to subject (without the "role:" prefix).
func (en *Enforcer) Roles(subject string) []string {
	rs, _ := en.e.GetRolesForUser(subject)
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, strings.TrimPrefix(r, "role:"))
	}
	return out
}

// rules returns subject's own p lines (its scope grants) as (action, object) pairs.
func (en *Enforcer) rules(subject string) [][2]string {
	ps, _ := en.e.GetFilteredPolicy(0, subject)
	out := make([][2]string, 0, len(ps))
	for _, p := range ps {
		if len(p) >= 3 {
			out = append(out, [2]string{p[1], p[2]})
		}
	}
	return out
}

// adapter is casbin's persist.Adapter over our ent schema. LoadPolicy reads the
// embedded role policy and the assignments in casbin_rules; the save methods store
// assignments only, never the embedded lines.
type adapter struct{ client *ent.Client }

var _ persist.Adapter = (*adapter)(nil)

func sysctx() context.Context { return viewer.SystemContext(context.Background()) }

func (a *adapter) LoadPolicy(m model.Model) error {
	sc := bufio.NewScanner(strings.NewReader(policyCSV))
	for sc.Scan() {
		if err := persist.LoadPolicyLine(strings.TrimSpace(sc.Text()), m); err != nil {
			return err
		}
	}
	rows, err := a.client.CasbinRule.Query().Order(casbinrule.ByID()).All(sysctx())
	if err != nil {
		return err
	}
	for _, r := range rows {
		rule := []string{r.Ptype}
		for _, v := range []string{r.V0, r.V1, r.V2, r.V3, r.V4, r.V5} {
			if v == "" {
				break
			}
			rule = append(rule, v)
		}
		if err := persist.LoadPolicyArray(rule, m); err != nil {
			return err
		}
	}
	return nil
}

func builtin(ptype string, rule []string) bool {
	return ptype == "p" && len(rule) > 0 && strings.HasPrefix(rule[0], "role:")
}

func (a *adapter) SavePolicy(m model.Model) error {
	ctx := sysctx()
	tx, err := a.client.Tx(ctx)
	if err != nil {
		return err
	}
	if _, err := tx.CasbinRule.Delete().Exec(ctx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	for _, sec := range []string{"p", "g"} {
		for ptype, ast := range m[sec] {
			for _, rule := range ast.Policy {
				if builtin(ptype, rule) {
					continue
				}
				if err := createRule(ctx, tx.Client(), ptype, rule); err != nil {
					return errors.Join(err, tx.Rollback())
				}
			}
		}
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, 'save')", notifyChannel); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

func createRule(ctx context.Context, c *ent.Client, ptype string, rule []string) error {
	v := make([]string, 6)
	copy(v, rule)
	return c.CasbinRule.Create().SetPtype(ptype).
		SetV0(v[0]).SetV1(v[1]).SetV2(v[2]).SetV3(v[3]).SetV4(v[4]).SetV5(v[5]).
		OnConflict().DoNothing().Exec(ctx)
}

func (a *adapter) AddPolicy(_ string, ptype string, rule []string) error {
	if builtin(ptype, rule) {
		return errors.New("auth: role permissions are the embedded policy, not data")
	}
	return createRule(sysctx(), a.client, ptype, rule)
}

func (a *adapter) RemovePolicy(_ string, ptype string, rule []string) error {
	v := make([]string, 6)
	copy(v, rule)
	_, err := a.client.CasbinRule.Delete().Where(casbinrule.Ptype(ptype),
		casbinrule.V0(v[0]), casbinrule.V1(v[1]), casbinrule.V2(v[2]),
		casbinrule.V3(v[3]), casbinrule.V4(v[4]), casbinrule.V5(v[5])).Exec(sysctx())
	return err
}

func (a *adapter) RemoveFilteredPolicy(_ string, ptype string, fieldIndex int, fieldValues ...string) error {
	q := a.client.CasbinRule.Delete().Where(casbinrule.Ptype(ptype))
	cols := []string{casbinrule.FieldV0, casbinrule.FieldV1, casbinrule.FieldV2, casbinrule.FieldV3, casbinrule.FieldV4, casbinrule.FieldV5}
	for i, v := range fieldValues {
		if v != "" && fieldIndex+i < len(cols) {
			q.Where(fieldEQ(cols[fieldIndex+i], v))
		}
	}
	_, err := q.Exec(sysctx())
	return err
}

func fieldEQ(col, v string) predicate.CasbinRule { return predicate.CasbinRule(sql.FieldEQ(col, v)) }

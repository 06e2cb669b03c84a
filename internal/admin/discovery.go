package admin

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/linkage/linkage/ami/live"
	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/auth/viewer"
	"github.com/linkage/linkage/ent"
	"github.com/linkage/linkage/ent/operator"
	"github.com/linkage/linkage/ent/queue"
)

// Suggestions are what a server shows over AMI that Linkage does not know, or that
// the collector created and nobody accepted yet (discovered rows).
type Suggestions struct {
	Queues    []QueueSuggestion
	Operators []OperatorSuggestion
}

// QueueSuggestion is a queue seen on the server; Queue is set when a row exists.
type QueueSuggestion struct {
	Number  string
	Queue   *ent.Queue
	Members int
}

// OperatorSuggestion is a queue member seen on the server; Operator is set when a
// row exists. Number is the probable extension.
type OperatorSuggestion struct {
	Interface string
	Name      string
	Number    string
	Queues    []string
	Operator  *ent.Operator
}

// GuessNumber is the probable extension of a member interface: PJSIP/1001 → 1001,
// Local/1001@agents/n → 1001, SIP/1001-0000002a → 1001. Empty when the resource
// does not look like an extension.
func GuessNumber(iface string) string {
	_, res, ok := strings.Cut(iface, "/")
	if !ok {
		return ""
	}
	res, _, _ = strings.Cut(res, "@")
	res, _, _ = strings.Cut(res, "/")
	if i := strings.LastIndexByte(res, '-'); i > 0 && isHex(res[i+1:]) && len(res)-i-1 >= 8 {
		res = res[:i] // a channel name's unique suffix
	}
	if res == "" || strings.IndexFunc(res, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune("_.+*#-", r))
	}) >= 0 {
		return ""
	}
	return res
}

func isHex(s string) bool {
	return s != "" && strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}

// seenMember is a member interface as the live state shows it across queues.
type seenMember struct {
	iface, stateIface, name string
	queues                  []string
}

// seen reads the live state of a server: its queues (with member counts) and
// members, sorted.
func (s *Service) seen(serverID int) (queues map[string]int, members []*seenMember) {
	queues = map[string]int{}
	if s.Hub == nil {
		return queues, nil
	}
	byIface := map[string]*seenMember{}
	for _, ch := range s.Hub.Snapshot(live.TopicQueue, func(c *live.Change) bool { return c.Queue != nil && c.Queue.Server == serverID }) {
		q := ch.Queue
		queues[q.Name] = len(q.Members)
		for _, m := range q.Members {
			sm := byIface[m.Interface]
			if sm == nil {
				sm = &seenMember{iface: m.Interface}
				byIface[m.Interface] = sm
				members = append(members, sm)
			}
			if sm.stateIface == "" {
				sm.stateIface = m.StateInterface
			}
			if sm.name == "" {
				sm.name = m.Name
			}
			sm.queues = append(sm.queues, q.Name)
		}
	}
	slices.SortFunc(members, func(a, b *seenMember) int { return strings.Compare(a.iface, b.iface) })
	return queues, members
}

// operatorFor finds the operator row of a member: by interface (member or state
// interface), else by the extension guessed from it.
func operatorFor(ops []*ent.Operator, m *seenMember) *ent.Operator {
	for _, op := range ops {
		if op.Interface != "" && (op.Interface == m.iface || op.Interface == m.stateIface) {
			return op
		}
	}
	for _, guess := range []string{GuessNumber(m.iface), GuessNumber(m.stateIface)} {
		if guess == "" {
			continue
		}
		for _, op := range ops {
			if op.Number == guess {
				return op
			}
		}
	}
	return nil
}

// Suggestions lists what the server shows over AMI that Linkage does not know, plus
// the rows still marked discovered. Admins only.
func (s *Service) Suggestions(ctx context.Context, serverID int) (*Suggestions, error) {
	if err := auth.Can(ctx, viewer.ConfigWrite, "*"); err != nil {
		return nil, err
	}
	return s.suggestions(sys(ctx), serverID)
}

func (s *Service) suggestions(ctx context.Context, serverID int) (*Suggestions, error) {
	qrows, err := s.Client.Queue.Query().Where(queue.ServerID(serverID)).Order(ent.Asc(queue.FieldNumber)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("admin: queues of server %d: %w", serverID, err)
	}
	ops, err := s.Client.Operator.Query().Where(operator.ServerID(serverID)).Order(ent.Asc(operator.FieldNumber)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("admin: operators of server %d: %w", serverID, err)
	}
	liveQueues, members := s.seen(serverID)
	out := &Suggestions{Queues: []QueueSuggestion{}, Operators: []OperatorSuggestion{}}

	byNumber := map[string]*ent.Queue{}
	for _, q := range qrows {
		byNumber[q.Number] = q
	}
	names := make([]string, 0, len(liveQueues))
	for n := range liveQueues {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if q := byNumber[n]; q == nil || q.Discovered {
			out.Queues = append(out.Queues, QueueSuggestion{Number: n, Queue: q, Members: liveQueues[n]})
		}
	}
	for _, q := range qrows {
		if _, shown := liveQueues[q.Number]; q.Discovered && !shown {
			out.Queues = append(out.Queues, QueueSuggestion{Number: q.Number, Queue: q})
		}
	}

	matched := map[int]bool{}
	for _, m := range members {
		op := operatorFor(ops, m)
		if op != nil {
			matched[op.ID] = true
		}
		if op != nil && !op.Discovered {
			continue
		}
		sg := OperatorSuggestion{Interface: m.iface, Name: m.name, Number: GuessNumber(m.iface), Queues: m.queues, Operator: op}
		if op != nil {
			sg.Number = op.Number
		}
		out.Operators = append(out.Operators, sg)
	}
	for _, op := range ops {
		if op.Discovered && !matched[op.ID] {
			out.Operators = append(out.Operators, OperatorSuggestion{Interface: op.Interface, Name: op.Name, Number: op.Number,
				Queues: []string{}, Operator: op})
		}
	}
	return out, nil
}

// AcceptDiscovered accepts queues (by number) and operators (by member interface,
// or by number for a discovered operator without one) as they are: it creates the
// rows Linkage lacks and clears discovered on the others. It returns what is left
// to suggest.
func (s *Service) AcceptDiscovered(ctx context.Context, serverID int, queues, operators []string) (*Suggestions, error) {
	var left *Suggestions
	d := map[string]any{"queues": queues, "operators": operators}
	err := s.change(ctx, "discovery.accept", func() string { return ref("server", serverID) }, d, func() error {
		if _, err := s.Client.Server.Get(sys(ctx), serverID); err != nil {
			return fmt.Errorf("admin: server %d: %w", serverID, err)
		}
		sg, err := s.suggestions(sys(ctx), serverID)
		if err != nil {
			return err
		}
		tx, err := s.Client.Tx(ctx)
		if err != nil {
			return fmt.Errorf("admin: accept: %w", err)
		}
		defer tx.Rollback() //nolint:errcheck // no-op after commit
		var f fieldErrs
		for _, n := range queues {
			i := slices.IndexFunc(sg.Queues, func(q QueueSuggestion) bool { return q.Number == n })
			switch {
			case i < 0:
				f.add("queues", "%q is not a suggestion of this server", n)
			case sg.Queues[i].Queue != nil:
				if err := tx.Queue.UpdateOneID(sg.Queues[i].Queue.ID).SetDiscovered(false).Exec(ctx); err != nil {
					return fmt.Errorf("admin: accept queue %s: %w", n, err)
				}
			default:
				if err := tx.Queue.Create().SetServerID(serverID).SetNumber(n).Exec(ctx); err != nil {
					return fmt.Errorf("admin: accept queue %s: %w", n, err)
				}
			}
		}
		for _, key := range operators {
			i := slices.IndexFunc(sg.Operators, func(o OperatorSuggestion) bool {
				return o.Interface == key || o.Interface == "" && o.Operator != nil && o.Operator.Number == key
			})
			if i < 0 {
				f.add("operators", "%q is not a suggestion of this server", key)
				continue
			}
			o := sg.Operators[i]
			if o.Operator != nil {
				u := tx.Operator.UpdateOneID(o.Operator.ID).SetDiscovered(false)
				if o.Operator.Interface == "" && o.Interface != "" {
					u.SetInterface(o.Interface)
				}
				if err := u.Exec(ctx); err != nil {
					return fmt.Errorf("admin: accept operator %s: %w", key, err)
				}
				continue
			}
			if o.Number == "" {
				f.add("operators", "%q: no extension can be guessed from it; create the operator by hand", key)
				continue
			}
			c := tx.Operator.Create().SetServerID(serverID).SetNumber(o.Number).SetInterface(o.Interface)
			if o.Name != "" {
				c.SetName(o.Name)
			}
			if err := c.Exec(ctx); ent.IsConstraintError(err) {
				// The transaction is aborted now: report this one alone.
				return invalid("operators", "%q: operator %s exists already with another interface", key, o.Number)
			} else if err != nil {
				return fmt.Errorf("admin: accept operator %s: %w", key, err)
			}
		}
		if err := f.err(); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("admin: accept: %w", err)
		}
		left, err = s.suggestions(sys(ctx), serverID)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, serverID)
	return left, nil
}

package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/linkage/linkage/ami/live"
)

// Subscription sharing.
//
// gqlgen executes a subscription's selection set and marshals the result once per
// connection and message. With 1,000 CRM screens on callEvents that is 1,000
// executions of the same selection over the same event. Here subscribers of one
// group, the same operation (formatted query, operation name, variables) under the
// same viewer scope key, render a message once: the first subscriber to reach a
// message (keyed by the hub versions it was made from, live.Keyed) executes it
// through gqlgen as usual, and the others of the group get the same response
// bytes. Scope stays exact twice over: the scope key is part of the group, and the
// message key names the changes the subscriber's own (scoped) filter let through.
//
// It is an operation interceptor: the live resolvers find a shareSlot in the
// context, attach their keyed source to it and hand gqlgen a channel that the
// interceptor feeds only when this subscriber has to render the message itself.

// shareCacheSize and shareCacheBytes bound the rendered messages a group keeps (a
// board snapshot can be large). A subscriber that falls further behind than this
// renders its own message (correct, just not shared).
const (
	shareCacheSize  = 256
	shareCacheBytes = 4 << 20
)

type shareSlotKey struct{}

// shareSlot is filled in by a live resolver during Exec.
type shareSlot struct {
	// share: the viewer's scope key is known (scope), so the messages may be shared;
	// otherwise every message is rendered by its subscriber (and still counted).
	share bool
	scope string
	// recv waits for the subscriber's next message: its key, push (hands the value
	// to gqlgen's channel, for rendering it here) and false at the end.
	recv func(ctx context.Context) (key string, push func(), ok bool)
}

// sharer is the operation interceptor; one per handler.
type sharer struct {
	mu     sync.Mutex
	groups map[string]*shareGroup

	shared, rendered prometheus.Counter
}

func newSharer(reg prometheus.Registerer) *sharer {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "linkage_graphql_subscription_messages_total",
		Help: "Live subscription messages sent, by whether this subscriber rendered it or got the bytes another subscriber of its group rendered."},
		[]string{"render"})
	if reg != nil {
		_ = reg.Register(v) // a second handler on one registry (tests) keeps its counters unregistered
	}
	return &sharer{groups: map[string]*shareGroup{}, shared: v.WithLabelValues("shared"), rendered: v.WithLabelValues("own")}
}

func (*sharer) ExtensionName() string                   { return "LiveSubscriptionSharing" }
func (*sharer) Validate(graphql.ExecutableSchema) error { return nil }
func (s *sharer) groupCount() int                       { s.mu.Lock(); defer s.mu.Unlock(); return len(s.groups) }
func shareSlotFrom(ctx context.Context) *shareSlot {
	sl, _ := ctx.Value(shareSlotKey{}).(*shareSlot)
	return sl
}
func withShareSlot(ctx context.Context, sl *shareSlot) context.Context {
	return context.WithValue(ctx, shareSlotKey{}, sl)
}

// shareGroup is the subscribers of one operation and scope, and the messages they
// rendered lately.
type shareGroup struct {
	refs int // under sharer.mu

	mu      sync.Mutex
	entries map[string]*shareEntry
	ring    [shareCacheSize]string // keys in insertion order, for eviction
	next    int                    // the oldest slot of ring, the next to reuse
	bytes   int                    // data held by entries
}

// shareEntry is one message: done closes when the subscriber that claimed it has
// rendered it; data is then the response's data, or nil when it could not be
// shared (errors, cancelled) and everyone renders their own.
type shareEntry struct {
	done chan struct{}
	data json.RawMessage
}

// claim returns the entry of key and whether the caller must render it.
func (g *shareGroup) claim(key string) (*shareEntry, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if e, ok := g.entries[key]; ok {
		return e, false
	}
	e := &shareEntry{done: make(chan struct{})}
	g.evictLocked(g.next)
	g.ring[g.next] = key
	g.next = (g.next + 1) % shareCacheSize
	g.entries[key] = e
	return e, true
}

func (g *shareGroup) evictLocked(slot int) {
	if old := g.ring[slot]; old != "" {
		g.bytes -= len(g.entries[old].data)
		delete(g.entries, old)
		g.ring[slot] = ""
	}
}

// store publishes e's rendered data and evicts the oldest messages beyond the byte
// budget (never e itself: it is the newest).
func (g *shareGroup) store(key string, e *shareEntry, data json.RawMessage) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e.data = data
	if g.entries[key] != e { // evicted while it was rendered: waiters still get it
		return
	}
	g.bytes += len(data)
	for i := 0; g.bytes > shareCacheBytes && i < shareCacheSize-1; i++ {
		g.evictLocked((g.next + i) % shareCacheSize)
	}
}

func (s *sharer) join(key string) *shareGroup {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[key]
	if g == nil {
		g = &shareGroup{entries: map[string]*shareEntry{}}
		s.groups[key] = g
	}
	g.refs++
	return g
}

func (s *sharer) leave(key string, g *shareGroup) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.refs--; g.refs == 0 {
		delete(s.groups, key)
	}
}

// operationKey names what the subscription renders: the formatted document (so
// whitespace and comments do not split groups), the operation name and the
// variables (encoding/json sorts map keys).
func operationKey(oc *graphql.OperationContext) (string, error) {
	var b bytes.Buffer
	formatter.NewFormatter(&b).FormatQueryDocument(oc.Doc)
	b.WriteByte(0)
	b.WriteString(oc.OperationName)
	b.WriteByte(0)
	vars, err := json.Marshal(oc.Variables)
	if err != nil {
		return "", fmt.Errorf("graph: subscription variables: %w", err)
	}
	b.Write(vars)
	return b.String(), nil
}

// InterceptOperation shares the rendering of subscriptions whose resolver attached
// a keyed source; every other operation passes through untouched.
func (s *sharer) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	slot := &shareSlot{}
	h := next(withShareSlot(ctx, slot))
	if slot.recv == nil { // not a shared live subscription, or it failed
		return h
	}
	if !slot.share {
		return s.unshared(slot, h)
	}
	op, err := operationKey(oc)
	if err != nil { // cannot name the group: no sharing, still correct
		return s.unshared(slot, h)
	}
	key := op + "\x00" + slot.scope
	g := s.join(key)
	var once sync.Once
	leave := func() { once.Do(func() { s.leave(key, g) }) }
	// The transport cancels the operation's context when the subscription ends,
	// whichever way it ends; that releases the group.
	context.AfterFunc(ctx, leave)
	return func(rctx context.Context) *graphql.Response {
		k, push, ok := slot.recv(rctx)
		if !ok {
			leave()
			return nil
		}
		e, mine := g.claim(k)
		if !mine {
			select {
			case <-e.done:
			case <-rctx.Done():
				return nil
			}
			if e.data != nil {
				s.shared.Inc()
				return &graphql.Response{Data: e.data}
			}
			// The subscriber that claimed it could not share it: render our own.
			s.rendered.Inc()
			push()
			return h(rctx)
		}
		defer close(e.done)
		s.rendered.Inc()
		push()
		resp := h(rctx)
		if resp != nil && len(resp.Errors) == 0 && len(resp.Extensions) == 0 && resp.Data != nil {
			// A copy: the generated Exec reuses its buffer for the subscription's
			// next message.
			g.store(k, e, bytes.Clone(resp.Data))
		}
		return resp
	}
}

// unshared renders every message of slot's subscriber itself.
func (s *sharer) unshared(slot *shareSlot, h graphql.ResponseHandler) graphql.ResponseHandler {
	return func(rctx context.Context) *graphql.Response {
		_, push, ok := slot.recv(rctx)
		if !ok {
			return nil
		}
		s.rendered.Inc()
		push()
		return h(rctx)
	}
}

// watchShared is live.Watch for a subscription resolver: with a sharer in front it
// attaches the keyed source to the operation's slot and returns the channel the
// sharer feeds (sharing when share, i.e. when the viewer's scope key is known);
// without one (another server assembly) it is a plain Watch of the values.
func watchShared[T any](ctx context.Context, h *live.Hub, scopeKey string, share bool, topic live.Topic,
	filter func(*live.Change) bool, conv func(chs []live.Change, snapshot bool) []live.Keyed[T]) <-chan T {
	slot := shareSlotFrom(ctx)
	if slot == nil {
		return live.Watch(ctx, h, topic, filter, func(chs []live.Change, snapshot bool) []T {
			ks := conv(chs, snapshot)
			out := make([]T, len(ks))
			for i := range ks {
				out[i] = ks[i].Value
			}
			return out
		})
	}
	src := live.Watch(ctx, h, topic, filter, conv)
	// One slot is enough: the sharer pushes only right before it asks gqlgen for
	// the response, which takes the value at once.
	feed := make(chan T, 1)
	slot.share, slot.scope = share, scopeKey
	slot.recv = func(rctx context.Context) (string, func(), bool) {
		select {
		case m, ok := <-src:
			if !ok {
				return "", nil, false
			}
			return m.Key, func() { feed <- m.Value }, true
		case <-rctx.Done():
			return "", nil, false
		}
	}
	return feed
}

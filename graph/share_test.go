package graph

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/linkage/linkage/auth/viewer"
)

// fakeSub is one subscription through the sharer: the "resolver" attaches keys from
// keys to the slot under scope, and every render gqlgen would do is counted and
// numbered, so a shared response is recognisable by its number.
type fakeSub struct {
	h      graphql.ResponseHandler
	cancel context.CancelFunc
}

func subscribeFake(t *testing.T, s *sharer, query string, vars map[string]any, scope string, keys <-chan string, renders *atomic.Int64, fail func(key string) bool) *fakeSub {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		t.Fatal(err)
	}
	oc := &graphql.OperationContext{RawQuery: query, Doc: doc, Operation: doc.Operations[0], Variables: vars}
	ctx, cancel := context.WithCancel(graphql.WithOperationContext(context.Background(), oc))
	h := s.InterceptOperation(ctx, func(ctx context.Context) graphql.ResponseHandler {
		slot := shareSlotFrom(ctx)
		if slot == nil {
			t.Fatal("no share slot in a subscription's context")
		}
		feed := make(chan string, 1)
		slot.share, slot.scope = true, scope
		slot.recv = func(rctx context.Context) (string, func(), bool) {
			select {
			case k, ok := <-keys:
				if !ok {
					return "", nil, false
				}
				return k, func() { feed <- k }, true
			case <-rctx.Done():
				return "", nil, false
			}
		}
		return func(ctx context.Context) *graphql.Response {
			k := <-feed
			n := renders.Add(1)
			r := &graphql.Response{Data: []byte(fmt.Sprintf(`{"key":%q,"render":%d}`, k, n))}
			if fail != nil && fail(k) {
				r.Errors = gqlerror.List{{Message: "boom"}}
			}
			return r
		}
	})
	t.Cleanup(cancel)
	return &fakeSub{h: h, cancel: cancel}
}

func nextData(t *testing.T, f *fakeSub) string {
	t.Helper()
	r := f.h(context.Background())
	if r == nil {
		t.Fatal("subscription ended")
	}
	return string(r.Data)
}

const evQuery = `subscription { callEvents { kind linkedid } }`

// Subscribers of one operation and scope render a message once; another scope, other
// variables or another selection render their own, even for the same message key.
func TestSharerGroupsByOperationAndScope(t *testing.T) {
	s := newSharer(nil)
	var renders atomic.Int64
	type viewer struct {
		name, query, scope string
		vars               map[string]any
	}
	vs := []viewer{
		{"a1", evQuery, "q:600 o:", nil},
		{"a2", "subscription {\n  callEvents { kind   linkedid }\n}", "q:600 o:", nil}, // same operation, other whitespace
		{"b", evQuery, "q:600,601 o:", nil},
		{"c", `subscription { callEvents { kind } }`, "q:600 o:", nil},
		{"d", `subscription($f: LiveCallFilter) { callEvents(filter: $f) { kind linkedid } }`, "q:600 o:", map[string]any{"f": map[string]any{"queueIds": []any{"600"}}}},
	}
	got := map[string]string{}
	for _, v := range vs {
		keys := make(chan string, 1)
		keys <- "e1"
		got[v.name] = nextData(t, subscribeFake(t, s, v.query, v.vars, v.scope, keys, &renders, nil))
	}
	if got["a1"] != got["a2"] {
		t.Errorf("same operation and scope rendered twice: %s vs %s", got["a1"], got["a2"])
	}
	for _, other := range []string{"b", "c", "d"} {
		if got[other] == got["a1"] {
			t.Errorf("%s (other scope, selection or variables) got a1's payload %s", other, got["a1"])
		}
	}
	if n := renders.Load(); n != 4 {
		t.Errorf("%d renders for 5 subscribers in 4 groups, want 4", n)
	}
	if c := s.groupCount(); c != 4 {
		t.Errorf("%d groups, want 4", c)
	}
}

// A response with errors is not shared: the next subscriber renders its own. Ending
// the subscriptions releases the group.
func TestSharerErrorsAndRelease(t *testing.T) {
	s := newSharer(nil)
	var renders atomic.Int64
	var subs []*fakeSub
	for range 3 {
		keys := make(chan string, 2)
		keys <- "bad"
		keys <- "good"
		close(keys)
		subs = append(subs, subscribeFake(t, s, evQuery, nil, "all", keys, &renders, func(k string) bool { return k == "bad" }))
	}
	var good []string
	for _, f := range subs {
		nextData(t, f)
		good = append(good, nextData(t, f))
	}
	if n := renders.Load(); n != 4 { // three "bad", one "good"
		t.Errorf("%d renders, want 4 (errors rendered by each subscriber, the good message once)", n)
	}
	if good[0] != good[1] || good[1] != good[2] {
		t.Errorf("the good message was not shared: %q", good)
	}
	if r := subs[0].h(context.Background()); r != nil { // keys closed: the end
		t.Errorf("response after the end: %s", r.Data)
	}
	for _, f := range subs {
		f.cancel()
	}
	for range 100 {
		if s.groupCount() == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Errorf("%d groups left after every subscription ended", s.groupCount())
}

func TestLiveScopeKey(t *testing.T) {
	key := func(v viewer.Viewer) string {
		k, ok := LiveScopeKey(viewer.NewContext(context.Background(), &v))
		if !ok {
			t.Fatal("no key")
		}
		return k
	}
	read := map[string]bool{viewer.MonitorRead: true}
	if a, b := key(viewer.Viewer{Scope: viewer.Scope{QueueIDs: []int{3, 1, 1}}, Permissions: read}),
		key(viewer.Viewer{Login: "other", Scope: viewer.Scope{QueueIDs: []int{1, 3}}, Permissions: map[string]bool{viewer.MonitorRead: true, "x": false}}); a != b {
		t.Errorf("same scope and permissions, different keys: %q %q", a, b)
	}
	distinct := map[string]viewer.Viewer{}
	for _, v := range []viewer.Viewer{
		{Scope: viewer.Scope{All: true}, Permissions: read},
		{Scope: viewer.Scope{All: true}, Permissions: map[string]bool{viewer.MonitorRead: true, viewer.RecordingsListen: true}},
		{Permissions: read},
		{Scope: viewer.Scope{QueueIDs: []int{1}}, Permissions: read},
		{Scope: viewer.Scope{QueueIDs: []int{1, 2}}, Permissions: read},
		{Scope: viewer.Scope{OperatorIDs: []int{1}}, Permissions: read},
		{Scope: viewer.Scope{QueueIDs: []int{1}, OperatorIDs: []int{1}}, Permissions: read},
		{Scope: viewer.Scope{QueueIDs: []int{12}}, Permissions: read},
	} {
		k := key(v)
		if prev, dup := distinct[k]; dup {
			t.Errorf("viewers %+v and %+v share the key %q", prev, v, k)
		}
		distinct[k] = v
	}
	if _, ok := LiveScopeKey(context.Background()); ok {
		t.Error("a key for a context without a viewer")
	}
}

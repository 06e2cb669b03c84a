package app

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linkage/linkage/ami/live"
	"github.com/linkage/linkage/ami/sim"
	"github.com/linkage/linkage/ami/sim/pbx"
	"github.com/linkage/linkage/auth"
	"github.com/linkage/linkage/ent/operator"
	"github.com/linkage/linkage/ent/queue"
)

type suggestions struct {
	Queues []struct {
		Number  string
		Members int
		Queue   *struct {
			ID         string
			Discovered bool
		}
	}
	Operators []struct {
		Interface, Name, Number string
		Queues                  []string
		Operator                *struct {
			ID, Number string
			Discovered bool
		}
	}
}

func (s suggestions) queueNumbers() []string {
	var out []string
	for _, q := range s.Queues {
		out = append(out, q.Number)
	}
	return out
}

func (s suggestions) operatorKeys() []string {
	var out []string
	for _, o := range s.Operators {
		out = append(out, o.Interface+"="+o.Number)
	}
	return out
}

const suggestionFields = `queues { number members queue { id discovered } } operators { interface name number queues operator { id number discovered } }`

// liveQueue is the live state's current value of a queue of the server.
func liveQueue(a *App, serverID int, name string) *live.QueueStats {
	for _, ch := range a.Hub.Snapshot(live.TopicQueue, nil) {
		if ch.Queue != nil && ch.Queue.Server == serverID && ch.Queue.Name == name {
			return ch.Queue
		}
	}
	return nil
}

// TestDiscovery: a simulated Asterisk with three queues and eight members. Linkage
// knows queue support (accepted), vip (discovered by the collector), operator 1001
// (accepted) and 1007 (discovered, without interface). The suggestions are what AMI
// shows beyond that; accepting creates the missing rows with extensions guessed from
// the interfaces, clears discovered, and the live state knows the new ids at once.
// The connection test runs against the same simulator with the stored settings.
func TestDiscovery(t *testing.T) {
	a, logs := startApp(t)
	cfg := pbx.DefaultConfig()
	cfg.CallsPerHour, cfg.OutboundPerHour, cfg.InternalPerHour = 0, 0, 0 // members only, no calls
	s := sim.New(sim.Options{Listen: "127.0.0.1:0", Username: "linkage", Secret: "sim-secret-disc", Speed: 1, PBX: cfg,
		AuthFailDelay: 10 * time.Millisecond}, slog.New(slog.DiscardHandler))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	ctx := auth.SystemContext(context.Background())
	srv := a.Client.Server.Create().SetName("sim").SetAmiAddress(s.Addr()).SetAmiUsername("linkage").SetAmiSecret("sim-secret-disc").SaveX(ctx)
	a.Client.Queue.Create().SetServerID(srv.ID).SetNumber("support").SaveX(ctx)
	a.Client.Queue.Create().SetServerID(srv.ID).SetNumber("vip").SetDiscovered(true).SaveX(ctx)
	a.Client.Operator.Create().SetServerID(srv.ID).SetNumber("1001").SetInterface("PJSIP/1001").SaveX(ctx)
	a.Client.Operator.Create().SetServerID(srv.ID).SetNumber("1007").SetDiscovered(true).SaveX(ctx)
	if err := a.Collector.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}

	adm := adminClient(t, a)
	sugg := `query($id: ID!) { node(id: $id) { ... on Server { suggestions { ` + suggestionFields + ` } } } }`
	var got struct {
		Node struct{ Suggestions suggestions }
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		adm.ok(t, sugg, map[string]any{"id": srv.ID}, &got)
		if len(got.Node.Suggestions.Operators) >= 7 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no members seen over AMI: %+v\n%s", got, logsOf(a))
		}
		time.Sleep(100 * time.Millisecond)
	}
	sg := got.Node.Suggestions
	if q := sg.queueNumbers(); !slices.Equal(q, []string{"sales", "vip"}) {
		t.Fatalf("queue suggestions %v, want sales (new) and vip (discovered)", q)
	}
	if sg.Queues[0].Queue != nil || sg.Queues[0].Members != 3 || sg.Queues[1].Queue == nil || !sg.Queues[1].Queue.Discovered {
		t.Fatalf("queue suggestions %+v", sg.Queues)
	}
	wantOps := []string{"Local/1003@agents/n=1003", "Local/1004@agents=1004", "Local/1008@agents/n=1008",
		"PJSIP/1002=1002", "PJSIP/1005=1005", "PJSIP/1006=1006", "PJSIP/1007=1007"}
	if o := sg.operatorKeys(); !slices.Equal(o, wantOps) {
		t.Fatalf("operator suggestions %v, want %v", o, wantOps)
	}
	for _, o := range sg.Operators {
		switch o.Interface {
		case "PJSIP/1002":
			// The collector may have created the operator from its status events by now:
			// then it is a discovered row.
			if o.Name != "Boris" || !slices.Equal(o.Queues, []string{"sales", "support"}) && !slices.Equal(o.Queues, []string{"support", "sales"}) ||
				o.Operator != nil && !o.Operator.Discovered {
				t.Fatalf("PJSIP/1002: %+v", o)
			}
		case "PJSIP/1007":
			if o.Operator == nil || !o.Operator.Discovered || o.Operator.Number != "1007" {
				t.Fatalf("PJSIP/1007 should be the discovered operator 1007: %+v", o)
			}
		}
	}
	// Only admins see suggestions.
	sup := signIn(t, a, "sup", []string{auth.RoleSupervisor}, auth.Grant{AllQueues: true, AllGroups: true})
	if _, r := sup.gql(t, sugg, map[string]any{"id": srv.ID}); errCode(r) != "FORBIDDEN" {
		t.Fatalf("supervisor read suggestions: %s %+v", r.Data, r.Errors)
	}

	accept := `mutation($s: ID!, $q: [String!], $o: [String!]) { acceptDiscovered(serverID: $s, queues: $q, operators: $o) { ` + suggestionFields + ` } }`
	adm.fails(t, "GRAPHQL_VALIDATION_FAILED", accept, map[string]any{"s": srv.ID, "q": []string{"support"}, "o": []string{"PJSIP/9999"}},
		`"support" is not a suggestion`, `"PJSIP/9999" is not a suggestion`)
	var acc struct{ AcceptDiscovered suggestions }
	adm.ok(t, accept, map[string]any{"s": srv.ID, "q": []string{"sales", "vip"}, "o": []string{"PJSIP/1002", "Local/1003@agents/n", "PJSIP/1007"}}, &acc)
	if q := acc.AcceptDiscovered.queueNumbers(); len(q) != 0 {
		t.Fatalf("queues left after accepting: %v", q)
	}
	if o := acc.AcceptDiscovered.operatorKeys(); !slices.Equal(o, []string{"Local/1004@agents=1004", "Local/1008@agents/n=1008", "PJSIP/1005=1005", "PJSIP/1006=1006"}) {
		t.Fatalf("operators left after accepting: %v", o)
	}
	sales := a.Client.Queue.Query().Where(queue.ServerID(srv.ID), queue.Number("sales")).OnlyX(ctx)
	vip := a.Client.Queue.Query().Where(queue.ServerID(srv.ID), queue.Number("vip")).OnlyX(ctx)
	if sales.Discovered || vip.Discovered {
		t.Fatalf("accepted queues still discovered: sales %v vip %v", sales.Discovered, vip.Discovered)
	}
	clara := a.Client.Operator.Query().Where(operator.ServerID(srv.ID), operator.Number("1003")).OnlyX(ctx)
	galina := a.Client.Operator.Query().Where(operator.ServerID(srv.ID), operator.Number("1007")).OnlyX(ctx)
	// Accepted as they are: created from the member interface, or the collector's row
	// (made from status events, with the device) kept.
	if clara.Interface != "Local/1003@agents/n" && clara.Interface != "PJSIP/1003" || clara.Name != "Clara" || clara.Discovered || galina.Interface != "PJSIP/1007" || galina.Discovered {
		t.Fatalf("accepted operators: %+v %+v", clara, galina)
	}
	// The live state knows the new queue and operator without waiting for its refresh.
	if q := liveQueue(a, srv.ID, "sales"); q == nil || q.QueueID != sales.ID {
		t.Fatalf("live state of sales after accepting: %+v, want queue id %d", q, sales.ID)
	} else if i := slices.IndexFunc(q.Members, func(m live.Member) bool { return m.Interface == "PJSIP/1002" }); i < 0 || q.Members[i].OperatorID == 0 {
		t.Fatalf("live member PJSIP/1002 of sales has no operator id: %+v", q.Members)
	}
	// So does a changed service-level threshold.
	adm.ok(t, `mutation($id: ID!) { updateQueue(id: $id, input: {slThresholdSeconds: 45}) { id } }`, map[string]any{"id": sales.ID}, nil)
	if q := liveQueue(a, srv.ID, "sales"); q == nil || q.SLThresholdSeconds != 45 {
		t.Fatalf("live SL threshold of sales after the update: %+v", q)
	}

	// Connection tests: the stored settings, a wrong secret given, and refusals.
	test := `query($id: ID, $in: ServerInput) { testServerConnection(id: $id, input: $in) { ok greeting error latencyMs } }`
	var ct struct {
		TestServerConnection struct {
			OK        bool
			Greeting  *string
			Error     *string
			LatencyMs *int
		}
	}
	adm.ok(t, test, map[string]any{"id": srv.ID}, &ct)
	if r := ct.TestServerConnection; !r.OK || r.Greeting == nil || !strings.HasPrefix(*r.Greeting, "Asterisk Call Manager/") || r.LatencyMs == nil {
		t.Fatalf("stored settings: %+v", r)
	}
	adm.ok(t, test, map[string]any{"id": srv.ID, "in": map[string]any{"amiSecret": "not-the-secret-42"}}, &ct)
	if r := ct.TestServerConnection; r.OK || r.Error == nil || !strings.Contains(*r.Error, "login refused") {
		t.Fatalf("wrong secret: %+v", r)
	}
	adm.ok(t, test, map[string]any{"in": map[string]any{"amiAddress": s.Addr(), "amiUsername": "linkage", "amiSecret": "sim-secret-disc"}}, &ct)
	if !ct.TestServerConnection.OK {
		t.Fatalf("settings without a server: %+v", ct.TestServerConnection)
	}
	r := adm.fails(t, "GRAPHQL_VALIDATION_FAILED", test, map[string]any{"in": map[string]any{"amiAddress": "nowhere"}}, "HOST:PORT")
	if f := badFields(r); !slices.Equal(f, []string{"amiAddress", "amiUsername", "amiSecret"}) {
		t.Fatalf("bad fields %v", f)
	}
	adm.fails(t, "NOT_FOUND", test, map[string]any{"id": 999999})
	sup.fails(t, "FORBIDDEN", test, map[string]any{"id": srv.ID})

	mustAudit(t, a, "discovery.accept server/"+itoa(srv.ID)+" admin true", "server.test server/"+itoa(srv.ID)+" admin true",
		"server.test server/"+itoa(srv.ID)+" sup false")
	var details string
	_ = a.DB.QueryRow(`SELECT string_agg(coalesce(details::text, ''), ' ') FROM audit_logs`).Scan(&details)
	for _, secret := range []string{"sim-secret-disc", "not-the-secret-42"} {
		if strings.Contains(details, secret) || strings.Contains(logs.String(), secret) {
			t.Fatalf("secret %q leaked into the audit log or the logs", secret)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

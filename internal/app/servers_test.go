package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/linkage/linkage/ami/sim"
	"github.com/linkage/linkage/ami/sim/pbx"
	"github.com/linkage/linkage/auth"
)

// TestServerAdministration: an admin registers a simulated Asterisk through the API and
// the collector connects to it without a restart; the secret is write-only; other roles
// are refused; bad settings get a message naming the problem; every change is audited.
func TestServerAdministration(t *testing.T) {
	a, logs := startApp(t)
	s := sim.New(sim.Options{Listen: "127.0.0.1:0", Username: "linkage", Secret: "sim-secret-xyz",
		TimestampEvents: true, Speed: 1, PBX: pbx.DefaultConfig(), AuthFailDelay: 10 * time.Millisecond}, slog.New(slog.DiscardHandler))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	create := `mutation($in: ServerInput!) { createServer(input: $in) { id name amiAddress health { active connected } } }`
	_, r := gql(t, a, create, map[string]any{"in": map[string]any{"name": "pbx", "amiAddress": "nope", "amiUsername": "", "timezone": "Mars/Base"}})
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(r.Errors[0].Message, "HOST:PORT") || !strings.Contains(r.Errors[0].Message, "Mars/Base") {
		t.Fatalf("invalid settings: %+v", r.Errors)
	}
	_, r = gql(t, a, create, map[string]any{"in": map[string]any{"name": "pbx", "amiAddress": s.Addr(), "amiUsername": "linkage",
		"amiSecret": "sim-secret-xyz", "timezone": "Europe/Moscow", "trunkPrefixes": []string{"PJSIP/trunk"}, "trunkContexts": []string{"from-trunk"}}})
	if len(r.Errors) > 0 {
		t.Fatalf("createServer: %+v", r.Errors)
	}
	var created struct{ CreateServer struct{ ID, Name string } }
	_ = json.Unmarshal(r.Data, &created)
	id := created.CreateServer.ID

	// The collector was woken by the mutation: connected well before its next poll.
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, r = gql(t, a, `query($id: ID!) { node(id: $id) { ... on Server { health { active connected eventsReceived } } } }`, map[string]any{"id": id})
		if strings.Contains(string(r.Data), `"connected":true`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector did not connect to the new server: %s %+v", r.Data, r.Errors)
		}
		time.Sleep(100 * time.Millisecond)
	}

	sup := signIn(t, a, "sup", []string{auth.RoleSupervisor}, auth.Grant{})
	if _, r := sup.gql(t, `mutation($id: ID!) { updateServer(id: $id, input: {enabled: false}) { id } }`, map[string]any{"id": id}); len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "FORBIDDEN" {
		t.Fatalf("supervisor updated a server: %+v", r.Errors)
	}
	_, r = gql(t, a, `mutation($id: ID!) { updateServer(id: $id, input: {enabled: false, amiSecret: "new-secret-abc"}) { enabled } }`, map[string]any{"id": id})
	if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"enabled":false`) {
		t.Fatalf("disable: %s %+v", r.Data, r.Errors)
	}
	deadline = time.Now().Add(15 * time.Second)
	for {
		_, r = gql(t, a, `query($id: ID!) { node(id: $id) { ... on Server { health { connected } } } }`, map[string]any{"id": id})
		if strings.Contains(string(r.Data), `"health":null`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector kept the disabled server: %s", r.Data)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, r = gql(t, a, `mutation($id: ID!) { deleteServer(id: $id) }`, map[string]any{"id": id}); len(r.Errors) > 0 {
		t.Fatalf("delete: %+v", r.Errors)
	}
	var n int
	if err := a.DB.QueryRow(`SELECT count(*) FROM audit_logs WHERE action IN ('server.create', 'server.update', 'server.delete')`).Scan(&n); err != nil || n < 4 {
		t.Fatalf("audited server changes = %d (%v), want the create, the refused and the allowed update, the delete", n, err)
	}
	var details string
	_ = a.DB.QueryRow(`SELECT string_agg(coalesce(details::text, ''), ' ') FROM audit_logs`).Scan(&details)
	for _, secret := range []string{"sim-secret-xyz", "new-secret-abc"} {
		if strings.Contains(details, secret) || strings.Contains(logs.String(), secret) {
			t.Fatalf("secret %q leaked into the audit log or the logs", secret)
		}
	}
}

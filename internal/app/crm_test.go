package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/linkage/linkage/ami/sim"
	"github.com/linkage/linkage/ami/sim/pbx"
	"github.com/linkage/linkage/internal/livetest"
)

// TestCRMCallEvents is the CRM's path through the whole app: an API token on a
// graphql-transport-ws subscription to callEvents, a simulated queue call collected
// over AMI, and the events RINGING → ANSWERED → ENDED, then STORED with the id under
// which the call can be read back.
func TestCRMCallEvents(t *testing.T) {
	a, _ := startApp(t)
	admin := adminClient(t, a)
	_, r := admin.gql(t, `{ viewer { user { id } } }`, nil)
	var me struct {
		Viewer struct{ User struct{ ID string } }
	}
	_ = json.Unmarshal(r.Data, &me)
	_, r = admin.gql(t, `mutation($u: ID!) { createAPIToken(userID: $u, name: "crm", scope: read) { secret } }`, map[string]any{"u": me.Viewer.User.ID})
	var tok struct{ CreateAPIToken struct{ Secret string } }
	_ = json.Unmarshal(r.Data, &tok)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ws, err := livetest.Dial(ctx, "http://"+a.Addr()+"/graphql", map[string]any{"authorization": "Bearer " + tok.CreateAPIToken.Secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	events, err := ws.Subscribe(ctx, `subscription { callEvents { kind linkedid callerNumber did callId } }`, nil, 64)
	if err != nil {
		t.Fatal(err)
	}

	cfg := pbx.LabConfig()
	start := time.Now().UTC()
	s := sim.New(sim.Options{Listen: "127.0.0.1:0", Username: "linkage", Secret: "sim-secret", TimestampEvents: true, Speed: 4,
		Model: func(st time.Time) sim.Model {
			p := pbx.New(cfg, st)
			p.Inbound(2*time.Second, pbx.Inbound{DID: "5551000", Caller: "0699000111", Answer: []pbx.Answer{{Member: "PJSIP/1002", After: 2 * time.Second}}, Talk: 3 * time.Second})
			return p
		}, Start: start}, slog.New(slog.DiscardHandler))
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, r = admin.gql(t, `mutation($a: String!) { createServer(input: {name: "lab", amiAddress: $a, amiUsername: "linkage", amiSecret: "sim-secret",
		trunkPrefixes: ["PJSIP/trunk"], trunkContexts: ["from-trunk"]}) { id } }`, map[string]any{"a": s.Addr()})
	if len(r.Errors) > 0 {
		t.Fatalf("createServer: %+v", r.Errors)
	}

	var kinds []string
	var stored int
	for stored == 0 {
		select {
		case raw := <-events:
			var m struct {
				Data struct {
					CallEvents struct {
						Kind, Linkedid, CallerNumber, Did string
						CallID                            *string
					}
				}
			}
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("%v: %s", err, raw)
			}
			e := m.Data.CallEvents
			kinds = append(kinds, e.Kind)
			if e.Kind == "STORED" {
				if e.CallID == nil {
					t.Fatalf("STORED without a call id: %s", raw)
				}
				_, r := admin.gql(t, `query($id: ID!) { call(id: $id) { call { linkedid callerNumber status } } }`, map[string]any{"id": *e.CallID})
				var c struct {
					Call struct {
						Call struct{ Linkedid, CallerNumber, Status string }
					}
				}
				_ = json.Unmarshal(r.Data, &c)
				if c.Call.Call.Linkedid != e.Linkedid || c.Call.Call.CallerNumber != "0699000111" || c.Call.Call.Status != "answered" {
					t.Fatalf("stored call %s = %s %+v, want the call of %s", *e.CallID, r.Data, r.Errors, e.Linkedid)
				}
				stored++
			}
		case <-ctx.Done():
			t.Fatalf("no STORED event; got %v", kinds)
		}
	}
	want := []string{"RINGING", "ANSWERED", "ENDED", "STORED"}
	i := 0
	for _, k := range kinds {
		if i < len(want) && k == want[i] {
			i++
		}
	}
	if i != len(want) {
		t.Fatalf("call events %v, want %v in that order", kinds, want)
	}
}

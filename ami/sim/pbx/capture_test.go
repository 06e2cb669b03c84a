package pbx

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
)

const captureDir = "/work/shared/ami-lab-captures"

// dropped are events outside the call-relevant comparison: CDR/CEL, media reports,
// dialplan chatter, security/system noise, and DeviceStateChange and
// QueueMemberStatus, which belong to no channel (TestMemberStatusMatchesCaptures
// compares the latter separately).
var dropped = map[string]bool{
	"CEL": true, "Cdr": true, "VarSet": true, "Newexten": true, "FullyBooted": true, "SuccessfulAuth": true,
	"RequestNotAllowed": true, "InvalidPassword": true, "RequestBadFormat": true, "UserEvent": true,
	"DeviceStateChange": true, "QueueMemberStatus": true,
}

func relevant(m ami.Message) bool {
	name := m.EventName()
	if name == "" || m.Has("ActionID") { // responses and the lab's polling (p-N)
		return false
	}
	return !dropped[name] && !strings.HasPrefix(name, "RTCP") && !strings.HasPrefix(name, "DTMF")
}

func readCapture(t *testing.T, name string) []ami.Message {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(captureDir, name+"_*.ami"))
	if len(matches) != 1 {
		t.Skipf("capture %s not found in %s", name, captureDir)
	}
	fh, err := os.Open(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r := ami.NewReader(fh)
	var out []ami.Message
	for {
		m, err := r.ReadMessage()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if relevant(m) {
			out = append(out, m)
		}
	}
}

func runScenario(t testing.TB, name string) []ami.Message {
	t.Helper()
	sc, ok := Scenarios()[name]
	if !ok {
		t.Fatalf("no scenario %q", name)
	}
	start := time.Date(2026, 11, 26, 14, 55, 8, 0, time.UTC)
	p := New(sc.Config(), start)
	sc.Run(p)
	var out []ami.Message
	for _, e := range p.Advance(start.Add(24 * time.Hour)) {
		if relevant(e.Fields) {
			out = append(out, e.Fields)
		}
	}
	if _, more := p.Next(); more {
		t.Fatalf("scenario %s still has scheduled work after a day", name)
	}
	return out
}

// canon maps uniqueids and bridge ids to indexes by first appearance, so that two
// streams with different ids can be compared.
type canon struct{ ids map[string]int }

func (c *canon) idx(s string) string {
	if s == "" {
		return "-"
	}
	if c.ids == nil {
		c.ids = map[string]int{}
	}
	n, ok := c.ids[s]
	if !ok {
		n = len(c.ids)
		c.ids[s] = n
	}
	return fmt.Sprint(n)
}

// projections splits a stream into per-entity sequences. Each event is filed under
// the entity whose thread produced it: the channel of its plain snapshot, the Dest
// channel for dials without a caller, LocalOne for Local* events, the bridge for
// bridge-only events and the transferer for transfers. An entry names the event and
// its relations (dest/linkedid/bridge/swap as canonical indexes) and the values that
// carry meaning: state, caller ID and connected line, context and extension, dial
// status, cause, reason, queue fields. Priority is left out: it numbers the lines of
// the lab's dialplan, which the model does not copy step by step.
//
// Why per entity and not one global sequence: Asterisk publishes the events of
// different channels from different threads, so their interleaving differs from
// run to run (§4.4; compare a1 and a2, which show the same step in different
// global orders). Inside one channel the order is causal and is compared exactly;
// the global order of channel creation is compared through the canonical indexes.
func projections(ms []ami.Message) map[string][]string {
	var uids, bridges canon
	out := map[string][]string{}
	for _, m := range ms {
		name := m.EventName()
		key := ""
		switch {
		case m.Has("Uniqueid") && !strings.HasPrefix(name, "Local"):
			key = "ch" + uids.idx(m.Get("Uniqueid"))
		case m.Has("DestUniqueid"):
			key = "ch" + uids.idx(m.Get("DestUniqueid"))
		case m.Has("LocalOneUniqueid"):
			key = "ch" + uids.idx(m.Get("LocalOneUniqueid"))
		case m.Has("TransfererUniqueid"):
			key = "ch" + uids.idx(m.Get("TransfererUniqueid"))
		case m.Has("OrigTransfererUniqueid"):
			key = "ch" + uids.idx(m.Get("OrigTransfererUniqueid"))
		case m.Has("BridgeUniqueid"):
			key = "br" + bridges.idx(m.Get("BridgeUniqueid"))
		case m.Has("ToBridgeUniqueid"):
			key = "br" + bridges.idx(m.Get("ToBridgeUniqueid"))
		default:
			key = "other"
		}
		entry := name
		rel := func(label, field string, c *canon) {
			if v, ok := m.Lookup(field); ok {
				entry += " " + label + "=" + c.idx(v)
			}
		}
		rel("lid", "Linkedid", &uids)
		rel("dest", "DestUniqueid", &uids)
		rel("dlid", "DestLinkedid", &uids)
		rel("br", "BridgeUniqueid", &bridges)
		rel("swap", "SwapUniqueid", &uids)
		rel("l2", "LocalTwoUniqueid", &uids)
		rel("src", "SourceUniqueid", &uids)
		rel("tee", "TransfereeUniqueid", &uids)
		rel("from", "FromBridgeUniqueid", &bridges)
		for _, k := range []string{"ChannelStateDesc", "CallerIDNum", "ConnectedLineNum", "DestCallerIDNum", "DestConnectedLineNum", "Context", "Exten", "DestContext", "DestExten", "CallerIDName", "ConnectedLineName", "DestCallerIDName", "DestConnectedLineName", "DialStatus", "Cause", "TechCause", "Reason", "Queue", "Interface", "Position", "Count", "BridgeNumChannels", "LocalOptimization", "IsExternal", "DestType", "Result"} {
			if v, ok := m.Lookup(k); ok {
				entry += " " + k + "=" + v
			}
		}
		out[key] = append(out[key], entry)
	}
	return out
}

var captureScenarios = []struct{ capture, scenario string }{
	{"a1", "queue-answered-local"},
	{"a2", "queue-answered-pjsip"},
	{"a3", "queue-answered-local-optimized"},
	{"b1", "ringall-noanswer-abandon"},
	{"b2", "rrmemory-noanswer-abandon"},
	{"c1", "queue-timeout"},
	{"c2", "leavewhenempty"},
	{"c3", "joinempty-refused"},
	{"d1", "blind-transfer"},
	{"d2", "blind-transfer-dtmf"},
	{"d2x", "blind-transfer-aborted"},
	{"e1", "attended-transfer"},
	{"f1", "hold-unhold"},
	{"g1", "outbound-trunk"},
	{"h1", "internal-answered"},
	{"h2", "internal-busy"},
}

// memberStatus projects QueueMemberStatus events per (queue, interface): the Status
// sequence and how much CallsTaken grew. InCall is left out: in the answer burst it
// is 0 in a1/a2 and already 1 in d2x (app_queue marks the member from another thread),
// and CallsTaken's absolute value carries the lab's earlier calls.
func memberStatus(evs []ami.Message) map[string]string {
	out := map[string]string{}
	first := map[string]int{}
	for _, m := range evs {
		if m.EventName() != "QueueMemberStatus" {
			continue
		}
		k := m.Get("Queue") + "/" + m.Get("Interface")
		var n int
		fmt.Sscan(m.Get("CallsTaken"), &n)
		if _, ok := first[k]; !ok {
			first[k] = n
		}
		out[k] += fmt.Sprintf("%s(+%d) ", m.Get("Status"), n-first[k])
	}
	return out
}

func readAll(t *testing.T, name string) []ami.Message {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(captureDir, name+"_*.ami"))
	if len(matches) != 1 {
		t.Skipf("capture %s not found", name)
	}
	fh, err := os.Open(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r := ami.NewReader(fh)
	var out []ami.Message
	for {
		m, err := r.ReadMessage()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
}

func TestMemberStatusMatchesCaptures(t *testing.T) {
	for _, cs := range captureScenarios {
		t.Run(cs.capture, func(t *testing.T) {
			want := memberStatus(readAll(t, cs.capture))
			sc := Scenarios()[cs.scenario]
			p := New(sc.Config(), time.Date(2026, 11, 26, 14, 55, 8, 0, time.UTC))
			sc.Run(p)
			var sim []ami.Message
			for _, e := range p.Advance(p.Now().Add(time.Hour)) {
				sim = append(sim, e.Fields)
			}
			got := memberStatus(sim)
			for k, w := range want {
				if got[k] != w {
					t.Errorf("%s: capture %s, simulator %s", k, w, got[k])
				}
			}
			for k, g := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("%s: only in the simulator: %s", k, g)
				}
			}
		})
	}
}

func TestScenariosMatchCaptures(t *testing.T) {
	for _, cs := range captureScenarios {
		t.Run(cs.capture+"/"+cs.scenario, func(t *testing.T) {
			capEvents, simEvents := readCapture(t, cs.capture), runScenario(t, cs.scenario)
			if len(capEvents) < 4 || len(simEvents) < 4 {
				t.Fatalf("too few events to compare: capture %d, simulator %d", len(capEvents), len(simEvents))
			}
			want, got := projections(capEvents), projections(simEvents)
			for key, w := range want {
				g := got[key]
				if strings.Join(w, "\n") != strings.Join(g, "\n") {
					t.Errorf("%s differs:\n%s", key, diff(w, g))
				}
			}
			for key := range got {
				if _, ok := want[key]; !ok {
					t.Errorf("simulator has an extra entity %s: %v", key, got[key])
				}
			}
			// The global order is compared too, as the longest common subsequence of
			// (event, channel index) pairs. Only events of different channels may
			// trade places (their threads race, §4.4), which costs a few positions per
			// burst; a flow step in the wrong place (e.g. AgentConnect before the
			// answer) costs many. The lab's own repeats of one flow agree at 83–89 %
			// (the first 36 events of a2 against d1, d2 and e1, the same queue answer),
			// so 80 % is the bar.
			cg, sg := globalOrder(capEvents), globalOrder(simEvents)
			l := lcs(cg, sg)
			t.Logf("global order: %d of %d events in the same relative order", l, len(cg))
			if l*100 < 80*len(cg) {
				t.Errorf("global order differs too much: LCS %d of %d", l, len(cg))
			}
		})
	}
}

func globalOrder(ms []ami.Message) []string {
	var u canon
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		k := m.Get("Uniqueid")
		if k == "" {
			k = m.Get("DestUniqueid")
		}
		if k == "" {
			k = m.Get("LocalOneUniqueid")
		}
		out = append(out, m.EventName()+"/"+u.idx(k))
	}
	return out
}

func lcs(a, b []string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				cur[j] = prev[j-1] + 1
			} else {
				cur[j] = max(prev[j], cur[j-1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func diff(want, got []string) string {
	var b strings.Builder
	n := max(len(want), len(got))
	for i := 0; i < n; i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		mark := "  "
		if w != g {
			mark = "!!"
		}
		fmt.Fprintf(&b, "%s %-3d capture: %s\n       sim:     %s\n", mark, i, w, g)
	}
	return b.String()
}

// TestListShapesMatchCapture replays the lab's mid-call polling of a1 (QueueStatus,
// QueueSummary, CoreShowChannels, Status, BridgeList with ActionIDs p-2..p-6) against
// the simulator at the same point of the same call and compares every message's
// keys in order, the item counts and the response texts.
func TestListShapesMatchCapture(t *testing.T) {
	matches, _ := filepath.Glob(filepath.Join(captureDir, "a1_*.ami"))
	if len(matches) != 1 {
		t.Skip("a1 capture not found")
	}
	fh, err := os.Open(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r := ami.NewReader(fh)
	byID := map[string][]ami.Message{}
	for {
		m, err := r.ReadMessage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if id := m.Get("ActionID"); id != "" {
			byID[id] = append(byID[id], m)
		}
	}
	sc := Scenarios()["queue-answered-local"]
	start := time.Date(2026, 11, 26, 14, 55, 8, 0, time.UTC)
	p := New(sc.Config(), start)
	sc.Run(p)
	at := start.Add(10 * time.Second) // mid-talk, as in the lab
	p.Advance(at)
	actions := map[string]ami.Message{
		"p-2": act("Action", "QueueStatus", "ActionID", "p-2", "Queue", "support"),
		"p-3": act("Action", "QueueSummary", "ActionID", "p-3", "Queue", "support"),
		"p-4": act("Action", "CoreShowChannels", "ActionID", "p-4"),
		"p-5": act("Action", "Status", "ActionID", "p-5"),
		"p-6": act("Action", "BridgeList", "ActionID", "p-6"),
	}
	for id, a := range actions {
		want, got := byID[id], p.Action(at, a)
		if len(want) == 0 {
			t.Fatalf("capture has no %s", id)
		}
		if len(want) != len(got) {
			t.Errorf("%s %s: capture %d messages, simulator %d", id, a.Get("Action"), len(want), len(got))
			continue
		}
		// Channel listings come in the order of Asterisk's hashed channel container,
		// so the applications are compared as a multiset.
		apps := func(ms []ami.Message) string {
			var s []string
			for _, m := range ms {
				if v, ok := m.Lookup("Application"); ok {
					s = append(s, v)
				}
			}
			slices.Sort(s)
			return strings.Join(s, ",")
		}
		if apps(want) != apps(got) {
			t.Errorf("%s applications: capture %s, simulator %s", id, apps(want), apps(got))
		}
		for i := range want {
			if keys(want[i]) != keys(got[i]) {
				t.Errorf("%s message %d keys\ncapture: %s\nsim:     %s", id, i, keys(want[i]), keys(got[i]))
			}
			for _, k := range []string{"Response", "Message", "EventList", "ListItems", "Items", "Event", "Queue", "Location", "Status", "InCall", "Membership", "Application", "ChannelStateDesc", "BridgeNumChannels", "BridgeType"} {
				if want[i].Get(k) != got[i].Get(k) && k != "Application" {
					t.Errorf("%s message %d %s: capture %q, simulator %q", id, i, k, want[i].Get(k), got[i].Get(k))
				}
			}
		}
	}
}

// TestMemberManagementMatchesCapture replays j1's actions and compares the responses
// and the events they cause (keys in order; values that don't depend on the lab's
// earlier history).
func TestMemberManagementMatchesCapture(t *testing.T) {
	matches, _ := filepath.Glob(filepath.Join(captureDir, "j1_*.ami"))
	if len(matches) != 1 {
		t.Skip("j1 capture not found")
	}
	fh, err := os.Open(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r := ami.NewReader(fh)
	// Group the capture by action: the response with ActionID p-N, then the events
	// up to the next response.
	var groups [][]ami.Message
	for {
		m, err := r.ReadMessage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Has("Response") {
			groups = append(groups, nil)
		}
		if len(groups) > 0 && (m.Has("Response") || m.EventName() != "SuccessfulAuth") {
			groups[len(groups)-1] = append(groups[len(groups)-1], m)
		}
	}
	actions := []ami.Message{
		act("Action", "QueueAdd", "ActionID", "p-2", "Queue", "support", "Interface", "PJSIP/1003", "MemberName", "Agent Three", "Penalty", "1", "Paused", "false"),
		act("Action", "QueuePause", "ActionID", "p-3", "Queue", "support", "Interface", "PJSIP/1003", "Paused", "true", "Reason", "Lunch"),
		act("Action", "QueuePause", "ActionID", "p-4", "Queue", "support", "Interface", "PJSIP/1003", "Paused", "false"),
		act("Action", "QueuePenalty", "ActionID", "p-5", "Queue", "support", "Interface", "PJSIP/1003", "Penalty", "3"),
		act("Action", "QueueMemberRingInUse", "ActionID", "p-6", "Queue", "support", "Interface", "PJSIP/1003", "RingInUse", "true"),
		act("Action", "QueueStatus", "ActionID", "p-7", "Queue", "support"),
		act("Action", "QueueSummary", "ActionID", "p-8", "Queue", "support"),
		act("Action", "QueueRemove", "ActionID", "p-9", "Queue", "support", "Interface", "PJSIP/1003"),
		act("Action", "QueueAdd", "ActionID", "p-10", "Queue", "support", "Interface", "PJSIP/9999", "MemberName", "Bogus"),
		act("Action", "CoreShowChannels", "ActionID", "p-11"),
	}
	p := New(LabConfig(), time.Date(2026, 11, 26, 14, 59, 20, 0, time.UTC))
	at := p.Now()
	for i, a := range actions {
		want := groups[i+1] // groups[0] is the Login response
		at = at.Add(700 * time.Millisecond)
		got := p.Action(at, a)
		for _, e := range p.Advance(at) {
			got = append(got, e.Fields)
		}
		if len(want) != len(got) {
			t.Errorf("%s: capture %d messages, simulator %d", a.Get("Action"), len(want), len(got))
			continue
		}
		for j := range want {
			w, g := want[j], got[j]
			w = slices.DeleteFunc(slices.Clone(w), func(f ami.Field) bool { return f.Key == "Timestamp" })
			if keys(w) != keys(g) {
				t.Errorf("%s message %d keys\ncapture: %s\nsim:     %s", a.Get("Action"), j, keys(w), keys(g))
			}
			if a.Get("Action") == "QueueStatus" || a.Get("Action") == "QueueSummary" {
				continue // counters carry the lab's earlier calls
			}
			for _, k := range []string{"Response", "Message", "Event", "Device", "State", "Queue", "MemberName", "Interface", "Membership", "Penalty", "Paused", "PausedReason", "Status", "Ringinuse", "InCall"} {
				if w.Get(k) != g.Get(k) {
					t.Errorf("%s message %d %s: capture %q, simulator %q", a.Get("Action"), j, k, w.Get(k), g.Get(k))
				}
			}
		}
	}
}

package assemble

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/linkage/linkage/ami/sim/pbx"
)

// simGolden is one hand-written expectation for a simulator scenario
// (testdata/golden-sim/<scenario>.json). The values were written from the scenario's
// definition (pbx.Scenarios) and its events; "why" cites the events (by sequence
// number) and the arithmetic behind each value. Only the keys present are compared.
type simGolden struct {
	Scenario string           `json:"scenario"`
	Why      []string         `json:"why"`
	Calls    []map[string]any `json:"calls"`
}

func loadSimGolden(t *testing.T, name string) simGolden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden-sim", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var g simGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if g.Scenario != name || len(g.Why) == 0 {
		t.Fatalf("%s: scenario %q, %d why lines", name, g.Scenario, len(g.Why))
	}
	return g
}

// TestSimGolden runs every simulator scenario to completion and compares the records
// with the hand-written expectations. A scenario without a file fails.
func TestSimGolden(t *testing.T) {
	var names []string
	for n := range pbx.Scenarios() {
		names = append(names, n)
	}
	sort.Strings(names)
	files, _ := filepath.Glob(filepath.Join("testdata", "golden-sim", "*.json"))
	if len(files) != len(names) {
		t.Errorf("%d golden-sim files for %d scenarios", len(files), len(names))
	}
	for _, name := range names {
		for _, noSeq := range []bool{false, true} {
			sub := name
			if noSeq {
				// The same events without Seq (a capture, a feed that does not number
				// events): duplicates are then found by content, and distinct events
				// with equal content (no Timestamp header) must all count.
				sub += "/noseq"
			}
			t.Run(sub, func(t *testing.T) { simGoldenRun(t, name, noSeq) })
		}
	}
}

func simGoldenRun(t *testing.T, name string, noSeq bool) {
	g := loadSimGolden(t, name)
	pc, evs := runScenario(t, name)
	if noSeq {
		for i := range evs {
			evs[i].Seq = 0
		}
	}
	a := New(simConfig(pc))
	var calls []*Call
	for i := range evs {
		for _, o := range a.Feed(&evs[i]) {
			if o.Call != nil {
				calls = append(calls, o.Call)
			}
		}
	}
	// A scenario runs to completion: every call must have ended on its own.
	if n := a.InFlight(); n != 0 {
		t.Errorf("%d calls still in flight at the end of the scenario", n)
	}
	for _, o := range a.Close() {
		if o.Call != nil {
			calls = append(calls, o.Call)
		}
	}
	checkCalls(t, golden{Capture: "sim:" + name, Why: g.Why, Calls: g.Calls}, calls)
	for _, c := range calls {
		checkSums(t, c)
	}
}

// The field's worst case, beyond its golden: the 64 channels the model creates all end
// up in the one record, which concludes on its own.
func TestSimWorstCase(t *testing.T) {
	pc, evs := runScenario(t, "worst-case-21-attempts")
	chans := map[string]bool{}
	lids := map[string]bool{}
	for _, e := range evs {
		if e.Name == "Newchannel" {
			chans[e.Get("Uniqueid")] = true
			lids[e.Get("Linkedid")] = true
		}
	}
	if len(chans) != 64 || len(lids) != 1 {
		t.Fatalf("model: %d channels in %d linkedids, want 64 in 1", len(chans), len(lids))
	}
	a := New(simConfig(pc))
	var calls []*Call
	maxLive := 0
	for i := range evs {
		for _, o := range a.Feed(&evs[i]) {
			if o.Call != nil {
				calls = append(calls, o.Call)
			}
		}
		maxLive = max(maxLive, len(a.chans))
	}
	if len(calls) != 1 || a.InFlight() != 0 {
		t.Fatalf("%d records, %d in flight; want 1 finished record", len(calls), a.InFlight())
	}
	c := calls[0]
	if c.Status != StatusMissed || c.MissedReason != ReasonAbandoned || len(c.Attempts) != 21 ||
		c.WaitSeconds < 5*60 || c.WaitSeconds > 6*60 || len(c.MissedByOperators) != 3 {
		t.Fatalf("worst case: %s/%s, %d attempts, wait %d s, missed by %v", c.Status, c.MissedReason, len(c.Attempts), c.WaitSeconds, c.MissedByOperators)
	}
	// Attempts do not pile up: at most one member's channels (and the trunk) are live.
	if maxLive > 4 {
		t.Errorf("up to %d channels live at once, want at most 4 (trunk + one Local pair + phone)", maxLive)
	}
	if len(a.chans) != 0 || len(a.calls) != 0 || len(a.bridges) != 0 {
		t.Errorf("state left: %d channels, %d call keys, %d bridges", len(a.chans), len(a.calls), len(a.bridges))
	}
}

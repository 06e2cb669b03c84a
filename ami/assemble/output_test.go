package assemble

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/linkage/linkage/ami"
)

// The JSON keys are a contract with `linkage assemble` users: exactly these, no more.
func TestWriteJSONKeys(t *testing.T) {
	g := goldenFor(t, "caco14")
	calls := run(cacoConfig(), eventsOf(t, g))
	var buf bytes.Buffer
	if err := WriteJSON(&buf, calls[1]); err != nil {
		t.Fatal(err)
	}
	if bytes.Count(buf.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("want one line, got %q", buf.String())
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	want := []string{"answered", "answeredBy", "approximateTimes", "callee", "caller", "dialed", "end", "hangupBy",
		"holdSeconds", "linkedid", "linkedids", "missedByOperators", "missedInQueues", "missedReason", "operators",
		"parent", "queues", "recordings", "start", "status", "talkSeconds", "talkWithoutHoldSeconds", "transfers",
		"type", "waitSeconds"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("keys\n got %v\nwant %v", got, want)
	}
	var tr []map[string]any
	if err := json.Unmarshal(m["transfers"], &tr); err != nil || len(tr) != 1 {
		t.Fatalf("transfers %s: %v", m["transfers"], err)
	}
	for _, k := range []string{"type", "by", "to", "answered"} {
		if _, ok := tr[0][k]; !ok {
			t.Errorf("transfer has no %q: %v", k, tr[0])
		}
	}
	if len(tr[0]) != 4 {
		t.Errorf("transfer keys: %v", tr[0])
	}
	// A missed call has "answered": null and an empty answeredBy.
	buf.Reset()
	missed := run(labConfig(), eventsOf(t, goldenFor(t, "b1")))[0]
	if err := WriteJSON(&buf, missed); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if string(m["answered"]) != "null" || string(m["answeredBy"]) != "null" {
		t.Errorf("answered %s answeredBy %s", m["answered"], m["answeredBy"])
	}
}

func TestAssembleFiles(t *testing.T) {
	paths := []string{capturePath("lab/a1_queue_localmember_answer_caller_hangup.ami"), capturePath("lab/e1_attended_transfer_dtmf.ami")}
	var buf bytes.Buffer
	if err := AssembleFiles(paths, labConfig(), &buf); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	var ids []string
	for sc.Scan() {
		var m struct{ Linkedid string }
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.Linkedid)
	}
	if !reflect.DeepEqual(ids, []string{"1795704908.0", "1795705093.46"}) {
		t.Errorf("linkedids %v", ids)
	}
	if err := AssembleFiles([]string{filepath.Join(t.TempDir(), "missing.ami")}, labConfig(), &buf); err == nil {
		t.Error("a missing file must be an error")
	}
}

// Configured channel variables and UserEvents end up in Custom.
func TestCustomFields(t *testing.T) {
	cfg := labConfig()
	cfg.Variables = []string{"CALLTYPE", "CHOICE"}
	c := run(cfg, eventsOf(t, goldenFor(t, "a1")))[0]
	// a1: VarSet __CALLTYPE=inbound (inheritance marks dropped), VarSet CHOICE=1 (IVR digit).
	if c.Custom["CALLTYPE"] != "inbound" || c.Custom["CHOICE"] != "1" {
		t.Errorf("custom %v", c.Custom)
	}
	// caco06: UserEvent NotifyCallstate Direction=inbound Provider=webhook; the second one,
	// on the Local;2 half, adds AccountInternalNumber=202.
	c = run(cacoConfig(), eventsOf(t, goldenFor(t, "caco06")))[0]
	if c.Custom["NotifyCallstate.Direction"] != "inbound" || c.Custom["NotifyCallstate.AccountInternalNumber"] != "202" {
		t.Errorf("custom %v", c.Custom)
	}
}

// FuzzAssemble: capture bytes from the network or a file must never crash the reader or
// the assembler.
func FuzzAssemble(f *testing.F) {
	for _, p := range []string{"lab/h2_internal_call_busy_noanswer.ami", "caco/27-caco11-outbound-external-busy.ami"} {
		b, err := os.ReadFile(capturePath(p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := ReadCaptureEvents(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, cfg := range []Config{labConfig(), cacoConfig()} {
			a := New(cfg)
			for i := range evs {
				a.Feed(&evs[i])
			}
			a.Close()
			if a.InFlight() != 0 {
				t.Fatalf("%d calls in flight after Close", a.InFlight())
			}
		}
	})
}

// Linkage's own callback variables are captured whatever the configuration, so a
// stored callback can always be linked to its missed call.
func TestCallbackVariablesAlwaysCaptured(t *testing.T) {
	evs := eventsOf(t, goldenFor(t, "a1"))
	var out []ami.Event
	added := 0
	for _, e := range evs {
		out = append(out, e)
		if e.Name == "VarSet" && added == 0 {
			for _, v := range [][2]string{{"LINKAGE_CALLBACK", "42"}, {"__LINKAGE_CALLBACK_BY", "7"}} {
				c := e
				c.Fields, c.Seq = nil, 0 // not the journal's copy of e (duplicates are dropped)
				for _, f := range e.Fields {
					switch f.Key {
					case "Variable":
						f.Value = v[0]
					case "Value":
						f.Value = v[1]
					}
					c.Fields = append(c.Fields, f)
				}
				out = append(out, c)
			}
			added++
		}
	}
	if added == 0 {
		t.Fatal("a1 has no VarSet to copy")
	}
	cfg := labConfig()
	cfg.Variables = nil
	c := run(cfg, out)[0]
	if c.Custom[VarCallback] != "42" || c.Custom[VarCallbackBy] != "7" || c.Custom["CALLTYPE"] != "" {
		t.Errorf("custom %v", c.Custom)
	}
}

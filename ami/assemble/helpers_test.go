package assemble

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/linkage/linkage/ami"
)

// labConfig describes the lab PBX (shared/ami-lab-captures/lab-config): trunk endpoint
// "trunk" in context from-trunk, phones 1001-1003 are the queue members (operators),
// 2000 is a supervisor phone (internal, not an operator).
func labConfig() Config {
	return Config{
		Server: "lab",
		Operators: []Operator{
			{Exten: "1001", Name: "Agent One", Device: "PJSIP/1001", Interfaces: []string{"Local/1001@agents/n", "Local/1001@agents"}},
			{Exten: "1002", Name: "Agent Two", Device: "PJSIP/1002"},
			{Exten: "1003", Name: "Agent Three", Device: "PJSIP/1003"},
		},
		LearnOperators:   true,
		TrunkPrefixes:    []string{"PJSIP/trunk"},
		TrunkContexts:    []string{"from-trunk"},
		InternalContexts: []string{"from-internal"},
		Queues:           []QueueExten{{Exten: "5551000", Queue: "support"}},
		DIDs:             []string{"5551000", "5551001", "5551002", "5551003", "5551004"},
	}
}

// cacoConfig describes VoIPGRID's test platform seen in the cacofonisk fixtures:
// accounts 201/202/203 are SIP/150010001..3, the carrier is SIP/voipgrid-siproute-docker.
func cacoConfig() Config {
	return Config{
		Server: "caco",
		Operators: []Operator{
			{Exten: "201", Device: "SIP/150010001"},
			{Exten: "202", Device: "SIP/150010002"},
			{Exten: "203", Device: "SIP/150010003"},
		},
		TrunkPrefixes:    []string{"SIP/voipgrid-siproute-docker"},
		TrunkContexts:    []string{"voipgrid_in"},
		InternalContexts: []string{"osvpi_account"},
		UserEvents:       []string{"NotifyCallstate"},
	}
}

func configFor(path string) Config {
	if filepath.Base(filepath.Dir(path)) == "caco" {
		return cacoConfig()
	}
	return labConfig()
}

func loadCapture(t testing.TB, path string) []ami.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	evs, err := ReadCaptureEvents(f)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// run feeds events and returns the finished calls (flushing at the end).
func run(cfg Config, evs []ami.Event) []*Call {
	a := New(cfg)
	var calls []*Call
	take := func(outs []Output) {
		for _, o := range outs {
			if o.Call != nil {
				calls = append(calls, o.Call)
			}
		}
	}
	for i := range evs {
		take(a.Feed(&evs[i]))
	}
	take(a.Close())
	return calls
}

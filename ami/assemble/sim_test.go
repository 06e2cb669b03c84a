package assemble

import (
	"strings"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
	"github.com/linkage/linkage/ami/sim/pbx"
)

// simStart is the simulated clock's start for scenario and day runs.
var simStart = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// simConfig derives the assembler's Config from a simulator Config the way an installer
// would from the PBX's configuration: queue members are the operators (their phones and
// every member interface that reaches them), other phones (the supervisor 2000) are
// internal; trunks by endpoint and inbound context; every DID is ours and routes to its
// queue.
func simConfig(pc pbx.Config) Config {
	cfg := Config{
		Server:           "sim",
		LearnOperators:   true,
		InternalContexts: []string{"from-internal"},
	}
	names := map[string]string{}
	for _, o := range pc.Operators {
		names[o.Endpoint] = o.Name
	}
	ops := map[string]*Operator{}
	var order []string
	for _, q := range pc.Queues {
		for _, m := range q.Members {
			exten := strings.TrimPrefix(m.Interface, "PJSIP/")
			if strings.HasPrefix(m.Interface, "Local/") {
				exten = localExten(m.Interface)
			}
			op := ops[exten]
			if op == nil {
				op = &Operator{Exten: exten, Name: names[exten], Device: "PJSIP/" + exten}
				ops[exten] = op
				order = append(order, exten)
			}
			if m.Interface != op.Device {
				dup := false
				for _, i := range op.Interfaces {
					dup = dup || i == m.Interface
				}
				if !dup {
					op.Interfaces = append(op.Interfaces, m.Interface)
				}
			}
		}
	}
	for _, e := range order {
		cfg.Operators = append(cfg.Operators, *ops[e])
	}
	for _, t := range pc.Trunks {
		cfg.TrunkPrefixes = append(cfg.TrunkPrefixes, "PJSIP/"+t.Endpoint)
		cfg.TrunkContexts = append(cfg.TrunkContexts, t.Context)
	}
	for _, d := range pc.DIDs {
		cfg.DIDs = append(cfg.DIDs, d.Number)
		cfg.Queues = append(cfg.Queues, QueueExten{Exten: d.Number, Queue: d.Queue})
	}
	return cfg
}

// stampSim gives simulator events what the collector gives real ones: a receive
// sequence and the Timestamp-derived time (the simulator's events carry their simulated
// Time but no Timestamp header).
func stampSim(evs []ami.Event, seq *uint64) {
	for i := range evs {
		*seq++
		evs[i].Seq = *seq
		evs[i].Stamped = true
		evs[i].Received = evs[i].Time
	}
}

// runScenario runs a named scenario to completion and returns its events, stamped.
func runScenario(t testing.TB, name string) (pbx.Config, []ami.Event) {
	t.Helper()
	sc, ok := pbx.Scenarios()[name]
	if !ok {
		t.Fatalf("no scenario %q", name)
	}
	pc := sc.Config()
	p := pbx.New(pc, simStart)
	sc.Run(p)
	var evs []ami.Event
	for {
		next, ok := p.Next()
		if !ok {
			break
		}
		evs = append(evs, p.Advance(next)...)
	}
	var seq uint64
	stampSim(evs, &seq)
	return pc, evs
}

// simulate runs cfg's random traffic from start to end and then drains the model (no
// new arrivals after end: calls in progress finish), returning the stamped events.
func simulate(pc pbx.Config, start, end time.Time) []ami.Event {
	p := pbx.New(pc, start)
	evs := p.Advance(end)
	// Drain: keep advancing while calls are still up. Random arrivals keep being
	// scheduled, so stop at the first moment after end when no channel is alive.
	live := map[string]bool{}
	for _, e := range evs {
		trackLive(live, &e)
	}
	for len(live) > 0 {
		next, ok := p.Next()
		if !ok {
			break
		}
		more := p.Advance(next)
		for i := range more {
			trackLive(live, &more[i])
		}
		evs = append(evs, more...)
	}
	var seq uint64
	stampSim(evs, &seq)
	return evs
}

func trackLive(live map[string]bool, e *ami.Event) {
	switch e.Name {
	case "Newchannel":
		live[e.Get("Uniqueid")] = true
	case "Hangup":
		delete(live, e.Get("Uniqueid"))
	}
}

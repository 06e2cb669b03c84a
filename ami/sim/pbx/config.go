package pbx

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Strategy names as in queues.conf.
const (
	RingAll     = "ringall"
	RRMemory    = "rrmemory"
	LeastRecent = "leastrecent"
)

// Config describes one simulated Asterisk server and its traffic.
type Config struct {
	// SystemName, when set, prefixes uniqueids ("<name>-<epoch>.<n>") as asterisk.conf
	// systemname does. Empty by default, as in the lab.
	SystemName string
	// Seed feeds every random decision; the same Config and start give the same stream.
	Seed uint64

	// SharedLastCall is queues.conf shared_lastcall: a call taken in one queue counts
	// (CallsTaken, LastCall, wrap-up) for the same interface in every queue. The lab
	// had it on.
	SharedLastCall bool

	Trunks    []Trunk
	DIDs      []DID
	Queues    []Queue
	Operators []Operator

	// CallsPerHour is the inbound arrival rate at the busiest hour; HourlyCurve (24
	// factors, 0..1) scales it by the hour of simulated local time. Zero disables
	// random inbound traffic (scripted scenarios only).
	CallsPerHour float64
	HourlyCurve  [24]float64
	// OutboundPerHour and InternalPerHour are the peak rates of operator-initiated
	// calls, scaled by the same curve.
	OutboundPerHour float64
	InternalPerHour float64
	// Location is the zone the hourly curve is read in (UTC when nil).
	Location *time.Location

	// Caller behaviour for random traffic.
	MeanPatience time.Duration // mean time a caller waits in a queue before hanging up
	MeanTalk     time.Duration
	// Probabilities per answered call.
	HoldProb, BlindTransferProb, AttendedTransferProb, AgentHangupProb float64
	// TransferTargets are extensions a transfer goes to (e.g. "2000").
	TransferTargets []string
	// OutboundNumbers is a pool of national numbers operators call through the trunk.
	OutboundNumbers []string
}

// Trunk is a PJSIP endpoint that carries calls to and from the carrier.
type Trunk struct {
	Endpoint string // e.g. "trunk"
	Context  string // inbound context, e.g. "from-trunk"
}

// DID routes an inbound number to a queue.
type DID struct {
	Number string
	Trunk  string // endpoint of the trunk it arrives on
	Queue  string
	// IVR is the time the caller spends in the IVR (Read) before the queue; 0 = no IVR.
	IVR time.Duration
	// Choices maps IVR digits to other queues (Inbound.Choice picks one).
	Choices map[string]string
	// Record starts MixMonitor before the queue.
	Record bool
	// QueueTimeout is the Queue() timeout argument; 0 means none.
	QueueTimeout time.Duration
	// Weight makes some DIDs busier than others in random traffic (default 1).
	Weight float64
}

// Queue is a queues.conf section.
type Queue struct {
	Name           string
	Strategy       string        // ringall, rrmemory, leastrecent
	Timeout        time.Duration // member ring timeout
	Retry          time.Duration
	Wrapup         time.Duration
	LeaveWhenEmpty bool
	// RefuseEmpty is joinempty=strict: a caller who finds no usable member is not
	// queued at all (no queue events, only QUEUESTATUS=JOINEMPTY, §3.c.3).
	RefuseEmpty bool
	MusicClass  string
	Members     []Member
}

// Member is a static queue member. Interface is what the queue dials:
// "PJSIP/1002", "Local/1001@agents/n" (no optimisation) or "Local/1001@agents"
// (optimises away after answer). StateInterface defaults to Interface for PJSIP
// members and to PJSIP/<exten> for Local ones.
type Member struct {
	Interface      string
	Name           string
	StateInterface string
	Penalty        int
}

// Operator is a person at a PJSIP phone.
type Operator struct {
	Endpoint string // "1001"
	Name     string // caller ID name, e.g. "Agent One"
	// AnswerProb is the chance the operator picks up a queue ring; AnswerDelay is the
	// mean ring time before they do.
	AnswerProb  float64
	AnswerDelay time.Duration
	// BusyProb is the chance the phone rejects a queue ring with 486 Busy Here.
	BusyProb float64
	// PauseReasons are used when the model pauses the operator (breaks).
	PauseReasons []string
	// PausesPerHour is how often the operator takes a break (0 = never).
	PausesPerHour float64
	MeanPause     time.Duration
}

// DefaultConfig is a sensible small call center: one trunk, three DIDs, three queues
// with the three strategies, eight operators (some reached through Local channels),
// 60 inbound calls per peak hour.
func DefaultConfig() Config {
	ops := []Operator{}
	names := []string{"Anna", "Boris", "Clara", "Denis", "Elena", "Fedor", "Galina", "Hugo"}
	for i, n := range names {
		ops = append(ops, Operator{
			Endpoint:      "10" + string(rune('0'+(i+1)/10)) + string(rune('0'+(i+1)%10)),
			Name:          n,
			AnswerProb:    0.75,
			AnswerDelay:   5 * time.Second,
			BusyProb:      0.03,
			PauseReasons:  []string{"Lunch", "Break", "Training"},
			PausesPerHour: 0.5,
			MeanPause:     10 * time.Minute,
		})
	}
	// The supervisor takes transfers; not a queue member.
	ops = append(ops, Operator{Endpoint: "2000", Name: "Supervisor", AnswerProb: 1, AnswerDelay: 4 * time.Second})
	c := Config{
		Seed:   1,
		Trunks: []Trunk{{Endpoint: "trunk", Context: "from-trunk"}},
		DIDs: []DID{
			{Number: "5551000", Trunk: "trunk", Queue: "support", IVR: 1200 * time.Millisecond, Record: true, Weight: 3},
			{Number: "5551001", Trunk: "trunk", Queue: "sales", IVR: 1200 * time.Millisecond, Weight: 2},
			{Number: "5551002", Trunk: "trunk", Queue: "vip", QueueTimeout: 90 * time.Second, Weight: 1},
		},
		Queues: []Queue{
			{Name: "support", Strategy: RingAll, Timeout: 15 * time.Second, Retry: 5 * time.Second, Wrapup: 10 * time.Second, MusicClass: "default",
				Members: []Member{{Interface: "PJSIP/1001", Name: "Anna"}, {Interface: "PJSIP/1002", Name: "Boris"},
					{Interface: "Local/1003@agents/n", Name: "Clara", StateInterface: "PJSIP/1003"}, {Interface: "Local/1004@agents", Name: "Denis", StateInterface: "PJSIP/1004"}}},
			{Name: "sales", Strategy: RRMemory, Timeout: 15 * time.Second, Retry: 3 * time.Second, Wrapup: 5 * time.Second, MusicClass: "default",
				Members: []Member{{Interface: "PJSIP/1005", Name: "Elena"}, {Interface: "PJSIP/1006", Name: "Fedor"}, {Interface: "PJSIP/1002", Name: "Boris", Penalty: 1}}},
			{Name: "vip", Strategy: LeastRecent, Timeout: 20 * time.Second, Retry: 2 * time.Second, Wrapup: 5 * time.Second, MusicClass: "default",
				Members: []Member{{Interface: "PJSIP/1007", Name: "Galina"}, {Interface: "Local/1008@agents/n", Name: "Hugo", StateInterface: "PJSIP/1008"}}},
		},
		Operators:            ops,
		CallsPerHour:         60,
		OutboundPerHour:      15,
		InternalPerHour:      5,
		MeanPatience:         90 * time.Second,
		MeanTalk:             3 * time.Minute,
		HoldProb:             0.15,
		BlindTransferProb:    0.05,
		AttendedTransferProb: 0.03,
		AgentHangupProb:      0.3,
		TransferTargets:      []string{"2000"},
		OutboundNumbers:      []string{"0611223344", "0622334455", "0633445566", "0644556677"},
	}
	// A working-day curve: quiet at night, peaks late morning and mid-afternoon.
	c.HourlyCurve = [24]float64{0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.15, 0.45, 0.8, 1, 0.95,
		0.7, 0.8, 0.95, 0.9, 0.75, 0.5, 0.3, 0.2, 0.12, 0.08, 0.05, 0.03}
	return c
}

// LabConfig mirrors the lab PBX of shared/ami-lab-captures (lab-config/pbx-*.conf), so
// scripted scenarios can be compared with the captures.
func LabConfig() Config {
	return Config{
		Seed:           1,
		SharedLastCall: true,
		Trunks:         []Trunk{{Endpoint: "trunk", Context: "from-trunk"}},
		DIDs: []DID{
			{Number: "5551000", Trunk: "trunk", Queue: "support", IVR: 1200 * time.Millisecond, Record: true, QueueTimeout: 60 * time.Second,
				Choices: map[string]string{"2": "sales"}},
			{Number: "5551001", Trunk: "trunk", Queue: "emptyq", QueueTimeout: 10 * time.Second},
			{Number: "5551002", Trunk: "trunk", Queue: "support", QueueTimeout: 8 * time.Second},
			{Number: "5551003", Trunk: "trunk", Queue: "support2"},
			{Number: "5551004", Trunk: "trunk", Queue: "closedq", QueueTimeout: 10 * time.Second},
		},
		Queues: []Queue{
			{Name: "support", Strategy: RingAll, Timeout: 10 * time.Second, Retry: 2 * time.Second, MusicClass: "default",
				Members: []Member{{Interface: "Local/1001@agents/n", Name: "Agent One", StateInterface: "PJSIP/1001"}, {Interface: "PJSIP/1002", Name: "Agent Two"}}},
			{Name: "sales", Strategy: RRMemory, Timeout: 4 * time.Second, Retry: 1 * time.Second, MusicClass: "default",
				Members: []Member{{Interface: "PJSIP/1001", Name: "Agent One"}, {Interface: "PJSIP/1002", Name: "Agent Two"}, {Interface: "PJSIP/1003", Name: "Agent Three"}}},
			{Name: "emptyq", Strategy: RingAll, Timeout: 5 * time.Second, LeaveWhenEmpty: true, MusicClass: "default"},
			{Name: "closedq", Strategy: RingAll, RefuseEmpty: true, MusicClass: "default"},
			{Name: "support2", Strategy: RingAll, Timeout: 10 * time.Second, Retry: 2 * time.Second, MusicClass: "default",
				Members: []Member{{Interface: "Local/1001@agents", Name: "Agent One", StateInterface: "PJSIP/1001"}}},
		},
		Operators: []Operator{
			{Endpoint: "1001", Name: "Agent One"}, {Endpoint: "1002", Name: "Agent Two"},
			{Endpoint: "1003", Name: "Agent Three"}, {Endpoint: "2000", Name: "Supervisor"},
		},
	}
}

// Validate reports configuration mistakes that would silently drop calls: DIDs
// pointing at missing queues or trunks, members of unknown shape, duplicate names.
func (c Config) Validate() error {
	var errs []error
	trunks := map[string]bool{}
	for _, t := range c.Trunks {
		trunks[t.Endpoint] = true
	}
	queues := map[string]bool{}
	for _, q := range c.Queues {
		if queues[q.Name] {
			errs = append(errs, fmt.Errorf("queue %q defined twice", q.Name))
		}
		queues[q.Name] = true
		switch q.Strategy {
		case "", RingAll, RRMemory, LeastRecent:
		default:
			errs = append(errs, fmt.Errorf("queue %q: unsupported strategy %q", q.Name, q.Strategy))
		}
		seen := map[string]bool{}
		for _, m := range q.Members {
			if !strings.HasPrefix(m.Interface, "PJSIP/") && !strings.HasPrefix(m.Interface, "Local/") {
				errs = append(errs, fmt.Errorf("queue %q: member %q is neither PJSIP/ nor Local/", q.Name, m.Interface))
			}
			if seen[m.Interface] {
				errs = append(errs, fmt.Errorf("queue %q: member %q twice", q.Name, m.Interface))
			}
			seen[m.Interface] = true
		}
	}
	for _, d := range c.DIDs {
		if !queues[d.Queue] {
			errs = append(errs, fmt.Errorf("DID %s: no queue %q", d.Number, d.Queue))
		}
		if d.Trunk != "" && !trunks[d.Trunk] {
			errs = append(errs, fmt.Errorf("DID %s: no trunk %q", d.Number, d.Trunk))
		}
	}
	if c.CallsPerHour < 0 || c.OutboundPerHour < 0 || c.InternalPerHour < 0 {
		errs = append(errs, errors.New("negative call rate"))
	}
	return errors.Join(errs...)
}

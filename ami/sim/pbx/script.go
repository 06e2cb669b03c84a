package pbx

import (
	"time"

	"github.com/linkage/linkage/ami"
)

// Scenario is a named, scripted situation: the config it needs and a Run that
// schedules its calls and actions relative to the PBX's current time.
type Scenario struct {
	Description string
	Config      func() Config
	Run         func(p *PBX)
}

// Exec schedules an AMI action (as an operator or supervisor would send it) after
// delay; its events come out of Advance like any other.
func (p *PBX) Exec(delay time.Duration, action ami.Message) {
	p.after(delay, func() { p.exec(action) })
}

const (
	labCaller     = "0612345678"
	labCallerName = "Customer"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// WorstCaseConfig is LabConfig plus the field's worst case: DID 5551009 to queue
// "hotline", rrmemory over three Local /n members, 15 s ring timeout, 2 s retry.
func WorstCaseConfig() Config {
	c := LabConfig()
	c.DIDs = append(c.DIDs, DID{Number: "5551009", Trunk: "trunk", Queue: "hotline", Record: true})
	c.Queues = append(c.Queues, Queue{Name: "hotline", Strategy: RRMemory, Timeout: 15 * time.Second, Retry: 2 * time.Second, MusicClass: "default",
		Members: []Member{{Interface: "Local/1001@agents/n", Name: "Agent One"}, {Interface: "Local/1002@agents/n", Name: "Agent Two"},
			{Interface: "Local/1003@agents/n", Name: "Agent Three"}}})
	return c
}

// Scenarios returns the named scenarios. The ones named after a lab capture
// reproduce its timing (shared/ami-lab-captures/INDEX.md).
func Scenarios() map[string]Scenario {
	in := func(spec Inbound) func(p *PBX) {
		spec.Caller, spec.CallerName = labCaller, labCallerName
		return func(p *PBX) { p.Inbound(0, spec) }
	}
	call := func(d Direct) func(p *PBX) { return func(p *PBX) { p.Call(0, d) } }
	lab := LabConfig
	return map[string]Scenario{
		"queue-answered-local": {"a1: ringall support, Local/1001@agents/n answers after 3 s, the caller hangs up after 13 s", lab,
			in(Inbound{DID: "5551000", Answer: []Answer{{Member: "Local/1001@agents/n", After: ms(3006)}}, Talk: ms(13237)})},
		"queue-answered-pjsip": {"a2: ringall support, PJSIP/1002 answers after 3 s, the agent hangs up after 6.5 s", lab,
			in(Inbound{DID: "5551000", Answer: []Answer{{Member: "PJSIP/1002", After: ms(3011)}}, Talk: ms(6508), AgentHangsUp: true})},
		"queue-answered-local-optimized": {"a3: support2, Local/1001@agents (no /n) answers after 3 s and optimises away; the caller hangs up", lab,
			in(Inbound{DID: "5551003", Answer: []Answer{{Member: "Local/1001@agents", After: ms(3010)}}, Talk: ms(8505)})},
		"ringall-noanswer-abandon": {"b1: ringall support, nobody answers (10 s timeout, 2 s retry), the caller hangs up after 17 s", lab,
			in(Inbound{DID: "5551000", Patience: ms(17253)})},
		"rrmemory-noanswer-abandon": {"b2: IVR digit 2 to rrmemory sales, 4 s timeout, 1 s retry: 1001, 1002, 1003, 1001; the caller hangs up after 15 s", lab,
			in(Inbound{DID: "5551000", Choice: "2", Patience: ms(15248)})},
		"queue-timeout": {"c1: Queue(support,tT,,,8): nobody answers, the queue times out after 8 s", lab,
			in(Inbound{DID: "5551002"})},
		"leavewhenempty": {"c2: Queue(emptyq) with no members and leavewhenempty: joined and left at once", lab,
			in(Inbound{DID: "5551001"})},
		"blind-transfer-aborted": {"d2x: 1002 starts a DTMF blind transfer that aborts at once (a 2 ms Hold/Unhold), keeps talking and hangs up", lab,
			in(Inbound{DID: "5551000", Answer: []Answer{{Member: "PJSIP/1002", After: ms(3008)}}, Talk: ms(17721), AgentHangsUp: true,
				Transfer: &Transfer{DTMF: true, Abort: true, After: ms(6057)}})},
		"joinempty-refused": {"c3: Queue(closedq) with joinempty=strict and no members: no queue events, QUEUESTATUS=JOINEMPTY", lab,
			in(Inbound{DID: "5551004"})},
		"ivr-hangup": {"the caller hangs up in the IVR before reaching the queue", lab,
			in(Inbound{DID: "5551000", HangupInIVR: true})},
		"blind-transfer": {"d1: 1002 answers, sends REFER to 2000 after 5.5 s; 2000 answers after 2 s; the caller hangs up 14.7 s later", lab,
			in(Inbound{DID: "5551000", Answer: []Answer{{Member: "PJSIP/1002", After: ms(3009)}},
				Transfer: &Transfer{After: ms(5508), Target: "2000", TargetAnswer: ms(2009), Talk: ms(14719)}})},
		"blind-transfer-dtmf": {"d2: 1002 answers, keys the blindxfer feature and 2000 (Hold, MOH, BlindTransfer IsExternal=No); 2000 answers", lab,
			in(Inbound{DID: "5551000", Answer: []Answer{{Member: "PJSIP/1002", After: ms(3012)}},
				Transfer: &Transfer{DTMF: true, After: ms(6056), Target: "2000", TargetAnswer: ms(2010), Talk: ms(15768)}})},
		"ringall-member-busy": {"ringall support: PJSIP/1002 rejects with 486 after 1 s (DialEnd BUSY, AgentRingNoAnswer), Local/1001 answers after 5 s", lab,
			in(Inbound{DID: "5551000", Answer: []Answer{{Member: "PJSIP/1002", After: time.Second, Busy: true}, {Member: "Local/1001@agents/n", After: 5 * time.Second}},
				Talk: 20 * time.Second})},
		"recording-stopped": {"a recorded queue call where StopMixMonitor runs 10 s into the talk (MixMonitorStop)", lab,
			in(Inbound{DID: "5551000", Answer: []Answer{{Member: "PJSIP/1002", After: 2 * time.Second}}, Talk: 30 * time.Second, StopRecording: 10 * time.Second})},
		"leastrecent": {"leastrecent queue lr (PJSIP/1001, PJSIP/1003): 1001 takes a first call; a second call 30 s later rings 1003 first (least recent)",
			func() Config {
				c := LabConfig()
				c.DIDs = append(c.DIDs, DID{Number: "5551006", Trunk: "trunk", Queue: "lr"})
				c.Queues = append(c.Queues, Queue{Name: "lr", Strategy: LeastRecent, Timeout: 5 * time.Second, Retry: time.Second, MusicClass: "default",
					Members: []Member{{Interface: "PJSIP/1001", Name: "Agent One"}, {Interface: "PJSIP/1003", Name: "Agent Three"}}})
				return c
			}, func(p *PBX) {
				p.Inbound(0, Inbound{DID: "5551006", Caller: "0611111111", Answer: []Answer{{Member: "PJSIP/1001", After: 2 * time.Second}}, Talk: 10 * time.Second, Patience: time.Minute})
				p.Inbound(30*time.Second, Inbound{DID: "5551006", Caller: "0622222222", Answer: []Answer{{Member: "PJSIP/1003", After: 2 * time.Second}}, Talk: 10 * time.Second, Patience: time.Minute})
			}},
		"attended-transfer": {"e1: 1002 answers, atxfer to 2000 via a Local leg, consults, hangs up to complete; the caller talks to 2000", lab,
			in(Inbound{DID: "5551000", Answer: []Answer{{Member: "PJSIP/1002", After: ms(3012)}},
				Transfer: &Transfer{Attended: true, After: ms(6056), Target: "2000", TargetAnswer: ms(2008), Consult: ms(6247), Talk: ms(11191)}})},
		"attended-transfer-refer": {"§3.e.2 (source-based): 1002 answers, holds, calls 2000 from the phone (a new call, new linkedid), completes with REFER/Replaces; 2000 joins the queue bridge and takes the queue call's linkedid", lab,
			in(Inbound{DID: "5551000", Answer: []Answer{{Member: "PJSIP/1002", After: 3 * time.Second}},
				Transfer: &Transfer{Attended: true, Refer: true, After: 6 * time.Second, Target: "2000", TargetAnswer: 2 * time.Second, Consult: 8 * time.Second, Talk: 20 * time.Second}})},
		"queue-hold": {"1002 answers a queue call, puts the caller on hold for 20 s, the caller hangs up later", lab,
			in(Inbound{DID: "5551000", Answer: []Answer{{Member: "PJSIP/1002", After: 4 * time.Second}}, Talk: time.Minute,
				Hold: []Hold{{After: 10 * time.Second, For: 20 * time.Second}}})},
		"hold-unhold": {"f1: internal 1001 -> 1003, 1003 holds for 3 s, unholds and hangs up", lab,
			call(Direct{From: "1001", Number: "1003", Ring: ms(1508), Talk: ms(7016), CalleeHangsUp: true, Hold: []Hold{{After: ms(2003), For: ms(3007)}}})},
		"outbound-trunk": {"g1: 1001 dials 00611223344 through the trunk, answered after 2 s, 1001 hangs up after 6 s", lab,
			call(Direct{From: "1001", Number: "00611223344", Ring: ms(2006), Talk: ms(6007)})},
		"internal-answered": {"h1: 1001 -> 1002, answered after 2 s, 1001 hangs up after 5 s", lab,
			call(Direct{From: "1001", Number: "1002", Ring: ms(2004), Talk: ms(5007)})},
		"internal-busy": {"h2: 1001 -> 1002, which answers 486 Busy", lab,
			call(Direct{From: "1001", Number: "1002", Outcome: Busy})},
		"internal-noanswer": {"1001 -> 1002, nobody answers within the 20 s Dial timeout", lab,
			call(Direct{From: "1001", Number: "1002", Outcome: NoAnswer})},
		"member-management": {"j1: QueueAdd PJSIP/1003 to support, pause (Lunch), unpause, QueuePenalty, QueueMemberRingInUse, QueueRemove", lab, func(p *PBX) {
			p.Exec(0, ami.Message{{Key: "Action", Value: "QueueAdd"}, {Key: "Queue", Value: "support"}, {Key: "Interface", Value: "PJSIP/1003"},
				{Key: "MemberName", Value: "Agent Three"}, {Key: "Penalty", Value: "1"}, {Key: "Paused", Value: "false"}})
			p.Exec(ms(700), ami.Message{{Key: "Action", Value: "QueuePause"}, {Key: "Queue", Value: "support"}, {Key: "Interface", Value: "PJSIP/1003"},
				{Key: "Paused", Value: "true"}, {Key: "Reason", Value: "Lunch"}})
			p.Exec(ms(1400), ami.Message{{Key: "Action", Value: "QueuePause"}, {Key: "Queue", Value: "support"}, {Key: "Interface", Value: "PJSIP/1003"},
				{Key: "Paused", Value: "false"}})
			p.Exec(ms(2100), ami.Message{{Key: "Action", Value: "QueuePenalty"}, {Key: "Queue", Value: "support"}, {Key: "Interface", Value: "PJSIP/1003"},
				{Key: "Penalty", Value: "3"}})
			p.Exec(ms(2800), ami.Message{{Key: "Action", Value: "QueueMemberRingInUse"}, {Key: "Queue", Value: "support"}, {Key: "Interface", Value: "PJSIP/1003"},
				{Key: "RingInUse", Value: "true"}})
			p.Exec(ms(4200), ami.Message{{Key: "Action", Value: "QueueRemove"}, {Key: "Queue", Value: "support"}, {Key: "Interface", Value: "PJSIP/1003"}})
		}},
		"worst-case-21-attempts": {"a caller waits almost 6 minutes while rrmemory makes 21 attempts over Local /n members; nobody answers; the caller hangs up",
			WorstCaseConfig, in(Inbound{DID: "5551009", Patience: 350 * time.Second})},
	}
}

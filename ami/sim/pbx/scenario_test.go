package pbx

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
)

func scenarioEvents(t *testing.T, name string) []ami.Event {
	t.Helper()
	sc := Scenarios()[name]
	p := New(sc.Config(), t0)
	sc.Run(p)
	return p.Advance(t0.Add(time.Hour))
}

// find returns the events named name, in order.
func find(evs []ami.Event, name string) []ami.Event {
	var out []ami.Event
	for _, e := range evs {
		if e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

func TestMemberBusy(t *testing.T) {
	evs := scenarioEvents(t, "ringall-member-busy")
	var busy ami.Event
	for _, e := range find(evs, "DialEnd") {
		if e.Get("DialStatus") == "BUSY" && e.Get("DestChannel") != "" && strings.HasPrefix(e.Get("DestChannel"), "PJSIP/1002") {
			busy = e
		}
	}
	rna := find(evs, "AgentRingNoAnswer")
	if busy.Name == "" || len(rna) != 1 || rna[0].Get("RingTime") != "1000" || rna[0].Get("Interface") != "PJSIP/1002" {
		t.Fatalf("busy member: DialEnd %v, AgentRingNoAnswer %v", busy.Fields, rna)
	}
	for _, e := range find(evs, "Hangup") {
		if strings.HasPrefix(e.Get("Channel"), "PJSIP/1002") && (e.Get("Cause") != "17" || e.Get("TechCause") != "486") {
			t.Fatalf("busy leg hangup: %v", e.Fields)
		}
	}
	if c := find(evs, "AgentConnect"); len(c) != 1 || c[0].Get("Interface") != "Local/1001@agents/n" {
		t.Fatalf("the Local member should still answer: %v", c)
	}
}

func TestQueueHold(t *testing.T) {
	evs := scenarioEvents(t, "queue-hold")
	hold, moh := find(evs, "Hold"), find(evs, "MusicOnHoldStart")
	if len(hold) != 1 || !strings.HasPrefix(hold[0].Get("Channel"), "PJSIP/1002") {
		t.Fatalf("Hold must be on the agent's channel: %v", hold)
	}
	// The first MOH is the queue's own; the second is the hold.
	if len(moh) != 2 || !strings.HasPrefix(moh[1].Get("Channel"), "PJSIP/trunk") {
		t.Fatalf("MOH must be on the caller's channel: %v", moh)
	}
	if d := find(find(evs, "Unhold"), "Unhold"); len(d) != 1 || d[0].Time.Sub(hold[0].Time).Round(time.Second) != 20*time.Second {
		t.Fatalf("unhold after 20 s: %v", d)
	}
	onhold := false
	for _, e := range find(evs, "DeviceStateChange") {
		if e.Get("Device") == "PJSIP/trunk" && e.Get("State") == "ONHOLD" {
			onhold = true
		}
	}
	if !onhold {
		t.Fatal("the held party's device should go ONHOLD")
	}
}

func TestRecordingStopped(t *testing.T) {
	evs := scenarioEvents(t, "recording-stopped")
	start, stop := find(evs, "MixMonitorStart"), find(evs, "MixMonitorStop")
	if len(start) != 1 || len(stop) != 1 || stop[0].Get("Uniqueid") != start[0].Get("Uniqueid") {
		t.Fatalf("MixMonitorStart %d, MixMonitorStop %d", len(start), len(stop))
	}
	for _, e := range find(evs, "VarSet") {
		if e.Get("Variable") == "MIXMONITOR_FILENAME" && e.Get("Value") != "/var/spool/asterisk/monitor/"+start[0].Get("Uniqueid")+".wav" {
			t.Fatalf("file name %s", e.Get("Value"))
		}
	}
}

func TestLeastRecent(t *testing.T) {
	evs := scenarioEvents(t, "leastrecent")
	called := find(evs, "AgentCalled")
	if len(called) != 2 || called[0].Get("Interface") != "PJSIP/1001" || called[1].Get("Interface") != "PJSIP/1003" {
		var got []string
		for _, e := range called {
			got = append(got, e.Get("Interface"))
		}
		t.Fatalf("leastrecent order %v, want [PJSIP/1001 PJSIP/1003]", got)
	}
}

func TestRRMemoryOrder(t *testing.T) {
	var got []string
	for _, e := range find(scenarioEvents(t, "rrmemory-noanswer-abandon"), "AgentCalled") {
		got = append(got, e.Get("Interface"))
	}
	if fmt.Sprint(got) != "[PJSIP/1001 PJSIP/1002 PJSIP/1003 PJSIP/1001]" {
		t.Fatalf("rrmemory order %v", got)
	}
}

// An AMI Hangup of a ringing member leg ends that attempt like a rejected ring.
func TestHangupRingingLeg(t *testing.T) {
	p := New(LabConfig(), t0)
	p.Inbound(0, Inbound{DID: "5551003", Caller: "0612345678", Patience: 30 * time.Second})
	p.Advance(t0.Add(2 * time.Second))
	var phone string
	for _, c := range p.chans {
		if strings.HasPrefix(c.name, "PJSIP/1001-") {
			phone = c.name
		}
	}
	if phone == "" {
		t.Fatal("no ringing phone")
	}
	r := p.Action(t0.Add(2*time.Second), act("Action", "Hangup", "Channel", phone, "Cause", "21"))
	if r[0].Get("Response") != "Success" {
		t.Fatalf("hangup: %v", r[0])
	}
	evs := p.Advance(t0.Add(2 * time.Second))
	if rna := find(evs, "AgentRingNoAnswer"); len(rna) != 1 || rna[0].Get("RingTime") != "2000" {
		t.Fatalf("AgentRingNoAnswer after the hangup: %v", rna)
	}
	// The queue retries 2 s later with new channels, and the caller gives up at 30 s.
	evs = p.Advance(t0.Add(time.Minute))
	if len(find(evs, "AgentCalled")) < 2 || len(find(evs, "QueueCallerAbandon")) != 1 || len(p.chans) != 0 {
		t.Fatalf("after the rejected ring: %d AgentCalled, %d abandon, %d channels", len(find(evs, "AgentCalled")), len(find(evs, "QueueCallerAbandon")), len(p.chans))
	}
}

func TestValidate(t *testing.T) {
	for name, sc := range Scenarios() {
		if err := sc.Config().Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Error(err)
	}
	bad := LabConfig()
	bad.DIDs = append(bad.DIDs, DID{Number: "1", Queue: "nope"})
	bad.Queues[0].Strategy = "fewestcalls"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "nope") || !strings.Contains(err.Error(), "fewestcalls") {
		t.Fatalf("Validate: %v", err)
	}
}

// In the REFER attended transfer the target starts under the consultation call's
// linkedid and takes the queue call's when it enters the queue bridge; the phone's
// consultation channel keeps its own.
func TestReferAttendedTransferLinkedid(t *testing.T) {
	evs := scenarioEvents(t, "attended-transfer-refer")
	newch := find(evs, "Newchannel")
	callLid := newch[0].Get("Linkedid")
	var consult, target ami.Event
	for _, e := range newch {
		if strings.HasPrefix(e.Get("Channel"), "PJSIP/1002-") && e.Get("ChannelStateDesc") == "Ring" {
			consult = e
		}
		if strings.HasPrefix(e.Get("Channel"), "PJSIP/2000-") {
			target = e
		}
	}
	if consult.Name == "" || consult.Get("Linkedid") != consult.Get("Uniqueid") || target.Get("Linkedid") != consult.Get("Uniqueid") {
		t.Fatalf("consultation call: %v / %v", consult.Fields, target.Fields)
	}
	var enters []string
	for _, e := range find(evs, "BridgeEnter") {
		if e.Get("Uniqueid") == target.Get("Uniqueid") {
			enters = append(enters, e.Get("Linkedid")+"/"+e.Get("SwapUniqueid"))
		}
	}
	if len(enters) != 2 || !strings.HasPrefix(enters[0], consult.Get("Uniqueid")+"/") || !strings.HasPrefix(enters[1], callLid+"/") {
		t.Fatalf("target's BridgeEnter linkedids %v, want consultation then %s", enters, callLid)
	}
	at := find(evs, "AttendedTransfer")
	if len(at) != 1 || at[0].Get("IsExternal") != "Yes" || at[0].Get("SecondTransfererLinkedid") != consult.Get("Uniqueid") ||
		at[0].Get("OrigTransfererLinkedid") != callLid || at[0].Get("TransferTargetLinkedid") != callLid {
		t.Fatalf("AttendedTransfer: %v", at)
	}
	if ac := find(evs, "AgentComplete"); len(ac) != 1 || ac[0].Get("Reason") != "transfer" {
		t.Fatalf("AgentComplete: %v", ac)
	}
}

// Positions shift when a caller ahead leaves; OriginalPosition keeps the join position.
func TestQueuePositions(t *testing.T) {
	p := New(LabConfig(), t0)
	p.Inbound(0, Inbound{DID: "5551003", Caller: "0611111111", Patience: 10 * time.Second})
	p.Inbound(time.Second, Inbound{DID: "5551003", Caller: "0622222222", Patience: 20 * time.Second})
	evs := p.Advance(t0.Add(time.Minute))
	var got []string
	for _, e := range evs {
		switch e.Name {
		case "QueueCallerJoin", "QueueCallerLeave":
			got = append(got, e.Name+" "+e.Get("CallerIDNum")+" "+e.Get("Position")+"/"+e.Get("Count"))
		case "QueueCallerAbandon":
			got = append(got, e.Name+" "+e.Get("CallerIDNum")+" "+e.Get("Position")+"<"+e.Get("OriginalPosition"))
		}
	}
	want := "[QueueCallerJoin 0611111111 1/1 QueueCallerJoin 0622222222 2/2 QueueCallerAbandon 0611111111 1<1 QueueCallerLeave 0611111111 1/1" +
		" QueueCallerAbandon 0622222222 1<2 QueueCallerLeave 0622222222 1/0]"
	if fmt.Sprint(got) != want {
		t.Fatalf("got  %v\nwant %s", got, want)
	}
}

package assemble

import (
	"testing"
	"time"
)

func TestClassifyExten(t *testing.T) {
	cfg := labConfig()
	cfg.IVRs = []string{"5550100"}
	cfg.Queues = append(cfg.Queues, QueueExten{Exten: "600", Queue: "sales"})
	for _, tc := range []struct {
		exten string
		want  Kind
	}{
		{"1001", KindOperator},
		{"1003", KindOperator},
		{"600", KindQueue},
		{"5551000", KindQueue}, // the DID is configured as the support queue's number: the queue wins
		{"5551002", KindDID},
		{"5550100", KindIVR},
		{"0611223344", KindUnknown},
		{"", KindUnknown},
	} {
		if got := ClassifyExten(cfg, tc.exten); got != tc.want {
			t.Errorf("ClassifyExten(%q) = %v, want %v", tc.exten, got, tc.want)
		}
	}
}

func TestClassifyChannel(t *testing.T) {
	lab, caco := labConfig(), cacoConfig()
	for _, tc := range []struct {
		cfg     Config
		channel string
		context string
		want    Kind
	}{
		{lab, "PJSIP/trunk-00000000", "from-trunk", KindTrunk},
		{lab, "PJSIP/trunk-00000023", "from-trunk", KindTrunk},
		{lab, "PJSIP/trunkline2-00000001", "from-internal", KindInternal}, // prefix must end at the endpoint
		{lab, "PJSIP/9999-00000001", "elsewhere", KindUnknown},            // not an internal context
		{lab, "PJSIP/carrier2-00000001", "from-trunk", KindTrunk},         // by context
		{lab, "PJSIP/1001-00000002", "from-internal", KindOperator},
		{lab, "PJSIP/2000-0000001a", "from-internal", KindInternal},
		{lab, "Local/1001@agents-00000000;1", "agents", KindLocal},
		{caco, "SIP/voipgrid-siproute-docker-00000025", "voipgrid_in", KindTrunk},
		{caco, "SIP/150010002-00000026", "osvpi_account", KindOperator},
		{caco, "SIP/150010002-0000001e<MASQ>", "osvpi_account", KindOperator},
		{caco, "SIP/260010001-00000014", "osvpi_account", KindInternal},
	} {
		if got := ClassifyChannel(tc.cfg, tc.channel, tc.context); got != tc.want {
			t.Errorf("ClassifyChannel(%q, %q) = %v, want %v", tc.channel, tc.context, got, tc.want)
		}
	}
}

func TestDeviceOf(t *testing.T) {
	for in, want := range map[string]string{
		"PJSIP/1001-00000002":                   "PJSIP/1001",
		"PJSIP/trunk-00000000":                  "PJSIP/trunk",
		"Local/1001@agents-00000000;1":          "Local/1001@agents",
		"Local/2000@from-internal-00000009;2":   "Local/2000@from-internal",
		"SIP/voipgrid-siproute-docker-00000025": "SIP/voipgrid-siproute-docker",
		"SIP/150010001-0000001e<MASQ>":          "SIP/150010001",
		"Local/ID690150@orp-00000010;1<ZOMBIE>": "Local/ID690150@orp",
		"DAHDI/1-1":                             "DAHDI/1",
		"PJSIP/1001":                            "PJSIP/1001",
	} {
		if got := deviceOf(in); got != want {
			t.Errorf("deviceOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNumberOfDialString(t *testing.T) {
	for in, want := range map[string]string{
		"0611223344@trunk":                      "0611223344",
		"PJSIP/0611223344@trunk":                "0611223344",
		"+31260010001@voipgrid-siproute-docker": "+31260010001",
		"PJSIP/1002":                            "1002",
		"1001":                                  "1001",
		"150010002/150010002/172.20.0.13!!201":  "150010002",
		"Local/1001@agents/n":                   "1001",
	} {
		if got := numberOfDialString(in); got != want {
			t.Errorf("numberOfDialString(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHangupByUnanswered(t *testing.T) {
	for _, tc := range []struct {
		callerHungUp bool
		dial, visit  string
		want         string
	}{
		{true, "", ReasonAbandoned, ByCaller}, // b1: HangupRequest, then QueueCallerAbandon
		{false, "", ReasonTimeout, BySystem},  // c1: the queue timed out, the dialplan hung up
		{false, "", ReasonEmpty, BySystem},    // c2/c3
		{true, "", ReasonTimeout, ByCaller},   // caller hung up later in the IVR
		{false, "CANCEL", "", ByCaller},       // caco11: the caller's dial cancelled
		{false, "BUSY", "", ByCallee},         // h2, caco12
		{false, "NOANSWER", "", BySystem},     // dial timeout
		{true, "NOANSWER", "", ByCaller},
		{false, "", "", ByUnknown},
	} {
		if got := HangupByUnanswered(tc.callerHungUp, tc.dial, tc.visit); got != tc.want {
			t.Errorf("HangupByUnanswered(%v, %q, %q) = %q, want %q", tc.callerHungUp, tc.dial, tc.visit, got, tc.want)
		}
	}
}

func TestMissedReasonForDial(t *testing.T) {
	for _, tc := range []struct {
		status       string
		dialled, hup bool
		want         string
	}{
		{"CANCEL", true, true, ReasonCancelled},
		{"BUSY", true, false, ReasonBusy},
		{"NOANSWER", true, false, ReasonNoAnswer},
		{"CONGESTION", true, false, ReasonFailed},
		{"CHANUNAVAIL", true, false, ReasonFailed},
		{"", false, true, ReasonAbandoned}, // hung up in the IVR before anything rang
		{"", true, true, ReasonCancelled},
		{"", false, false, ReasonFailed},
	} {
		if got := MissedReasonForDial(tc.status, tc.dialled, tc.hup); got != tc.want {
			t.Errorf("MissedReasonForDial(%q, %v, %v) = %q, want %q", tc.status, tc.dialled, tc.hup, got, tc.want)
		}
	}
}

func TestOlderUniqueid(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"1795704909.9", "1795704909.10", true}, // as floats this would be wrong (reference §4.5)
		{"1795704909.10", "1795704909.9", false},
		{"1795704908.99", "1795704909.0", true},
		{"195176c06ab8-1529941216.590", "195176c06ab8-1529941225.617", true},
	} {
		if got := olderUniqueid(tc.a, tc.b); got != tc.want {
			t.Errorf("olderUniqueid(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func TestParseEpoch(t *testing.T) {
	got, ok := parseEpoch("1795704908.389171")
	if !ok || !got.Equal(time.Unix(1795704908, 389171000)) {
		t.Errorf("parseEpoch: %v %v", got, ok)
	}
	if _, ok := parseEpoch("x.1"); ok {
		t.Error("parseEpoch accepted garbage")
	}
}

// Operators learned from queue membership: a Local member interface with a state
// interface maps to the phone.
func TestLearnOperators(t *testing.T) {
	cfg := Config{LearnOperators: true}
	d := newDirectory(cfg)
	d.learn("Local/1005@agents/n", "PJSIP/1005", "Agent Five")
	d.learn("PJSIP/1006", "", "Agent Six")
	if op := d.byDevice["PJSIP/1005"]; op == nil || op.Name != "Agent Five" || op.Exten != "1005" {
		t.Errorf("PJSIP/1005: %+v", op)
	}
	if d.byDevice["Local/1005@agents/n"] != d.byDevice["PJSIP/1005"] {
		t.Error("the member interface must point at the same operator")
	}
	if op := d.byExten["1006"]; op == nil || op.Device != "PJSIP/1006" {
		t.Errorf("1006: %+v", op)
	}
	if d.channelKind("PJSIP/1006", "from-internal") != KindOperator {
		t.Error("learned device is an operator")
	}
}

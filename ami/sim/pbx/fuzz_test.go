package pbx

import (
	"strings"
	"testing"
	"time"

	"github.com/linkage/linkage/ami"
)

// FuzzAction feeds arbitrary client actions to a PBX with calls in flight: whatever
// a client sends, the answer starts with a Response (with the ActionID second when
// one was sent) and the model stays consistent.
func FuzzAction(f *testing.F) {
	for _, s := range []string{
		"Action: QueueStatus\nQueue: support",
		"Action: QueuePause\nInterface: PJSIP/1002\nPaused: true\nReason: Lunch",
		"Action: QueueAdd\nQueue: support\nInterface: PJSIP/1003\nPenalty: x",
		"Action: QueueRemove\nQueue: nope\nInterface: PJSIP/1003",
		"Action: Originate\nChannel: PJSIP/1001\nExten: 00611223344\nAsync: yes",
		"Action: Originate\nChannel: PJSIP/1001\nApplication: Playback\nData: hello",
		"Action: Hangup\nChannel: /PJSIP\\/trunk-/\nCause: 21",
		"Action: CoreShowChannels",
		"Action: Status\nChannel: PJSIP/trunk-00000000",
		"Action: StopMixMonitor\nChannel: PJSIP/trunk-00000000",
		"Action: QueuePenalty\nInterface: PJSIP/1002\nPenalty: -1",
		"Action: \nActionID: 1",
		"Action: FooBar",
	} {
		f.Add(s, "id-1", uint8(3))
	}
	f.Fuzz(func(t *testing.T, text, id string, at uint8) {
		p := New(LabConfig(), t0)
		Scenarios()["queue-answered-local"].Run(p)
		Scenarios()["internal-answered"].Run(p)
		when := t0.Add(time.Duration(at) * 100 * time.Millisecond)
		var a ami.Message
		for _, line := range strings.Split(text, "\n") {
			k, v, _ := strings.Cut(line, ": ")
			a = append(a, ami.Field{Key: k, Value: v})
		}
		if id != "" {
			a = append(a, ami.Field{Key: "ActionID", Value: id})
		}
		evs := p.Advance(when)
		r := p.Action(when, a)
		if len(r) == 0 || r[0][0].Key != "Response" {
			t.Fatalf("answer %v", r)
		}
		if want, ok := a.Lookup("ActionID"); ok && (len(r[0]) < 2 || r[0][1].Key != "ActionID" || r[0][1].Value != want) {
			t.Fatalf("ActionID not second: %v", r[0])
		}
		evs = append(evs, p.Advance(when.Add(time.Hour))...)
		checkStream(t, evs, 0)
	})
}

package pbx

import (
	"testing"
	"time"
)

// TestHangupAnywhere hangs up, through AMI, every channel that is up at many
// moments of every scenario, each in a fresh run, and checks that the call still
// ends cleanly: a consistent stream, no channel or bridge left behind and no member
// stuck in a call.
func TestHangupAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive")
	}
	runs := 0
	for name, sc := range Scenarios() {
		if name == "worst-case-21-attempts" || name == "member-management" {
			continue // long and covered by the others; no channels
		}
		// A step of 173 ms lands on many phases of the flows (3 ms ringing windows
		// included, as offsets drift against the scripted times).
		for off := 2 * time.Millisecond; off < 70*time.Second; off += 173 * time.Millisecond {
			probe := New(sc.Config(), t0)
			sc.Run(probe)
			probe.Advance(t0.Add(off))
			if len(probe.chans) == 0 {
				continue
			}
			for i := range probe.chans {
				p := New(sc.Config(), t0)
				sc.Run(p)
				evs := p.Advance(t0.Add(off))
				c := p.chans[i]
				r := p.Action(t0.Add(off), act("Action", "Hangup", "Channel", c.name))
				if r[0].Get("Response") != "Success" {
					t.Fatalf("%s +%s: hangup %s: %v", name, off, c.name, r[0])
				}
				evs = append(evs, p.Advance(t0.Add(time.Hour))...)
				runs++
				if !t.Run("", func(t *testing.T) { checkStream(t, evs, 0) }) {
					t.Fatalf("%s: hangup of %s at +%s", name, c.name, off)
				}
				if len(p.chans) != 0 || len(p.bridges) != 0 {
					t.Fatalf("%s: hangup of %s at +%s left %d channels (%s…), %d bridges", name, c.name, off, len(p.chans), p.chans[0].name, len(p.bridges))
				}
				for _, q := range p.qorder {
					for _, m := range q.members {
						if m.inCall || m.ringing {
							t.Fatalf("%s: hangup of %s at +%s left member %s in call/ringing", name, c.name, off, m.iface)
						}
					}
				}
			}
		}
	}
	t.Logf("%d runs", runs)
}

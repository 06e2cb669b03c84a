package pbx_test

import (
	"fmt"
	"time"

	"github.com/linkage/linkage/ami/sim/pbx"
)

// A server drives the model with simulated time: sleep until Next (or a client's
// action), Advance, write the events out.
func Example() {
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	p := pbx.New(pbx.LabConfig(), start)
	p.Inbound(0, pbx.Inbound{DID: "5551000", Caller: "0612345678", CallerName: "Customer",
		Answer: []pbx.Answer{{Member: "PJSIP/1002", After: 8 * time.Second}}, Talk: 40 * time.Second})
	n := 0
	for {
		t, ok := p.Next()
		if !ok {
			break
		}
		for _, e := range p.Advance(t) {
			switch e.Name {
			case "AgentConnect":
				fmt.Println(e.Time.Sub(start).Round(time.Second), e.Name, e.Get("MemberName"), "hold", e.Get("HoldTime"))
			case "AgentComplete":
				fmt.Println(e.Time.Sub(start).Round(time.Second), e.Name, e.Get("MemberName"), "talk", e.Get("TalkTime"), e.Get("Reason"))
			}
			n++
		}
	}
	fmt.Println(n, "events")
	// Output:
	// 9s AgentConnect Agent Two hold 8
	// 49s AgentComplete Agent Two talk 40 caller
	// 131 events
}

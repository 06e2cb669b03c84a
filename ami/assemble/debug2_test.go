package assemble

import (
	"encoding/json"
	"os"
	"testing"
)

func TestDebugRich(t *testing.T) {
	p := os.Getenv("RICH")
	if p == "" {
		t.Skip()
	}
	for _, c := range run(configFor(p), loadCapture(t, p)) {
		b, _ := json.Marshal(struct {
			L []Leg
			V []QueueVisit
			A []QueueAttempt
			T []Transfer
			C map[string]string
		}{c.Legs, c.Visits, c.Attempts, c.Transfers, c.Custom})
		os.Stdout.Write(append(b, '\n'))
	}
}

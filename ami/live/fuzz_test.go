package live

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/linkage/linkage/ami/assemble"
)

// FuzzApply: whatever an Asterisk (or something pretending to be one) sends, Apply
// must not panic, and the counters must not go negative.
func FuzzApply(f *testing.F) {
	for _, n := range []string{"a1", "b1", "j1", "c1"} {
		m, _ := filepath.Glob(filepath.Join("..", "testdata", "captures", "lab", n+"_*.ami"))
		for _, p := range m {
			b, err := os.ReadFile(p)
			if err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("Event: QueueEntry\r\nQueue: q\r\nUniqueid: 1\r\nPosition: -5\r\nWait: 99999999999\r\n\r\nEvent: QueueCallerLeave\r\nQueue: q\r\nUniqueid: 1\r\n\r\n"))
	f.Add([]byte("Event: CoreShowChannel\r\nLinkedid: x\r\nUniqueid: x\r\nDuration: 99:99:99\r\nApplication: Queue\r\nApplicationData: \r\n\r\nEvent: CoreShowChannelsComplete\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := assemble.ReadCaptureEvents(bytes.NewReader(data))
		if err != nil {
			return
		}
		h := NewHub(HubOptions{})
		defer h.Close()
		st := NewState(Options{Hub: h, Directory: labDirectory()})
		a := assemble.New(labConfig())
		for i := range evs {
			if evs[i].Time.IsZero() {
				evs[i].Time = time.Unix(1795704908, 0)
			}
			st.Apply(1, &evs[i], a.Feed(&evs[i]))
		}
		for _, c := range h.Snapshot(TopicQueue, nil) {
			q := c.Queue
			if q.Counters.Received < 0 || q.Counters.Finished < 0 || q.AvgWaitSeconds() < 0 {
				t.Fatalf("negative counters %+v", q.Counters)
			}
		}
	})
}

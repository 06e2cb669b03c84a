package ami

import (
	"bufio"
	"strings"
	"testing"
	"time"
)

func TestFromAmigo(t *testing.T) {
	m, rec := fromAmigo(map[string]string{
		"#": "7", "TimeReceived": "2026-11-26T15:00:00.123456789Z",
		"ActionID": "x", "Zeta": "z", "Event": "QueueMember", "Alpha": "a", "Timestamp": "1.0", "Privilege": "agent,all",
	})
	want := "Event: QueueMember\r\nPrivilege: agent,all\r\nTimestamp: 1.0\r\nAlpha: a\r\nZeta: z\r\nActionID: x\r\n\r\n"
	if m.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", m, want)
	}
	if !rec.Equal(time.Date(2026, 11, 26, 15, 0, 0, 123456789, time.UTC)) {
		t.Fatalf("received %v", rec)
	}
	out, _ := fromAmigo(map[string]string{"Response": "Success", "RealOutput": "first", "Output": "last"})
	if got := out.GetAll("Output"); len(got) != 2 || got[0] != "first" || got[1] != "last" {
		t.Fatalf("outputs %q", got)
	}
}

// FuzzReadBlock: the login reply is read from the network before amigo sees it.
func FuzzReadBlock(f *testing.F) {
	f.Add("Response: Success\r\nActionID: 1\r\nMessage: Authentication accepted\r\n\r\n")
	f.Add("\r\n\r\nResponse: Error\nMessage: Authentication failed\n\n")
	f.Add("no colon\r\n: empty\r\n\r\n")
	f.Add(strings.Repeat("x", 5000) + "\r\n\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		raw, msg, err := readBlock(bufio.NewReaderSize(strings.NewReader(in), 64<<10))
		if err != nil {
			return
		}
		if len(msg) == 0 || len(raw) > len(in)+2*strings.Count(in, "\n")+2 {
			t.Fatalf("block %q from %q", raw, in)
		}
	})
}

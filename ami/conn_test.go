package ami

import (
	"bufio"
	"math/rand/v2"
	"slices"
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

// fromAmigoReference is the first fromAmigo (without the TimeReceived parse): one
// generic sort by (rank, key). The faster one must order every block exactly as it
// did; BenchmarkFromAmigoReference is the figure before.
func fromAmigoReference(m map[string]string) Message {
	type rk struct {
		k string
		r int
	}
	keys := make([]rk, 0, len(m))
	for k := range m {
		if k == "#" || k == "TimeReceived" {
			continue
		}
		keys = append(keys, rk{k, keyRank(k)})
	}
	slices.SortFunc(keys, func(a, b rk) int {
		if a.r != b.r {
			return a.r - b.r
		}
		return strings.Compare(a.k, b.k)
	})
	msg := make(Message, 0, len(keys))
	for _, k := range keys {
		key := k.k
		if key == "RealOutput" {
			key = "Output"
		}
		msg = append(msg, Field{key, m[k.k]})
	}
	return msg
}

func TestFromAmigoOrder(t *testing.T) {
	pool := []string{"Event", "event", "EVENT", "Response", "response", "Privilege", "privilege", "Timestamp", "TimeStamp",
		"RealOutput", "Output", "output", "ActionID", "actionid", "ActionId", "Channel", "Uniqueid", "Linkedid", "a", "Z", "zz",
		"Queue", "Position", "Eventx", "Responses", "Outputs", "Privileges", "ActionIDs", "", "#", "TimeReceived"}
	rng := rand.New(rand.NewPCG(1, 2))
	var ko keyOrders
	for i := 0; i < 5000; i++ {
		m := map[string]string{}
		for n := rng.IntN(len(pool)); n > 0; n-- {
			k := pool[rng.IntN(len(pool))]
			m[k] = k + "-v"
		}
		// A small pool of names so that the cache is hit, and hit with key sets
		// that differ from the remembered ones.
		m["Event"] = []string{"A", "B", "C"}[rng.IntN(3)]
		want := fromAmigoReference(m)
		for _, cache := range []*keyOrders{nil, &ko, &ko} {
			got, _ := fromAmigoInto(m, cache)
			if got.String() != want.String() {
				t.Fatalf("map %v (cache %v):\ngot\n%s\nwant\n%s", m, cache != nil, got, want)
			}
		}
	}
}

func BenchmarkFromAmigo(b *testing.B) {
	m := map[string]string{"#": "1", "TimeReceived": "2026-11-26T15:00:00.123456789Z", "Event": "Newchannel", "Privilege": "call,all",
		"Timestamp": "1795705160.299134", "Channel": "PJSIP/1001-00000001", "ChannelState": "4", "ChannelStateDesc": "Ring",
		"CallerIDNum": "1001", "CallerIDName": "Op 1001", "ConnectedLineNum": "<unknown>", "ConnectedLineName": "<unknown>",
		"Language": "en", "AccountCode": "", "Context": "from-internal", "Exten": "2000", "Priority": "1",
		"Uniqueid": "1795705160.1", "Linkedid": "1795705160.1", "SystemName": "pbx"}
	b.Run("cached", func(b *testing.B) {
		var ko keyOrders
		b.ReportAllocs()
		for b.Loop() {
			fromAmigoInto(m, &ko)
		}
	})
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			fromAmigoInto(m, nil)
		}
	})
}

func BenchmarkFromAmigoReference(b *testing.B) {
	m := map[string]string{"#": "1", "TimeReceived": "2026-11-26T15:00:00.123456789Z", "Event": "Newchannel", "Privilege": "call,all",
		"Timestamp": "1795705160.299134", "Channel": "PJSIP/1001-00000001", "ChannelState": "4", "ChannelStateDesc": "Ring",
		"CallerIDNum": "1001", "CallerIDName": "Op 1001", "ConnectedLineNum": "<unknown>", "ConnectedLineName": "<unknown>",
		"Language": "en", "AccountCode": "", "Context": "from-internal", "Exten": "2000", "Priority": "1",
		"Uniqueid": "1795705160.1", "Linkedid": "1795705160.1", "SystemName": "pbx"}
	b.ReportAllocs()
	for b.Loop() {
		fromAmigoReference(m)
		_, _ = time.Parse(time.RFC3339Nano, m["TimeReceived"])
	}
}

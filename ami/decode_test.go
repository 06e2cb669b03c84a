package ami

import (
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func captureFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/captures/*/*.ami")
	if err != nil || len(files) < 30 {
		t.Fatalf("capture files: %v (%d found)", err, len(files))
	}
	return files
}

// fieldBag is a message as a multiset: lower-cased key and value, sorted. Key
// casing is not kept by typed fields (Uniqueid vs UniqueID), order is canonical.
func fieldBag(m Message) []string {
	out := make([]string, len(m))
	for i, f := range m {
		out[i] = strings.ToLower(f.Key) + "\x00" + f.Value
	}
	slices.Sort(out)
	return out
}

// TestDecodeCapturesLossless decodes every event of every capture and checks
// that the typed fields plus Extra give back exactly the received fields.
func TestDecodeCapturesLossless(t *testing.T) {
	unknown := map[string]int{}
	var total, extra, typed int
	for _, path := range captureFiles(t) {
		events, err := ReadCaptureFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := range events {
			e := &events[i]
			te, err := Decode(e)
			if err != nil {
				t.Fatalf("%s seq %d: %v", path, e.Seq, err)
			}
			if u, ok := te.(*UnknownEvent); ok {
				unknown[u.EventName()]++
			} else if !strings.EqualFold(te.EventName(), e.Name) {
				t.Errorf("%s seq %d: decoded %s as %s", path, e.Seq, e.Name, te.EventName())
			}
			got := te.AppendFields(nil)
			if a, b := fieldBag(got), fieldBag(e.Fields); !reflect.DeepEqual(a, b) {
				t.Errorf("%s seq %d (%s): fields differ after decode\n got  %q\n want %q", path, e.Seq, e.Name, a, b)
			}
			// In real captures only per-report RTCP headers (Report0...) and the
			// free-form headers of UserEvent are outside the generated types;
			// anything else in Extra means a documented field is not typed.
			if x := extraOf(te); len(x) > 0 && te.EventName() != "UserEvent" {
				for _, f := range x {
					if !strings.HasPrefix(te.EventName(), "RTCP") || !strings.HasPrefix(f.Key, "Report") {
						t.Errorf("%s seq %d (%s): %q in Extra", path, e.Seq, e.Name, f.Key)
					}
				}
			}
			total += len(e.Fields)
			n := len(extraOf(te))
			extra += n
			typed += len(e.Fields) - n
		}
	}
	if len(unknown) > 0 {
		t.Errorf("events without a generated type: %v", unknown)
	}
	t.Logf("%d fields: %d typed, %d in Extra", total, typed, extra)
}

func extraOf(te TypedEvent) Message {
	return reflect.ValueOf(te).Elem().FieldByName("Extra").Interface().(Message)
}

func mustDecode(t *testing.T, raw string) TypedEvent {
	t.Helper()
	m, err := NewReader(strings.NewReader(raw)).ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	te, err := DecodeMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	return te
}

func TestDecodeSnapshotsAndPrefixes(t *testing.T) {
	te := mustDecode(t, "Event: DialBegin\r\nPrivilege: call,all\r\nTimestamp: 1795704910.224083\r\n"+
		"Channel: PJSIP/trunk-00000000\r\nUniqueid: 1795704908.0\r\nLinkedid: 1795704908.0\r\nAccountCode: \r\n"+
		"DestChannel: PJSIP/1002-00000001\r\nDestUniqueid: 1795704909.1\r\nDestLinkedid: 1795704908.0\r\n"+
		"DialString: PJSIP/1002\r\n\r\n")
	d, ok := te.(*DialBegin)
	if !ok {
		t.Fatalf("decoded %T", te)
	}
	if d.Channel != "PJSIP/trunk-00000000" || d.Uniqueid != "1795704908.0" || d.Dest.Channel != "PJSIP/1002-00000001" ||
		d.Dest.Uniqueid != "1795704909.1" || d.Dest.Linkedid != "1795704908.0" || d.DialString != "PJSIP/1002" {
		t.Errorf("fields: %+v", d)
	}
	if d.Privilege != "call,all" || d.Timestamp != "1795704910.224083" || len(d.Extra) != 0 {
		t.Errorf("header %+v, extra %q", d.Header, d.Extra)
	}
	// The empty AccountCode was received, so it is written back.
	if !slices.Contains(d.AppendFields(nil), Field{"AccountCode", ""}) {
		t.Errorf("empty AccountCode lost: %q", d.AppendFields(nil))
	}
	if c, ok := te.(interface{ ChannelSnapshot() *Snapshot }); !ok || c.ChannelSnapshot().Uniqueid != "1795704908.0" {
		t.Errorf("ChannelSnapshot not promoted")
	}
}

func TestDecodeBridgeAndTransferPrefixes(t *testing.T) {
	te := mustDecode(t, "Event: AttendedTransfer\nResult: Success\nOrigTransfererChannel: PJSIP/1002-00000003\n"+
		"OrigBridgeUniqueid: b1\nSecondBridgeNumChannels: 2\nTransfereeUniqueid: 1.0\nTransferTargetChannel: Local/2000@from-internal-00000000;1\n"+
		"DestType: Bridge\nDestBridgeUniqueid: b1\nIsExternal: No\n\n")
	a := te.(*AttendedTransfer)
	if a.OrigTransferer.Channel != "PJSIP/1002-00000003" || a.OrigBridge.BridgeUniqueid != "b1" || a.SecondBridge.BridgeNumChannels != "2" ||
		a.Transferee.Uniqueid != "1.0" || a.TransferTarget.Channel == "" || a.DestType != "Bridge" || a.IsExternal != "No" || len(a.Extra) != 0 {
		t.Errorf("%+v", a)
	}
	be := mustDecode(t, "Event: BridgeEnter\nBridgeUniqueid: b1\nBridgeNumChannels: 1\nChannel: PJSIP/1001-00000002\nSwapUniqueid: 1.3\n\n").(*BridgeEnter)
	if be.BridgeUniqueid != "b1" || be.Channel != "PJSIP/1001-00000002" || be.SwapUniqueid != "1.3" {
		t.Errorf("%+v", be)
	}
}

func TestDecodeCaseInsensitive(t *testing.T) {
	te := mustDecode(t, "event: hangup\r\nUNIQUEID: 1.0\r\ncause-TXT: Normal Clearing\r\nCause: 16\r\n\r\n")
	h, ok := te.(*Hangup)
	if !ok {
		t.Fatalf("decoded %T", te)
	}
	if h.Uniqueid != "1.0" || h.CauseTxt != "Normal Clearing" || h.Cause != "16" || h.Event != "hangup" || h.EventName() != "Hangup" {
		t.Errorf("%+v", h)
	}
}

func TestDecodeRepeatedKeys(t *testing.T) {
	te := mustDecode(t, "Event: Newchannel\r\nChannel: PJSIP/1001-00000001\r\nChanVariable: A=1\r\nChanVariable: B=2\r\n"+
		"ChanVariable(PJSIP/1001-00000001): C=3\r\nUniqueid: 1.1\r\nUniqueid: 1.2\r\nFoo: bar\r\n\r\n")
	n := te.(*Newchannel)
	if !reflect.DeepEqual(n.ChanVariable, []string{"A=1", "B=2"}) {
		t.Errorf("ChanVariable = %q", n.ChanVariable)
	}
	if n.Uniqueid != "1.1" {
		t.Errorf("Uniqueid = %q: the first occurrence must win", n.Uniqueid)
	}
	want := Message{{"ChanVariable(PJSIP/1001-00000001)", "C=3"}, {"Uniqueid", "1.2"}, {"Foo", "bar"}}
	if !reflect.DeepEqual(n.Extra, want) {
		t.Errorf("Extra = %q, want %q", n.Extra, want)
	}

	d := mustDecode(t, "Event: DialEnd\nDestChanVariable: X=1\nDestChanVariable: Y=2\nChanVariable: Z=3\n\n").(*DialEnd)
	if !reflect.DeepEqual(d.Dest.ChanVariable, []string{"X=1", "Y=2"}) || !reflect.DeepEqual(d.ChanVariable, []string{"Z=3"}) {
		t.Errorf("Dest.ChanVariable = %q, ChanVariable = %q", d.Dest.ChanVariable, d.ChanVariable)
	}

	u := mustDecode(t, "Event: UserEvent\nUserEvent: X\nFoo: 1\nFoo: 2\n\n").(*UserEvent)
	if u.UserEvent != "X" || !reflect.DeepEqual(u.Extra, Message{{"Foo", "1"}, {"Foo", "2"}}) {
		t.Errorf("%+v", u)
	}
}

func TestDecodeOldShapes(t *testing.T) {
	d := mustDecode(t, "Event: Dial\nSubEvent: Begin\nChannel: SIP/a-1\nDestination: SIP/b-2\nUniqueID: 1.1\nDestUniqueID: 1.2\nDialstring: b\n\n").(*Dial)
	if d.SubEvent != "Begin" || d.Destination != "SIP/b-2" || d.DestUniqueID != "1.2" || len(d.Extra) != 0 {
		t.Errorf("%+v", d)
	}
	h := mustDecode(t, "Event: Hold\nChannel: SIP/a-1\nUniqueid: 1.1\nStatus: On\n\n").(*Hold)
	if h.Status != "On" || h.Channel != "SIP/a-1" {
		t.Errorf("%+v", h)
	}
	for _, name := range []string{"Bridge", "Join", "Leave", "Masquerade", "Transfer", "Rename", "Link", "Unlink", "MusicOnHold"} {
		if _, ok := mustDecode(t, "Event: "+name+"\n\n").(*UnknownEvent); ok {
			t.Errorf("%s has no type", name)
		}
	}
}

func TestDecodeUnknownAndErrors(t *testing.T) {
	te := mustDecode(t, "Event: MyOwnEvent\nPrivilege: user,all\nA: 1\nA: 2\n\n")
	u, ok := te.(*UnknownEvent)
	if !ok || u.EventName() != "MyOwnEvent" || u.Privilege != "user,all" || !reflect.DeepEqual(u.Extra, Message{{"A", "1"}, {"A", "2"}}) {
		t.Errorf("%T %+v", te, te)
	}
	if _, err := DecodeMessage(Message{{"Response", "Success"}}); !errors.Is(err, ErrNotEvent) {
		t.Errorf("response: err = %v", err)
	}
	if _, err := Decode(&Event{Fields: Message{{"Event", ""}}}); !errors.Is(err, ErrNotEvent) {
		t.Errorf("empty name: err = %v", err)
	}
	// Event.Name wins over the header, so a collector can decode without a lookup.
	te, err := Decode(&Event{Name: "Hangup", Fields: Message{{"Event", "Hangup"}, {"Cause", "16"}}})
	if h, ok := te.(*Hangup); err != nil || !ok || h.Cause != "16" {
		t.Errorf("Decode(Event) = %#v, %v", te, err)
	}
	long := strings.Repeat("k", keyBufLen+1)
	h := mustDecode(t, "Event: Hangup\n"+long+": v\n\n").(*Hangup)
	if !reflect.DeepEqual(h.Extra, Message{{long, "v"}}) {
		t.Errorf("long key: Extra = %q", h.Extra)
	}
}

func TestAppendFieldsBuiltInCode(t *testing.T) {
	// A struct filled in code (the simulator) writes its name and non-empty fields.
	q := &QueueCallerJoin{Snapshot: Snapshot{Channel: "PJSIP/trunk-00000000", Uniqueid: "1.0"}, Queue: "support", Position: "1"}
	got := q.AppendFields(nil)
	want := Message{{"Event", "QueueCallerJoin"}, {"Channel", "PJSIP/trunk-00000000"}, {"Uniqueid", "1.0"}, {"Queue", "support"}, {"Position", "1"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AppendFields = %q, want %q", got, want)
	}
}

func TestEventNames(t *testing.T) {
	names := EventNames()
	for _, want := range []string{"Hangup", "Newexten", "QueueCallerJoin", "AgentRingNoAnswer", "Dial", "Bridge", "QueueMember"} {
		if !slices.Contains(names, want) {
			t.Errorf("EventNames() lacks %s", want)
		}
	}
	for _, n := range names {
		te, err := DecodeMessage(Message{{"Event", n}})
		if err != nil || te.EventName() != n {
			t.Errorf("decode %s: %v %v", n, te, err)
		}
		if _, ok := te.(*UnknownEvent); ok {
			t.Errorf("%s decodes as unknown", n)
		}
	}
}

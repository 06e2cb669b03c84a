package ami

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestReadCaptureLab(t *testing.T) {
	path := "testdata/captures/lab/a1_queue_localmember_answer_caller_hangup.ami"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	events, err := ReadCaptureFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.Count(raw, []byte("\r\nEvent: ")) + bytes.Count(raw[:7], []byte("Event: ")); len(events) != want {
		t.Fatalf("%d events, want %d", len(events), want)
	}
	var prev time.Time
	for i, e := range events {
		if e.Seq != uint64(i+1) || e.Name == "" || e.Fields.EventName() != e.Name {
			t.Fatalf("event %d: seq %d name %q", i, e.Seq, e.Name)
		}
		if e.Stamped != e.Fields.Has("Timestamp") {
			t.Errorf("seq %d: Stamped = %v with Timestamp %q", e.Seq, e.Stamped, e.Get("Timestamp"))
		}
		if e.Stamped && e.Time.Before(prev.Add(-time.Second)) {
			t.Errorf("seq %d: time went back from %v to %v", e.Seq, prev, e.Time)
		}
		if e.Stamped {
			prev = e.Time
		}
		if !e.Stamped && !e.Time.Equal(e.Received) {
			t.Errorf("seq %d: unstamped Time %v != Received %v", e.Seq, e.Time, e.Received)
		}
	}
	// FullyBooted comes first, before any stamped event: no time at all.
	if events[0].Name != "FullyBooted" || events[0].Stamped || !events[0].Time.IsZero() {
		t.Errorf("first event: %+v", events[0])
	}
	first := events[1]
	for _, e := range events {
		if e.Name == "Newchannel" {
			first = e
			break
		}
	}
	if want, _ := ParseTimestamp(first.Get("Timestamp")); !first.Time.Equal(want) || first.Time.Year() != 2026 {
		t.Errorf("Newchannel time %v", first.Time)
	}
}

// TestReadCaptureLineEnds checks that a capture reads the same with LF as with
// CRLF, and that responses and the greeting are skipped.
func TestReadCaptureLineEnds(t *testing.T) {
	raw, err := os.ReadFile("testdata/captures/lab/j1_member_management.ami")
	if err != nil {
		t.Fatal(err)
	}
	crlf, err := ReadCapture(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	lf, err := ReadCapture(strings.NewReader(strings.ReplaceAll(string(raw), "\r\n", "\n")))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(crlf, lf) {
		t.Error("CRLF and LF captures differ")
	}
	for _, e := range crlf {
		if e.Fields.Has("Response") {
			t.Errorf("seq %d is a response", e.Seq)
		}
	}
	if bytes.Count(raw, []byte("Response: ")) == 0 || len(crlf) == 0 {
		t.Fatal("j1 should mix responses and events")
	}
}

func TestReadCaptureAll(t *testing.T) {
	for _, path := range captureFiles(t) {
		events, err := ReadCaptureFile(path)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		raw, _ := os.ReadFile(path)
		n := strings.Count(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\nEvent: ")
		if strings.HasPrefix(string(raw), "Event: ") {
			n++
		}
		if len(events) != n {
			t.Errorf("%s: %d events, want %d", path, len(events), n)
		}
	}
}

func TestReadCaptureBroken(t *testing.T) {
	if _, err := ReadCapture(strings.NewReader("Event: A\r\nnot a header\r\n\r\n")); err == nil {
		t.Error("malformed capture read without error")
	}
	events, err := ReadCapture(strings.NewReader("Event: A\nX: 1"))
	if err != nil || len(events) != 1 || events[0].Get("X") != "1" {
		t.Errorf("last block without blank line: %v, %v", events, err)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// TestGeneratedUpToDate fails when ami/events_gen.go differs from what the
// generator makes now: someone edited the generated file, or changed the
// generator or the JSON without running `go generate ./ami`.
func TestGeneratedUpToDate(t *testing.T) {
	raw, err := os.ReadFile("ami-events.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc jsonDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	want, err := generate(&doc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../events_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("ami/events_gen.go is stale: run go generate ./ami")
	}
}

func TestGoIdent(t *testing.T) {
	for in, want := range map[string]string{
		"AOC-D": "AOCD", "Cause-txt": "CauseTxt", "CID-CallingPres": "CIDCallingPres",
		"100rel": "Rel100", "SIP-Callid": "SIPCallid", "Uniqueid": "Uniqueid", "callerIDnum": "CallerIDnum",
	} {
		if got := goIdent(in); got != want {
			t.Errorf("goIdent(%q) = %q, want %q", in, got, want)
		}
	}
}

// Package ami talks to Asterisk over the Asterisk Manager Interface: it reads and writes
// AMI frames, decodes typed events, and keeps one connection per configured server.
package ami

import (
	"strings"
	"time"
)

// Field is one "Key: Value" line of an AMI message.
type Field struct {
	Key   string
	Value string
}

// Message is one AMI block (event, response or action) with its lines in wire order.
// Keys may repeat (ChanVariable, Output, duplicated UserEvent headers), so a Message
// is a list, never a map: a map would silently lose data.
type Message []Field

// Get returns the value of the first field whose key equals key case-insensitively,
// or "" when there is none. Asterisk's casing differs between events (Uniqueid,
// UniqueID, DestUniqueId), so every lookup must ignore case.
func (m Message) Get(key string) string {
	v, _ := m.Lookup(key)
	return v
}

// Lookup is Get that also reports whether the key was present.
func (m Message) Lookup(key string) (string, bool) {
	for i := range m {
		if equalFoldASCII(m[i].Key, key) {
			return m[i].Value, true
		}
	}
	return "", false
}

// GetAll returns every value of key, in wire order.
func (m Message) GetAll(key string) []string {
	var out []string
	for i := range m {
		if equalFoldASCII(m[i].Key, key) {
			out = append(out, m[i].Value)
		}
	}
	return out
}

// Has reports whether key is present.
func (m Message) Has(key string) bool {
	_, ok := m.Lookup(key)
	return ok
}

// Add appends a field and returns the message, for building actions and test events.
func (m Message) Add(key, value string) Message { return append(m, Field{key, value}) }

// EventName is the value of the Event header ("" for responses and actions).
func (m Message) EventName() string { return m.Get("Event") }

// String renders the message in wire form (CRLF line ends, blank line at the end).
func (m Message) String() string {
	var b strings.Builder
	_ = WriteMessage(&b, m) // a strings.Builder never fails
	return b.String()
}

// Event is a message received from one server, with what the receiver knows about it.
type Event struct {
	// Seq is the per-server receive sequence: strictly increasing across reconnects,
	// so journal order is receive order.
	Seq uint64
	// Received is when the collector read the event off the socket (UTC).
	Received time.Time
	// Time is the Asterisk Timestamp header when present, else Received.
	Time time.Time
	// Stamped says whether Time came from Asterisk's own Timestamp header.
	Stamped bool
	// Name is the Event header, kept out of Fields lookups because every consumer needs it.
	Name   string
	Fields Message
}

// Get is a shortcut for e.Fields.Get.
func (e *Event) Get(key string) string { return e.Fields.Get(key) }

// equalFoldASCII compares AMI keys, which are ASCII, without the cost of Unicode folding.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}

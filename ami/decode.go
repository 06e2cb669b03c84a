package ami

import "errors"

//go:generate go run ./internal/eventgen

// ErrNotEvent is returned by Decode for a message without an Event header
// (a response or an action).
var ErrNotEvent = errors.New("ami: message has no Event header")

// TypedEvent is a decoded AMI event: one of the generated structs in
// events_gen.go, or *UnknownEvent. Every implementation keeps all received
// headers (documented ones in fields, the rest in Extra), so AppendFields gives
// back the same fields as the wire message, in canonical rather than wire order.
type TypedEvent interface {
	// EventName is the canonical event name ("Newexten"); Header.Event keeps the
	// casing that was received.
	EventName() string
	// EventHeader gives the headers every event may carry.
	EventHeader() *Header
	// AppendFields appends the event in wire form to dst.
	AppendFields(dst Message) Message
}

// Header holds the headers that any event may carry, whatever its type.
type Header struct {
	Event     string // the Event header as received
	Privilege string // "call,all"; absent on list items answering an action
	Timestamp string // "<epoch>.<usec>" with timestampevents=yes; see ParseTimestamp
	ActionID  string // set on events that answer an action
	// SystemName is asterisk.conf systemname, which also prefixes uniqueids.
	SystemName string
	has        uint8
}

const (
	hasEvent = 1 << iota
	hasPrivilege
	hasTimestamp
	hasActionID
	hasSystemName
)

// set takes a lower-cased common header. A repeat of one already set returns
// false so that it lands in Extra instead of overwriting the first.
func (h *Header) set(k []byte, v string) bool {
	var bit uint8
	var dst *string
	switch string(k) {
	case "event":
		bit, dst = hasEvent, &h.Event
	case "privilege":
		bit, dst = hasPrivilege, &h.Privilege
	case "timestamp":
		bit, dst = hasTimestamp, &h.Timestamp
	case "actionid":
		bit, dst = hasActionID, &h.ActionID
	case "systemname":
		bit, dst = hasSystemName, &h.SystemName
	default:
		return false
	}
	if h.has&bit != 0 {
		return false
	}
	h.has |= bit
	*dst = v
	return true
}

func (h *Header) appendFields(dst Message, name string) Message {
	ev := h.Event
	if ev == "" {
		ev = name // a struct built in code rather than decoded
	}
	dst = append(dst, Field{"Event", ev})
	dst = appendField(dst, "Privilege", h.Privilege, h.has&hasPrivilege != 0)
	dst = appendField(dst, "Timestamp", h.Timestamp, h.has&hasTimestamp != 0)
	dst = appendField(dst, "ActionID", h.ActionID, h.has&hasActionID != 0)
	return appendField(dst, "SystemName", h.SystemName, h.has&hasSystemName != 0)
}

// ChannelSnapshot returns s. Events that embed the unprefixed snapshot get this
// method promoted, so code that only needs Channel/Uniqueid/Linkedid can ask for
// it with a type assertion instead of a switch over every event type:
//
//	if c, ok := te.(interface{ ChannelSnapshot() *Snapshot }); ok { ... }
func (s *Snapshot) ChannelSnapshot() *Snapshot { return s }

// UnknownEvent is an event name the generator does not know. All headers but
// the common ones are in Extra, in wire order.
type UnknownEvent struct {
	Header
	Extra Message
}

// EventName returns the Event header as received.
func (e *UnknownEvent) EventName() string { return e.Event }

// EventHeader returns the common headers.
func (e *UnknownEvent) EventHeader() *Header { return &e.Header }

// AppendFields appends the event in wire form.
func (e *UnknownEvent) AppendFields(dst Message) Message {
	dst = e.Header.appendFields(dst, e.Event)
	return append(dst, e.Extra...)
}

// Decode returns the typed form of e: a pointer to the generated struct for its
// name (matched case-insensitively), or *UnknownEvent. It fails only when the
// event has no name at all.
func Decode(e *Event) (TypedEvent, error) {
	name := e.Name
	if name == "" {
		name = e.Fields.Get("Event")
	}
	return decode(name, e.Fields)
}

// DecodeMessage is Decode for a bare message.
func DecodeMessage(m Message) (TypedEvent, error) {
	return decode(m.Get("Event"), m)
}

func decode(name string, m Message) (TypedEvent, error) {
	if name == "" {
		return nil, ErrNotEvent
	}
	var buf [keyBufLen]byte
	if te := decodeKnown(lowerKey(&buf, name), m); te != nil {
		return te, nil
	}
	u := &UnknownEvent{}
	for _, f := range m {
		if !u.Header.set(lowerKey(&buf, f.Key), f.Value) {
			u.Extra = append(u.Extra, f)
		}
	}
	return u, nil
}

// EventNames returns the wire names of every event type Decode knows.
func EventNames() []string { return append([]string(nil), eventNames...) }

// keyBufLen bounds the keys the decoder lowers; longer keys match no documented
// field (eventgen checks this) and go to Extra.
const keyBufLen = 64

// lowerKey lowers an ASCII key into buf. Lowering once and switching on the
// result is what makes the generated decoders case-insensitive without a
// per-case EqualFold.
func lowerKey(buf *[keyBufLen]byte, key string) []byte {
	if len(key) > keyBufLen {
		return nil
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(key)]
}

// setOnce stores v in *dst if bit is clear in *has: the first occurrence of a
// single-valued key goes to its field, repeats go to Extra.
func setOnce(has *uint64, bit uint, dst *string, v string) bool {
	if *has&(1<<bit) != 0 {
		return false
	}
	*has |= 1 << bit
	*dst = v
	return true
}

// appendField writes a field that was received (even if empty: "AccountCode: "
// is not the same as no AccountCode) or that was set in code.
func appendField(dst Message, key, v string, received bool) Message {
	if !received && v == "" {
		return dst
	}
	return append(dst, Field{key, v})
}

func appendMulti(dst Message, key string, vs []string) Message {
	for _, v := range vs {
		dst = append(dst, Field{key, v})
	}
	return dst
}

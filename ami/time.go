package ami

import (
	"strconv"
	"strings"
	"time"
)

// ParseTimestamp parses an AMI Timestamp header ("1795704908.389075": epoch
// seconds, a dot, microseconds). Up to nine fraction digits are accepted, and
// none, so that other "<epoch>.<frac>" values (Ping replies, CEL EventTime
// in some configurations) parse too. The result is UTC.
func ParseTimestamp(s string) (time.Time, bool) {
	secs, frac, _ := strings.Cut(s, ".")
	sec, ok := parseDigits(secs)
	if !ok || len(frac) > 9 {
		return time.Time{}, false
	}
	var nsec int64
	if frac != "" {
		n, ok := parseDigits(frac)
		if !ok {
			return time.Time{}, false
		}
		for i := len(frac); i < 9; i++ {
			n *= 10
		}
		nsec = n
	}
	return time.Unix(sec, nsec).UTC(), true
}

// parseDigits accepts only ASCII digits (no sign, no spaces) and at most 18 of
// them, so it can not overflow int64.
func parseDigits(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// NewEvent makes an Event of a message read at received, with Name and Time
// filled in (see Stamp).
func NewEvent(seq uint64, received time.Time, m Message) Event {
	e := Event{Seq: seq, Name: m.Get("Event"), Fields: m}
	e.Stamp(received)
	return e
}

// Stamp sets Received and takes Time from the Timestamp header when it parses;
// otherwise Time is the receive time and Stamped is false. Asterisk only sends
// Timestamp with manager.conf timestampevents=yes, and never on FullyBooted or
// on list items answering an action, so both cases occur in one stream.
func (e *Event) Stamp(received time.Time) {
	e.Received = received.UTC()
	if t, ok := ParseTimestamp(e.Fields.Get("Timestamp")); ok {
		e.Time, e.Stamped = t, true
		return
	}
	e.Time, e.Stamped = e.Received, false
}

// Uniqueid is a parsed channel uniqueid: [systemname-]<epoch>.<counter>.
type Uniqueid struct {
	System  string // asterisk.conf systemname, "" when not set
	Epoch   int64  // channel creation time, in seconds
	Counter uint64 // per-process channel counter; orders channels created in the same second
}

// Time is the channel creation time (UTC, whole seconds).
func (u Uniqueid) Time() time.Time { return time.Unix(u.Epoch, 0).UTC() }

// ParseUniqueid splits a uniqueid. The systemname may itself contain '-', so the
// split is at the last one. Client-chosen ids (Originate ChannelId) need not
// have this form; ok is false for them.
func ParseUniqueid(s string) (u Uniqueid, ok bool) {
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		u.System, s = s[:i], s[i+1:]
	}
	epoch, counter, found := strings.Cut(s, ".")
	if !found {
		return Uniqueid{}, false
	}
	if u.Epoch, ok = parseDigits(epoch); !ok {
		return Uniqueid{}, false
	}
	c, err := strconv.ParseUint(counter, 10, 64)
	if err != nil {
		return Uniqueid{}, false
	}
	u.Counter = c
	return u, true
}

// UniqueidTime is the creation time encoded in a uniqueid such as
// "1795704908.0" or "195176c06ab8-1529936170.42".
func UniqueidTime(uniqueid string) (time.Time, bool) {
	u, ok := ParseUniqueid(uniqueid)
	if !ok {
		return time.Time{}, false
	}
	return u.Time(), true
}

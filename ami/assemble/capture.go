package assemble

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/linkage/linkage/ami"
)

// ReadCaptureEvents reads a raw AMI capture (the bytes one session received) and returns
// its events in file order. Blocks without an Event header (responses, the greeting) are
// dropped. Seq counts events from 1. Time is set from the "Timestamp: <epoch>.<usec>"
// header when there is one (Stamped=true); otherwise Time and Received stay zero and the
// assembler falls back to the times Asterisk reports inside events (ApproximateTimes).
// Malformed blocks are skipped, as a live reader would.
func ReadCaptureEvents(r io.Reader) ([]ami.Event, error) {
	rd := ami.NewReader(r)
	var out []ami.Event
	var seq uint64
	for {
		msg, err := rd.ReadMessage()
		if err != nil {
			var fe *ami.FrameError
			switch {
			case errors.As(err, &fe):
				continue
			case errors.Is(err, io.EOF):
				return out, nil
			case errors.Is(err, io.ErrUnexpectedEOF):
				// A capture cut inside a block: keep what was complete.
				if len(msg) == 0 || msg.EventName() == "" {
					return out, nil
				}
			default:
				return out, fmt.Errorf("assemble: read capture: %w", err)
			}
		}
		name := msg.EventName()
		if name == "" {
			if err != nil {
				return out, nil
			}
			continue
		}
		seq++
		ev := ami.Event{Seq: seq, Name: name, Fields: msg}
		if ts := msg.Get("Timestamp"); ts != "" {
			if t, ok := parseEpoch(ts); ok {
				ev.Time, ev.Stamped = t, true
			}
		}
		out = append(out, ev)
		if err != nil {
			return out, nil
		}
	}
}

// parseEpoch parses "<seconds>.<fraction>" (Timestamp headers, uniqueid epochs) exactly,
// without going through float64.
func parseEpoch(s string) (time.Time, bool) {
	sec, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	var ns int64
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		f, err := strconv.ParseInt(frac, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		for i := len(frac); i < 9; i++ {
			f *= 10
		}
		ns = f
	}
	return time.Unix(n, ns).UTC(), true
}

// uniqueidEpoch returns the creation second encoded in a uniqueid
// ("1795704908.0", "sysname-1529936170.42").
func uniqueidEpoch(uid string) (time.Time, bool) {
	if i := strings.LastIndexByte(uid, '-'); i >= 0 {
		uid = uid[i+1:]
	}
	sec, _, ok := strings.Cut(uid, ".")
	if !ok {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || n < 946684800 { // before 2000: a client-chosen id, not an epoch
		return time.Time{}, false
	}
	return time.Unix(n, 0).UTC(), true
}

// olderUniqueid reports whether a was created before b: epoch first, then the counter,
// both as integers (as floats "…909.10" < "…909.9" would be wrong, reference §4.5).
func olderUniqueid(a, b string) bool {
	ea, ca := splitUID(a)
	eb, cb := splitUID(b)
	if ea != eb {
		return ea < eb
	}
	return ca < cb
}

func splitUID(u string) (int64, int64) {
	if i := strings.LastIndexByte(u, '-'); i >= 0 {
		u = u[i+1:]
	}
	s, c, _ := strings.Cut(u, ".")
	e, _ := strconv.ParseInt(s, 10, 64)
	n, _ := strconv.ParseInt(c, 10, 64)
	return e, n
}

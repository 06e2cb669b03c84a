package ami

import (
	"fmt"
	"io"
	"os"
	"time"
)

// ReadCapture reads a capture file: the bytes one AMI session received
// (greeting, responses and events mixed, CRLF or LF line ends). It returns the
// events in order with Seq counting from 1; responses and the greeting are
// skipped. The last block may end at the end of the file without a blank line.
//
// A capture has no receive clock, so Received is the Time of the latest stamped
// event before it (zero until the first one) and Time is the event's own
// Timestamp when it has one. Unstamped captures (timestampevents=no) therefore
// have zero times throughout.
//
// A malformed block is an error here, unlike on a live connection: a capture is
// test input, and a broken one should fail loudly.
func ReadCapture(r io.Reader) ([]Event, error) {
	rd := NewReader(r)
	var events []Event
	var stamped time.Time
	for {
		m, err := rd.ReadMessage()
		switch {
		case err == io.EOF:
			return events, nil
		case err == io.ErrUnexpectedEOF:
			// The last block may end with the file instead of a blank line.
		case err != nil:
			return events, fmt.Errorf("ami: read capture: line %d: %w", rd.Line(), err)
		}
		if m.Has("Event") {
			e := NewEvent(uint64(len(events)+1), stamped, m)
			if e.Stamped {
				stamped = e.Time
			}
			events = append(events, e)
		}
		if err != nil {
			return events, nil
		}
	}
}

// ReadCaptureFile is ReadCapture on a file, for tests in other packages
// (ReadCaptureFile("../testdata/captures/lab/a1_queue_localmember_answer_caller_hangup.ami")).
func ReadCaptureFile(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	events, err := ReadCapture(f)
	if err != nil {
		return events, fmt.Errorf("%s: %w", path, err)
	}
	return events, nil
}

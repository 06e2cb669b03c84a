package assemble

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// jsonCall is the wire form of a Call for `linkage assemble`: the keys are a contract
// with the CLI's users, so they are spelled out here rather than derived from Call.
type jsonCall struct {
	Linkedid               string     `json:"linkedid"`
	Linkedids              []string   `json:"linkedids"`
	Start                  *string    `json:"start"`
	Answered               *string    `json:"answered"`
	End                    *string    `json:"end"`
	Type                   CallType   `json:"type"`
	Status                 Status     `json:"status"`
	MissedReason           string     `json:"missedReason"`
	Caller                 Party      `json:"caller"`
	Dialed                 string     `json:"dialed"`
	Callee                 Party      `json:"callee"`
	AnsweredBy             *Party     `json:"answeredBy"`
	Queues                 []string   `json:"queues"`
	Operators              []Party    `json:"operators"`
	MissedByOperators      []Party    `json:"missedByOperators"`
	MissedInQueues         []string   `json:"missedInQueues"`
	HangupBy               string     `json:"hangupBy"`
	WaitSeconds            int        `json:"waitSeconds"`
	TalkSeconds            int        `json:"talkSeconds"`
	HoldSeconds            int        `json:"holdSeconds"`
	TalkWithoutHoldSeconds int        `json:"talkWithoutHoldSeconds"`
	Transfers              []Transfer `json:"transfers"`
	Recordings             []string   `json:"recordings"`
	Parent                 string     `json:"parent"`
	ApproximateTimes       bool       `json:"approximateTimes"`
}

func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

// empty slices are written as [] so consumers never see null for a list.
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// WriteJSON writes c as one JSON object on one line.
func WriteJSON(w io.Writer, c *Call) error {
	j := jsonCall{
		Linkedid:               c.Linkedid,
		Linkedids:              nonNil(c.Linkedids),
		Start:                  jsonTime(c.Start),
		End:                    jsonTime(c.End),
		Type:                   c.Type,
		Status:                 c.Status,
		MissedReason:           c.MissedReason,
		Caller:                 c.Caller,
		Dialed:                 c.Dialed,
		Callee:                 c.Callee,
		AnsweredBy:             c.AnsweredBy,
		Queues:                 nonNil(c.Queues),
		Operators:              nonNil(c.Operators),
		MissedByOperators:      nonNil(c.MissedByOperators),
		MissedInQueues:         nonNil(c.MissedInQueues),
		HangupBy:               c.HangupBy,
		WaitSeconds:            c.WaitSeconds,
		TalkSeconds:            c.TalkSeconds,
		HoldSeconds:            c.HoldSeconds,
		TalkWithoutHoldSeconds: c.TalkWithoutHoldSeconds,
		Transfers:              nonNil(c.Transfers),
		Recordings:             nonNil(c.Recordings),
		Parent:                 c.Parent,
		ApproximateTimes:       c.ApproximateTimes,
	}
	if c.Answered != nil {
		j.Answered = jsonTime(*c.Answered)
	}
	b, err := json.Marshal(&j)
	if err != nil {
		return fmt.Errorf("assemble: encode call %s: %w", c.Linkedid, err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("assemble: write call %s: %w", c.Linkedid, err)
	}
	return nil
}

// AssembleFiles assembles the captures at paths, one after the other, with one
// assembler per file (each capture is its own AMI session), and writes every finished
// call as a JSON line, in the order calls finished. Calls still open at the end of a file
// are flushed as Incomplete.
func AssembleFiles(paths []string, cfg Config, w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("assemble: %w", err)
		}
		evs, err := ReadCaptureEvents(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("assemble: %s: %w", p, err)
		}
		a := New(cfg)
		write := func(outs []Output) error {
			for _, o := range outs {
				if o.Call != nil {
					if err := WriteJSON(bw, o.Call); err != nil {
						return fmt.Errorf("assemble: %s: %w", p, err)
					}
				}
			}
			return nil
		}
		for i := range evs {
			if err := write(a.Feed(&evs[i])); err != nil {
				return err
			}
		}
		if err := write(a.Close()); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("assemble: write: %w", err)
	}
	return nil
}

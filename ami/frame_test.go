package ami

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// step is one ReadMessage result expected from a stream.
type step struct {
	msg    Message
	err    error  // compared with errors.Is
	reason string // FrameError.Reason when err is ErrFrame
}

func TestReadMessage(t *testing.T) {
	long := strings.Repeat("x", MaxLineLength+1)
	tests := []struct {
		name     string
		in       string
		want     []step
		greeting string
	}{
		{
			name: "empty value with and without the trailing space",
			in:   "Event: Newchannel\r\nAccountCode: \r\nPausedReason:\r\n\r\n",
			want: []step{{msg: Message{{"Event", "Newchannel"}, {"AccountCode", ""}, {"PausedReason", ""}}}},
		},
		{
			name: "value containing colon-space splits on the first colon",
			in:   "Response: Error\r\nMessage: Invalid/unknown command: FooBar. Use Action: ListCommands\r\n\r\n",
			want: []step{{msg: Message{{"Response", "Error"}, {"Message", "Invalid/unknown command: FooBar. Use Action: ListCommands"}}}},
		},
		{
			name: "lower-case keys are kept as sent",
			in:   "event: hangup\r\nuniqueid: 1.2\r\n\r\n",
			want: []step{{msg: Message{{"event", "hangup"}, {"uniqueid", "1.2"}}}},
		},
		{
			name: "LF line ends",
			in:   "Event: A\nX: 1\n\nEvent: B\n\n",
			want: []step{{msg: Message{{"Event", "A"}, {"X", "1"}}}, {msg: Message{{"Event", "B"}}}},
		},
		{
			name: "mixed CRLF and LF, blank lines between blocks",
			in:   "\r\n\nEvent: A\r\nX: 1\n\r\n\r\n\nEvent: B\r\n\r\n",
			want: []step{{msg: Message{{"Event", "A"}, {"X", "1"}}}, {msg: Message{{"Event", "B"}}}},
		},
		{
			name:     "greeting is not a message",
			in:       "Asterisk Call Manager/9.0.0\r\nResponse: Success\r\nActionID: a1\r\nMessage: Authentication accepted\r\n\r\n",
			want:     []step{{msg: Message{{"Response", "Success"}, {"ActionID", "a1"}, {"Message", "Authentication accepted"}}}},
			greeting: "Asterisk Call Manager/9.0.0",
		},
		{
			name: "Response: Follows command output of Asterisk 13 and older",
			in: "Response: Follows\r\nPrivilege: Command\r\nActionID: c1\r\n" +
				"Name/username  Host: dyn\r\n\r\n2 sip peers\r\n--END COMMAND--\r\n\r\nEvent: After\r\n\r\n",
			want: []step{
				{msg: Message{{"Response", "Follows"}, {"Privilege", "Command"}, {"ActionID", "c1"},
					{"Output", "Name/username  Host: dyn"}, {"Output", ""}, {"Output", "2 sip peers"}}},
				{msg: Message{{"Event", "After"}}},
			},
		},
		{
			name: "END COMMAND glued to the last output line",
			in:   "Response: Follows\nPrivilege: Command\nlast line--END COMMAND--\n\n",
			want: []step{{msg: Message{{"Response", "Follows"}, {"Privilege", "Command"}, {"Output", "last line"}}}},
		},
		{
			name: "line too long is skipped, the block and the stream go on",
			in:   "Event: A\r\nBig: " + long + "\r\nY: 2\r\n\r\nEvent: B\r\n\r\n",
			want: []step{
				{msg: Message{{"Event", "A"}, {"Y", "2"}}, err: ErrFrame, reason: "line too long"},
				{msg: Message{{"Event", "B"}}},
			},
		},
		{
			name: "line without a colon",
			in:   "Event: A\r\nthis is not a header\r\nY: 2\r\n\r\nEvent: B\r\n\r\n",
			want: []step{
				{msg: Message{{"Event", "A"}, {"Y", "2"}}, err: ErrFrame, reason: "line without a colon"},
				{msg: Message{{"Event", "B"}}},
			},
		},
		{
			name: "a block of only bad lines does not taint the next block",
			in:   "garbage\r\n\r\nEvent: B\r\n\r\n",
			want: []step{
				{err: ErrFrame, reason: "line without a colon"},
				{msg: Message{{"Event", "B"}}},
			},
		},
		{
			name: "key with a tab is not a key",
			in:   "a\tb: 1\r\nEvent: B\r\n: no key\r\n\r\n",
			want: []step{{msg: Message{{"Event", "B"}}, err: ErrFrame, reason: "malformed key"}},
		},
		{
			name: "EOF inside a block",
			in:   "Event: A\r\nX: 1\r\n",
			want: []step{{msg: Message{{"Event", "A"}, {"X", "1"}}, err: io.ErrUnexpectedEOF}},
		},
		{
			name: "EOF inside the last line",
			in:   "Event: A\r\nX: 1",
			want: []step{{msg: Message{{"Event", "A"}, {"X", "1"}}, err: io.ErrUnexpectedEOF}},
		},
		{
			name: "duplicate keys are kept in order",
			in:   "Event: Newchannel\r\nChanVariable: A=1\r\nChanVariable: B=2\r\n\r\n",
			want: []step{{msg: Message{{"Event", "Newchannel"}, {"ChanVariable", "A=1"}, {"ChanVariable", "B=2"}}}},
		},
		{
			name: "spaces around the colon are tolerated",
			in:   "Event : A\r\nX:1\r\nY:   2\r\n\r\n",
			want: []step{{msg: Message{{"Event", "A"}, {"X", "1"}, {"Y", "2"}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.in))
			for i, w := range tt.want {
				m, err := r.ReadMessage()
				if !reflect.DeepEqual(m, w.msg) {
					t.Errorf("message %d = %q, want %q", i, m, w.msg)
				}
				if w.err == nil && err != nil || w.err != nil && !errors.Is(err, w.err) {
					t.Errorf("message %d: err = %v, want %v", i, err, w.err)
				}
				var fe *FrameError
				if w.reason != "" && (!errors.As(err, &fe) || fe.Reason != w.reason) {
					t.Errorf("message %d: err = %v, want FrameError %q", i, err, w.reason)
				}
			}
			if m, err := r.ReadMessage(); err != io.EOF {
				t.Errorf("after the last message: %q, %v; want io.EOF", m, err)
			}
			if r.Greeting() != tt.greeting {
				t.Errorf("Greeting() = %q, want %q", r.Greeting(), tt.greeting)
			}
		})
	}
}

func TestReadMessageLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("Event: Many\r\n")
	for i := 0; i < MaxFields+10; i++ {
		b.WriteString("K: v\r\n")
	}
	b.WriteString("\r\n")
	line := "V: " + strings.Repeat("x", MaxLineLength-3) + "\r\n"
	b.WriteString("Event: Big\r\n")
	for n := 0; n <= MaxBlockSize/len(line); n++ {
		b.WriteString(line)
	}
	b.WriteString("\r\nEvent: Next\r\n\r\n")

	r := NewReader(strings.NewReader(b.String()))
	var fe *FrameError
	m, err := r.ReadMessage()
	if len(m) != MaxFields || !errors.As(err, &fe) || fe.Reason != "too many fields" {
		t.Errorf("many fields: %d fields, %v", len(m), err)
	}
	m, err = r.ReadMessage()
	if m.EventName() != "Big" || !errors.As(err, &fe) || fe.Reason != "block too large" {
		t.Errorf("big block: %d fields, %v", len(m), err)
	}
	size := 0
	for _, f := range m {
		size += len(f.Key) + len(f.Value)
	}
	if size > MaxBlockSize {
		t.Errorf("big block kept %d bytes", size)
	}
	if m, err := r.ReadMessage(); err != nil || m.EventName() != "Next" {
		t.Errorf("after the limits: %q, %v", m, err)
	}
}

func TestMessageGet(t *testing.T) {
	m := Message{{"Event", "Newchannel"}, {"Uniqueid", "1.0"}, {"AccountCode", ""}, {"ChanVariable", "A=1"}, {"chanvariable", "B=2"}}
	tests := []struct {
		key    string
		want   string
		wantOK bool
		all    []string
	}{
		{"Uniqueid", "1.0", true, []string{"1.0"}},
		{"UNIQUEID", "1.0", true, []string{"1.0"}},
		{"UniqueID", "1.0", true, []string{"1.0"}},
		{"AccountCode", "", true, []string{""}},
		{"Linkedid", "", false, nil},
		{"ChanVariable", "A=1", true, []string{"A=1", "B=2"}},
		{"Uniqueid1", "", false, nil},
	}
	for _, tt := range tests {
		v, ok := m.Lookup(tt.key)
		if v != tt.want || ok != tt.wantOK {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.key, v, ok, tt.want, tt.wantOK)
		}
		if got := m.Get(tt.key); got != tt.want {
			t.Errorf("Get(%q) = %q, want %q", tt.key, got, tt.want)
		}
		if got := m.Has(tt.key); got != tt.wantOK {
			t.Errorf("Has(%q) = %v, want %v", tt.key, got, tt.wantOK)
		}
		if got := m.GetAll(tt.key); !reflect.DeepEqual(got, tt.all) {
			t.Errorf("GetAll(%q) = %q, want %q", tt.key, got, tt.all)
		}
	}
	if m.EventName() != "Newchannel" {
		t.Errorf("EventName() = %q", m.EventName())
	}
}

func TestWriteMessageRoundTrip(t *testing.T) {
	m := Message{{"Action", "UserEvent"}, {"UserEvent", "X"}, {"Foo", "1"}, {"Foo", "2"}, {"Empty", ""}, {"Colon", "a: b"}}
	s := m.String()
	if !strings.HasSuffix(s, "Colon: a: b\r\n\r\n") {
		t.Errorf("String() = %q", s)
	}
	got, err := NewReader(strings.NewReader(s)).ReadMessage()
	if err != nil || !reflect.DeepEqual(got, m) {
		t.Errorf("read back %q, %v; want %q", got, err, m)
	}
}

// The connection's reader takes lines longer than the buffer (up to MaxBlockSize),
// and still refuses longer ones without losing the stream.
func TestLongLineReader(t *testing.T) {
	long := strings.Repeat("x", 200<<10)
	huge := strings.Repeat("y", MaxBlockSize+10)
	in := "Event: Long\r\nData: " + long + "\r\n\r\n" +
		"Event: Huge\r\nData: " + huge + "\r\n\r\n" +
		"Event: After\r\n\r\n"
	r := newLongLineReader(strings.NewReader(in))
	m, err := r.ReadMessage()
	if err != nil || m.Get("Event") != "Long" || m.Get("Data") != long {
		t.Fatalf("long: %d fields, err %v", len(m), err)
	}
	m, err = r.ReadMessage()
	if !errors.Is(err, ErrFrame) || m.Get("Event") != "Huge" || m.Has("Data") {
		t.Fatalf("huge: %v, err %v", m, err)
	}
	m, err = r.ReadMessage()
	if err != nil || m.Get("Event") != "After" {
		t.Fatalf("after: %v, err %v", m, err)
	}
	// The plain Reader keeps its 64 KiB bound.
	m, err = NewReader(strings.NewReader(in)).ReadMessage()
	if !errors.Is(err, ErrFrame) || m.Has("Data") {
		t.Fatalf("plain reader: %v, err %v", m, err)
	}
}

package ami

import (
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"1795704908.389075", time.Unix(1795704908, 389075000).UTC(), true},
		{"1795704908.000001", time.Unix(1795704908, 1000).UTC(), true},
		{"1795704908", time.Unix(1795704908, 0).UTC(), true},
		{"1795704908.5", time.Unix(1795704908, 500000000).UTC(), true},
		{"1795704908.123456789", time.Unix(1795704908, 123456789).UTC(), true},
		{"1795704908.1234567891", time.Time{}, false},
		{"", time.Time{}, false},
		{".5", time.Time{}, false},
		{"-1.5", time.Time{}, false},
		{"17957 04908.1", time.Time{}, false},
		{"1795704908.", time.Unix(1795704908, 0).UTC(), true},
		{"1795704908.x", time.Time{}, false},
		{"9999999999999999999.1", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseTimestamp(tt.in)
		if ok != tt.ok || !got.Equal(tt.want) || ok && got.Location() != time.UTC {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestUniqueid(t *testing.T) {
	tests := []struct {
		in   string
		want Uniqueid
		ok   bool
	}{
		{"1795704908.0", Uniqueid{Epoch: 1795704908}, true},
		{"1795704949.10", Uniqueid{Epoch: 1795704949, Counter: 10}, true},
		{"195176c06ab8-1529936170.42", Uniqueid{System: "195176c06ab8", Epoch: 1529936170, Counter: 42}, true},
		{"pbx-eu-1-1529936170.42", Uniqueid{System: "pbx-eu-1", Epoch: 1529936170, Counter: 42}, true},
		{"my-own-channel-id", Uniqueid{}, false},
		{"1529936170", Uniqueid{}, false},
		{"1529936170.", Uniqueid{}, false},
		{"1529936170.+1", Uniqueid{}, false},
		{"", Uniqueid{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseUniqueid(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseUniqueid(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		tm, ok := UniqueidTime(tt.in)
		if ok != tt.ok || ok && !tm.Equal(time.Unix(tt.want.Epoch, 0)) {
			t.Errorf("UniqueidTime(%q) = %v, %v", tt.in, tm, ok)
		}
	}
}

func TestStamp(t *testing.T) {
	recv := time.Date(2026, 11, 26, 10, 0, 0, 0, time.FixedZone("X", 3600))
	e := NewEvent(7, recv, Message{{"Event", "Newstate"}, {"Timestamp", "1795704910.5"}})
	if e.Seq != 7 || e.Name != "Newstate" || !e.Stamped || !e.Time.Equal(time.Unix(1795704910, 5e8)) || !e.Received.Equal(recv) || e.Received.Location() != time.UTC {
		t.Errorf("stamped: %+v", e)
	}
	e = NewEvent(8, recv, Message{{"Event", "FullyBooted"}})
	if e.Stamped || !e.Time.Equal(recv) {
		t.Errorf("unstamped: %+v", e)
	}
}

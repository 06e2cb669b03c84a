package ami

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// labStream is every lab capture concatenated: 1.6 MB, 3 942 blocks (3 687 events) of a real
// Asterisk 20 stream (events, responses and list items).
func labStream(b *testing.B) []byte {
	b.Helper()
	files, err := filepath.Glob("testdata/captures/lab/*.ami")
	if err != nil || len(files) == 0 {
		b.Fatalf("lab captures: %v", err)
	}
	var all []byte
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, raw...)
	}
	return all
}

// BenchmarkReadMessage measures frame reading, bytes to Messages. events/s
// counts only Event blocks (3 687 of 3 942), so it compares directly
// with BenchmarkDecode; the time includes reading the responses too.
func BenchmarkReadMessage(b *testing.B) {
	data := labStream(b)
	events, err := ReadCapture(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var iters int
	for b.Loop() {
		r := NewReader(bytes.NewReader(data))
		for {
			_, err := r.ReadMessage()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		iters++
	}
	b.ReportMetric(float64(iters*len(events))/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDecode measures typed decoding of already framed events.
func BenchmarkDecode(b *testing.B) {
	events, err := ReadCapture(bytes.NewReader(labStream(b)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var n int
	for b.Loop() {
		for i := range events {
			if _, err := Decode(&events[i]); err != nil {
				b.Fatal(err)
			}
		}
		n += len(events)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

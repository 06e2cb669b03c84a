package ami

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
)

// seedBlocks returns one raw block per distinct event name found in the
// captures, plus the first blocks of each file (greeting, responses).
func seedBlocks(f *testing.F) (blocks, heads [][]byte) {
	seen := map[string]bool{}
	for _, path := range captureFiles(f) {
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		norm := bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
		parts := bytes.Split(norm, []byte("\n\n"))
		head := bytes.Join(parts[:min(len(parts), 6)], []byte("\r\n\r\n"))
		heads = append(heads, head)
		for _, p := range parts {
			name, _, _ := bytes.Cut(p, []byte("\n"))
			if !seen[string(name)] {
				seen[string(name)] = true
				blocks = append(blocks, append(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n")), "\r\n\r\n"...))
			}
		}
	}
	return blocks, heads
}

// FuzzReader: the reader must never panic or loop, every field it returns must
// be a well-formed header, and a message written back with WriteMessage must
// read back unchanged.
func FuzzReader(f *testing.F) {
	blocks, heads := seedBlocks(f)
	for _, b := range append(heads, blocks...) {
		f.Add(b)
	}
	f.Add([]byte("Response: Follows\r\nPrivilege: Command\r\nout\r\n--END COMMAND--\r\n\r\n"))
	f.Add([]byte("Asterisk Call Manager/9.0.0\r\nx\r\n\r\n: v\r\nk:\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		for calls := 0; ; calls++ {
			if calls > len(data)+1 {
				t.Fatalf("ReadMessage does not make progress")
			}
			m, err := r.ReadMessage()
			if err == io.EOF {
				if m != nil {
					t.Fatalf("io.EOF with a message %q", m)
				}
				return
			}
			if err != nil && !errors.Is(err, ErrFrame) && err != io.ErrUnexpectedEOF {
				t.Fatalf("unexpected error %v", err)
			}
			for _, fl := range m {
				if fl.Key == "" || strings.ContainsAny(fl.Key, ":\n") || strings.Contains(fl.Value, "\n") {
					t.Fatalf("malformed field %q", fl)
				}
			}
			// Old-style command output has no wire form that WriteMessage produces.
			if err != nil || len(m) == 0 || equalFoldASCII(m[0].Key, "Response") && m[0].Value == "Follows" {
				continue
			}
			var w bytes.Buffer
			if err := WriteMessage(&w, m); err != nil {
				t.Fatal(err)
			}
			if w.Len() > MaxLineLength {
				continue
			}
			back, err := NewReader(&w).ReadMessage()
			if err != nil || !reflect.DeepEqual(back, m) {
				t.Fatalf("round trip: %q -> %q (%v)", m, back, err)
			}
		}
	})
}

// FuzzDecode: decoding must never panic, and typed fields plus Extra must hold
// exactly the received fields.
func FuzzDecode(f *testing.F) {
	blocks, _ := seedBlocks(f)
	for _, b := range blocks {
		f.Add(b)
	}
	f.Add([]byte("event: HANGUP\r\nUNIQUEID: 1\r\nuniqueid: 2\r\nChanVariable: a\r\nchanvariable: b\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		for calls := 0; calls <= len(data)+1; calls++ {
			m, err := r.ReadMessage()
			if err == io.EOF {
				return
			}
			if len(m) == 0 {
				continue
			}
			te, err := DecodeMessage(m)
			if err != nil {
				if !errors.Is(err, ErrNotEvent) || m.Get("Event") != "" {
					t.Fatalf("DecodeMessage(%q): %v", m, err)
				}
				continue
			}
			if !strings.EqualFold(te.EventHeader().Event, m.Get("Event")) {
				t.Fatalf("Event %q decoded as %q", m.Get("Event"), te.EventHeader().Event)
			}
			if a, b := fieldBag(te.AppendFields(nil)), fieldBag(m); !reflect.DeepEqual(a, b) {
				t.Fatalf("fields lost or invented:\n got  %q\n want %q", a, b)
			}
		}
	})
}

package ami

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxLineLength bounds one header line. Asterisk itself refuses inbound lines over
// 1 KiB, but outbound values (long dialplan data, CEL extras) can be longer; 64 KiB
// keeps a broken peer from growing our buffers without bound.
const MaxLineLength = 64 << 10

// MaxFields bounds the lines of one block for the same reason (Asterisk: 128 inbound).
const MaxFields = 4096

// MaxBlockSize bounds the bytes of one block, so that MaxFields long lines can
// not make one message take MaxFields*MaxLineLength of memory. Old-style command
// output is the largest legitimate block; 4 MiB holds tens of thousands of lines.
const MaxBlockSize = 4 << 20

// ErrFrame marks a malformed block. The reader skips it and can go on reading.
var ErrFrame = errors.New("ami: malformed frame")

// FrameError describes a block that could not be parsed. The bytes are kept so the
// caller can journal or log what was received: bad input loses nothing.
type FrameError struct {
	Line   int    // 1-based line number in the stream where the problem was seen
	Reason string // what was wrong
	Raw    string // the offending line (truncated to 256 bytes)
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("ami: malformed frame at line %d: %s: %q", e.Line, e.Reason, e.Raw)
}

func (e *FrameError) Unwrap() error { return ErrFrame }

// Reader reads AMI blocks from a stream: a server socket, a client socket, or a
// capture file. Line ends may be CRLF or LF. A greeting line ("Asterisk Call
// Manager/9.0.0") is returned by Greeting, not as a message. Old-style command
// output (Response: Follows ... --END COMMAND--) is folded into Output fields.
type Reader struct {
	r        *bufio.Reader
	line     int
	greeting string
	// The block being read: its lines' bytes, and per field the spans of key and
	// value in blk. One string conversion per block (not per line) is most of
	// what makes ReadMessage cheap.
	blk   []byte
	spans []span
	// maxLine is the longest line accepted (MaxLineLength unless set by
	// newLongLineReader); lines longer than the buffer are gathered in long.
	maxLine int
	long    []byte
}

// span locates a field in Reader.blk; key < 0 means the key "Output" (old-style
// command output lines, which have no key on the wire).
type span struct{ key, keyEnd, val, valEnd int }

// NewReader returns a Reader over r.
func NewReader(r io.Reader) *Reader {
	// +2 so that a line of exactly MaxLineLength bytes fits with its CRLF.
	return &Reader{r: bufio.NewReaderSize(r, MaxLineLength+2), maxLine: MaxLineLength}
}

// newLongLineReader is NewReader for a live connection: it accepts lines up to
// MaxBlockSize (Asterisk's own outbound values are not bounded; amigo, which read
// the stream before, took any length), gathering those longer than the buffer.
func newLongLineReader(r io.Reader) *Reader {
	rd := NewReader(r)
	rd.maxLine = MaxBlockSize
	return rd
}

// Greeting returns the last greeting line seen ("" if none).
func (r *Reader) Greeting() string { return r.greeting }

// Line returns the number of lines read so far.
func (r *Reader) Line() int { return r.line }

// readLine returns one line without its line end, valid until the next read.
// Over-long lines are consumed whole and reported as a *FrameError.
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.r.ReadSlice('\n')
	switch {
	case err == nil:
	case err == bufio.ErrBufferFull:
		raw := string(line[:256])
		if r.maxLine > MaxLineLength {
			r.long = append(r.long[:0], line...)
			for err == bufio.ErrBufferFull && len(r.long) <= r.maxLine+2 {
				line, err = r.r.ReadSlice('\n')
				r.long = append(r.long, line...)
			}
			if err == nil && len(r.long) <= r.maxLine+2 {
				line = r.long
				if cap(r.long) > 256<<10 {
					r.long = nil // the line is copied into blk before the next read
				}
				break
			}
		}
		for err == bufio.ErrBufferFull {
			_, err = r.r.ReadSlice('\n')
		}
		r.line++
		if err != nil && err != io.EOF {
			return nil, err
		}
		return nil, &FrameError{Line: r.line, Reason: "line too long", Raw: raw}
	case err == io.EOF && len(line) > 0:
		// The last line of a stream that does not end in a line end.
	default:
		return nil, err
	}
	r.line++
	n := len(line)
	if n > 0 && line[n-1] == '\n' {
		n--
		if n > 0 && line[n-1] == '\r' {
			n--
		}
	}
	return line[:n], nil
}

// ReadMessage returns the next block. On a malformed block it returns the fields it
// could read together with a *FrameError; the stream stays usable. A block made
// only of bad lines gives a nil message and the *FrameError. io.EOF means the
// stream ended on a block boundary; io.ErrUnexpectedEOF means it ended inside one.
func (r *Reader) ReadMessage() (Message, error) {
	r.blk = r.blk[:0]
	r.spans = r.spans[:0]
	var frameErr error
	follows := false
	for {
		line, err := r.readLine()
		if err != nil {
			var fe *FrameError
			if errors.As(err, &fe) {
				if frameErr == nil {
					frameErr = fe
				}
				continue
			}
			if err == io.EOF {
				if len(r.spans) > 0 {
					return r.message(), io.ErrUnexpectedEOF
				}
				if frameErr != nil {
					return nil, frameErr
				}
				return nil, io.EOF
			}
			return r.message(), err
		}
		if follows {
			// Asterisk 13 and older: raw CLI output until --END COMMAND--, which
			// 1.4-1.8 sometimes glue to the last output line.
			if out, ok := bytes.CutSuffix(line, []byte("--END COMMAND--")); ok {
				follows = false
				if len(out) > 0 {
					r.addOutput(out)
				}
				continue
			}
			if len(r.spans) >= MaxFields || len(r.blk)+len(line) > MaxBlockSize {
				if frameErr == nil {
					frameErr = &FrameError{Line: r.line, Reason: "command output too large", Raw: truncate(line)}
				}
				continue
			}
			if k, ks, v, ok := splitField(line); ok && (equalFoldASCII(string(line[k:ks]), "ActionID") || equalFoldASCII(string(line[k:ks]), "Privilege")) {
				r.add(line, k, ks, v)
				continue
			}
			r.addOutput(line)
			continue
		}
		if len(line) == 0 {
			if len(r.spans) == 0 {
				if frameErr != nil {
					return nil, frameErr // do not pin this error on the next good block
				}
				continue // blank lines between blocks
			}
			return r.message(), frameErr
		}
		k, ks, v, ok := splitField(line)
		if !ok {
			if len(r.spans) == 0 && bytes.HasPrefix(line, []byte("Asterisk Call Manager/")) {
				r.greeting = string(line)
				continue
			}
			if frameErr == nil {
				reason := "line without a colon"
				if bytes.IndexByte(line, ':') >= 0 {
					reason = "malformed key"
				}
				frameErr = &FrameError{Line: r.line, Reason: reason, Raw: truncate(line)}
			}
			continue
		}
		if len(r.spans) >= MaxFields || len(r.blk)+len(line) > MaxBlockSize {
			if frameErr == nil {
				reason := "too many fields"
				if len(r.spans) < MaxFields {
					reason = "block too large"
				}
				frameErr = &FrameError{Line: r.line, Reason: reason, Raw: truncate(line)}
			}
			continue
		}
		r.add(line, k, ks, v)
		if len(r.spans) == 1 && equalFoldASCII(string(line[k:ks]), "Response") && string(line[v:]) == "Follows" {
			follows = true
		}
	}
}

func (r *Reader) add(line []byte, k, ks, v int) {
	base := len(r.blk)
	r.blk = append(r.blk, line...)
	r.spans = append(r.spans, span{base + k, base + ks, base + v, len(r.blk)})
}

func (r *Reader) addOutput(line []byte) {
	base := len(r.blk)
	r.blk = append(r.blk, line...)
	r.spans = append(r.spans, span{-1, -1, base, len(r.blk)})
}

// message builds the Message from the block read so far, with one string for
// all its bytes.
func (r *Reader) message() Message {
	if len(r.spans) == 0 {
		return nil
	}
	s := string(r.blk)
	m := make(Message, len(r.spans))
	for i, sp := range r.spans {
		if sp.key < 0 {
			m[i] = Field{"Output", s[sp.val:sp.valEnd]}
			continue
		}
		m[i] = Field{s[sp.key:sp.keyEnd], s[sp.val:sp.valEnd]}
	}
	if cap(r.blk) > 256<<10 {
		r.blk, r.spans = nil, nil // do not keep one huge block's buffers for the life of the connection
	}
	return m
}

// splitField splits "Key: Value" on the first colon and returns the offsets of
// the key [k:ks] and of the value [v:]. Asterisk writes exactly one space after
// the colon; tolerate none or several when reading, as Asterisk does.
func splitField(line []byte) (k, ks, v int, ok bool) {
	// One pass to the colon, noting blanks: keys are short and this runs for
	// every line, so it beats IndexByte followed by ContainsAny.
	i, blank := 0, false
	for ; i < len(line) && line[i] != ':'; i++ {
		if line[i] == ' ' || line[i] == '\t' {
			blank = true
		}
	}
	if i == 0 || i == len(line) {
		return 0, 0, 0, false
	}
	ks = i
	if blank {
		for ks > 0 && (line[ks-1] == ' ' || line[ks-1] == '\t') {
			ks--
		}
		if ks == 0 || bytes.ContainsAny(line[:ks], " \t") && !isSpacedKey(line[:ks]) {
			return 0, 0, 0, false
		}
	}
	v = i + 1
	for v < len(line) && (line[v] == ' ' || line[v] == '\t') {
		v++
	}
	return 0, ks, v, true
}

// isSpacedKey accepts the few real keys that contain spaces: none in 12+, but
// chan_sip-era events and Command output lines sometimes carry them.
func isSpacedKey(key []byte) bool { return bytes.IndexByte(key, '\t') < 0 && len(key) < 64 }

func truncate(b []byte) string {
	if len(b) > 256 {
		b = b[:256]
	}
	return string(b)
}

// WriteMessage writes m in wire form (CRLF line ends and a closing blank line).
func WriteMessage(w io.Writer, m Message) error {
	var b bytes.Buffer
	for _, f := range m {
		b.WriteString(f.Key)
		b.WriteString(": ")
		b.WriteString(f.Value)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	_, err := w.Write(b.Bytes())
	return err
}

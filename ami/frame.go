package ami

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxLineLength bounds one header line. Asterisk itself refuses inbound lines over
// 1 KiB, but outbound values (long dialplan data, CEL extras) can be longer; 64 KiB
// keeps a broken peer from growing our buffers without bound.
const MaxLineLength = 64 << 10

// MaxFields bounds the lines of one block for the same reason (Asterisk: 128 inbound).
const MaxFields = 4096

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
}

// NewReader returns a Reader over r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Greeting returns the last greeting line seen ("" if none).
func (r *Reader) Greeting() string { return r.greeting }

// Line returns the number of lines read so far.
func (r *Reader) Line() int { return r.line }

// readLine returns one line without its line end. Over-long lines are consumed
// whole and reported as a FrameError.
func (r *Reader) readLine() (string, error) {
	var buf []byte
	tooLong := false
	for {
		chunk, isPrefix, err := r.r.ReadLine()
		if err != nil {
			if err == io.EOF && len(buf) > 0 {
				break
			}
			return "", err
		}
		if !tooLong {
			if len(buf)+len(chunk) > MaxLineLength {
				tooLong = true
				buf = append(buf, chunk[:min(len(chunk), 256)]...)
			} else {
				buf = append(buf, chunk...)
			}
		}
		if !isPrefix {
			break
		}
	}
	r.line++
	if tooLong {
		return "", &FrameError{Line: r.line, Reason: "line too long", Raw: string(buf[:min(len(buf), 256)])}
	}
	return string(buf), nil
}

// ReadMessage returns the next block. On a malformed block it returns the fields it
// could read together with a *FrameError; the stream stays usable. io.EOF means the
// stream ended on a block boundary; io.ErrUnexpectedEOF means it ended inside one.
func (r *Reader) ReadMessage() (Message, error) {
	var msg Message
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
				if len(msg) > 0 {
					return msg, io.ErrUnexpectedEOF
				}
				return nil, io.EOF
			}
			return msg, err
		}
		if follows {
			// Asterisk 13 and older: raw CLI output until --END COMMAND--.
			if line == "--END COMMAND--" {
				follows = false
				continue
			}
			if k, v, ok := splitField(line); ok && (strings.EqualFold(k, "ActionID") || strings.EqualFold(k, "Privilege")) {
				msg = append(msg, Field{k, v})
				continue
			}
			msg = append(msg, Field{"Output", line})
			continue
		}
		if line == "" {
			if len(msg) == 0 {
				continue // blank lines between blocks
			}
			return msg, frameErr
		}
		k, v, ok := splitField(line)
		if !ok {
			if len(msg) == 0 && strings.HasPrefix(line, "Asterisk Call Manager/") {
				r.greeting = line
				continue
			}
			if frameErr == nil {
				frameErr = &FrameError{Line: r.line, Reason: "line without a colon", Raw: truncate(line)}
			}
			continue
		}
		if len(msg) >= MaxFields {
			if frameErr == nil {
				frameErr = &FrameError{Line: r.line, Reason: "too many fields", Raw: truncate(line)}
			}
			continue
		}
		msg = append(msg, Field{k, v})
		if len(msg) == 1 && strings.EqualFold(k, "Response") && v == "Follows" {
			follows = true
		}
	}
}

// splitField splits "Key: Value" on the first colon. Asterisk writes exactly one
// space after the colon; tolerate none or several when reading, as Asterisk does.
func splitField(line string) (key, value string, ok bool) {
	i := strings.IndexByte(line, ':')
	if i <= 0 {
		return "", "", false
	}
	key = strings.TrimRight(line[:i], " \t")
	if key == "" || strings.ContainsAny(key, " \t") && !isSpacedKey(key) {
		return "", "", false
	}
	value = strings.TrimLeft(line[i+1:], " \t")
	return key, value, true
}

// isSpacedKey accepts the few real keys that contain spaces: none in 12+, but
// chan_sip-era events and Command output lines sometimes carry them.
func isSpacedKey(key string) bool { return !strings.ContainsAny(key, "\t") && len(key) < 64 }

func truncate(s string) string {
	if len(s) > 256 {
		return s[:256]
	}
	return s
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

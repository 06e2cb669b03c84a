package collector

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"

	"github.com/linkage/linkage/ami"
)

// A journal block is one row of ami_journal_blocks: the events of one write batch of
// one server, in seq order, as text close to the wire, then compressed by its codec.
//
// The uncompressed text is a sequence of frames, one per event:
//
//	<seq> <received> <time> <stamped> <len>[ <name>]\n
//	<len bytes: the event's "Key: Value" lines, each ended by LF, in wire order>
//	\n
//
// received and time are Unix nanoseconds ("-" for a zero time), stamped is 1 when
// time came from Asterisk's Timestamp header, len is the byte length of the field
// lines. name is only written when it differs from the Event field (it never does for
// what ami.Conn delivers; the migrated one-row-per-event journal always has it).
// The length prefix makes the framing independent of the content: a frame whose
// bytes are not valid UTF-8, hold a NUL or odd keys is stored and read back as is
// (PostgreSQL text refused such a row, and the old COPY would have retried it for
// ever). Inside a frame, as before, a field ends at LF and the first ": " ends its
// key: amigo splits lines at LF and keys at the first colon, so this is lossless for
// anything a Conn delivers.
//
// `convert_from(data, 'UTF8')` shows a raw block in psql like a capture file.

// Codecs of ami_journal_blocks.codec.
const (
	codecRaw  = "raw"
	codecGzip = "gzip"
	codecZstd = "zstd"
	codecS2   = "s2"
)

// journalCodec is how the collector compresses new blocks; the reader understands all
// four. S2 (klauspost/compress, a Snappy extension): 9x smaller than the text at
// 1.8 GB/s, three times zstd's fastest level speed for half again its size (49
// against 32 bytes per event: ~0.7 against ~0.45 GB a day at 150,000 calls). The
// collector's CPU is what limits ingestion on two cores, so speed wins; zstd is one
// constant away. Raw blocks cost PostgreSQL more than S2 costs us (bytea in hex
// through lib/pq, then TOAST compression). Figures in BENCHMARKS-collector.md.
var journalCodec = codecS2

// block is a journal block ready to store.
type block struct {
	first, last        uint64
	events             int
	recvFrom, recvTo   time.Time
	eventFrom, eventTo time.Time
	codec              string
	data               []byte
	rawBytes           int
}

// blockEncoder renders and compresses blocks, reusing its buffers. One per writer.
type blockEncoder struct {
	raw []byte
	out []byte
	gz  *gzip.Writer
	buf bytes.Buffer
}

// eventTime is the time a journal block is indexed by: Asterisk's stamp, else when it
// was received.
func eventTime(e *ami.Event) time.Time {
	if e.Time.IsZero() {
		return e.Received
	}
	return e.Time
}

// encode renders evs (at least one, in seq order) as a block compressed with codec.
// The returned data is valid until the next call.
func (be *blockEncoder) encode(evs []ami.Event, codec string) (block, error) {
	b := block{first: evs[0].Seq, last: evs[len(evs)-1].Seq, events: len(evs), codec: codec}
	raw := be.raw[:0]
	for i := range evs {
		e := &evs[i]
		raw = appendFrame(raw, e)
		r, t := e.Received, eventTime(e)
		if i == 0 || r.Before(b.recvFrom) {
			b.recvFrom = r
		}
		if i == 0 || r.After(b.recvTo) {
			b.recvTo = r
		}
		if i == 0 || t.Before(b.eventFrom) {
			b.eventFrom = t
		}
		if i == 0 || t.After(b.eventTo) {
			b.eventTo = t
		}
	}
	be.raw = raw
	b.rawBytes = len(raw)
	switch codec {
	case codecRaw:
		b.data = raw
	case codecZstd:
		be.out = zstdEncoder().EncodeAll(raw, be.out[:0])
		b.data = be.out
	case codecS2:
		if n := s2.MaxEncodedLen(len(raw)); cap(be.out) < n {
			be.out = make([]byte, n)
		}
		be.out = s2.Encode(be.out[:cap(be.out)], raw)
		b.data = be.out
	case codecGzip:
		be.buf.Reset()
		if be.gz == nil {
			be.gz, _ = gzip.NewWriterLevel(&be.buf, gzip.BestSpeed) // the level is valid
		} else {
			be.gz.Reset(&be.buf)
		}
		if _, err := be.gz.Write(raw); err != nil {
			return b, fmt.Errorf("collector: gzip block: %w", err)
		}
		if err := be.gz.Close(); err != nil {
			return b, fmt.Errorf("collector: gzip block: %w", err)
		}
		b.data = be.buf.Bytes()
	default:
		return b, fmt.Errorf("collector: unknown journal codec %q", codec)
	}
	return b, nil
}

// appendFrame renders one event as a block frame.
func appendFrame(b []byte, e *ami.Event) []byte {
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, ' ')
	b = appendNanos(b, e.Received)
	b = append(b, ' ')
	b = appendNanos(b, eventTime(e))
	if e.Stamped {
		b = append(b, " 1 "...)
	} else {
		b = append(b, " 0 "...)
	}
	n := 0
	for _, f := range e.Fields {
		n += len(f.Key) + len(f.Value) + 3
	}
	b = strconv.AppendInt(b, int64(n), 10)
	if e.Name != e.Fields.Get("Event") {
		b = append(b, ' ')
		// The name ends the header line; a line break in it (nothing delivers one)
		// would break the frame, so it is replaced.
		b = append(b, strings.ReplaceAll(e.Name, "\n", " ")...)
	}
	b = append(b, '\n')
	b = appendFields(b, e.Fields)
	return append(b, '\n')
}

func appendNanos(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, '-')
	}
	return strconv.AppendInt(b, t.UnixNano(), 10)
}

// appendFields renders fields as "Key: Value" lines, each ended by LF, in wire order.
func appendFields(b []byte, m ami.Message) []byte {
	for _, f := range m {
		b = append(b, f.Key...)
		b = append(b, ": "...)
		b = append(b, f.Value...)
		b = append(b, '\n')
	}
	return b
}

// fieldsOf parses field lines back into a message (the first ": " separates).
func fieldsOf(s string) ami.Message {
	m := make(ami.Message, 0, strings.Count(s, "\n"))
	for len(s) > 0 {
		line, rest, _ := strings.Cut(s, "\n")
		s = rest
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			k, v = strings.TrimSuffix(line, ":"), ""
		}
		m = append(m, ami.Field{Key: k, Value: v})
	}
	return m
}

var (
	zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
		// Concurrency 1: EncodeAll runs on the caller's goroutine and the encoder
		// starts none of its own, so nothing needs closing. EncodeAll is safe for
		// concurrent use by the writers of several servers.
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
			zstd.WithLowerEncoderMem(true))
		if err != nil {
			panic(err) // constant, valid options
		}
		return e
	})
	zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
		// Concurrency 1: DecodeAll only, no background goroutines.
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			panic(err) // constant, valid options
		}
		return d
	})
)

// decompress returns the uncompressed text of a block's data.
func decompress(codec string, data []byte) ([]byte, error) {
	switch codec {
	case codecRaw:
		return data, nil
	case codecZstd:
		out, err := zstdDecoder().DecodeAll(data, nil)
		if err != nil {
			return nil, fmt.Errorf("collector: zstd block: %w", err)
		}
		return out, nil
	case codecS2:
		out, err := s2.Decode(nil, data)
		if err != nil {
			return nil, fmt.Errorf("collector: s2 block: %w", err)
		}
		return out, nil
	case codecGzip:
		r, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("collector: gzip block: %w", err)
		}
		out, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("collector: gzip block: %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("collector: unknown journal codec %q", codec)
}

var errFrame = errors.New("collector: corrupt journal block")

// decodeBlock calls fn for each event of an uncompressed block, in order, until fn
// returns false; it reports whether fn always returned true. The events' strings
// share one copy of text, made once per block.
func decodeBlock(text []byte, fn func(*ami.Event) bool) (bool, error) {
	s := string(text)
	for len(s) > 0 {
		head, rest, ok := strings.Cut(s, "\n")
		if !ok {
			return false, fmt.Errorf("%w: unterminated header %.80q", errFrame, head)
		}
		var e ami.Event
		var tok [5]string
		name, hasName := "", false
		for i := range tok {
			sp := strings.IndexByte(head, ' ')
			if sp < 0 {
				if i < 4 {
					return false, fmt.Errorf("%w: header %.80q", errFrame, head)
				}
				tok[i], head = head, ""
				break
			}
			tok[i], head = head[:sp], head[sp+1:]
			if i == 4 {
				name, hasName = head, true
			}
		}
		seq, err1 := strconv.ParseUint(tok[0], 10, 64)
		recv, err2 := parseNanos(tok[1])
		at, err3 := parseNanos(tok[2])
		n, err4 := strconv.Atoi(tok[4])
		if err := errors.Join(err1, err2, err3, err4); err != nil || n < 0 || n+1 > len(rest) || rest[n] != '\n' {
			return false, fmt.Errorf("%w: frame of seq %s: %v", errFrame, tok[0], err)
		}
		e.Seq, e.Received, e.Time, e.Stamped = seq, recv, at, tok[3] == "1"
		e.Fields = fieldsOf(rest[:n])
		if hasName {
			e.Name = name
		} else {
			e.Name = e.Fields.Get("Event")
		}
		s = rest[n+1:]
		if !fn(&e) {
			return false, nil
		}
	}
	return true, nil
}

func parseNanos(s string) (time.Time, error) {
	if s == "-" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, n).UTC(), nil
}

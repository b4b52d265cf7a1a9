package registry

import (
	"bufio"
	"bytes"
	"io"
)

// recordReader splits RFC 4180 CSV (comma separator, '"' quotes, "" for a quote
// inside a quoted field, CRLF or LF line ends) into records, with memory bounded
// by maxBytes and maxFields however long a line or record is. It knows nothing
// about columns; Reader builds on it.
//
// A malformed record (a stray quote, a character after a closing quote, a
// record over the limits, a quoted field still open at the end of the input) is
// consumed up to the end of its line and reported as a problem, so reading goes
// on with the next record. Blank lines are skipped. A UTF-8 byte order mark at
// the start of the input is skipped.
type recordReader struct {
	br        *bufio.Reader
	line      int    // number of the line the next byte belongs to
	buf       []byte // the record's field contents, back to back
	ends      []int  // end offset in buf of each field
	maxBytes  int
	maxFields int
	started   bool // the first chunk has been read (byte order mark handled)
}

// The states of the record parser.
const (
	stFieldStart = iota // at the start of a field
	stUnquoted          // inside an unquoted field
	stQuoted            // inside a quoted field
	stQuoteSeen         // a '"' inside a quoted field: closing, or the first of ""
	stSkip              // after a problem: ignore the rest of the line
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func newRecordReader(r io.Reader, maxBytes, maxFields int) *recordReader {
	return &recordReader{
		br:        bufio.NewReaderSize(r, 64<<10),
		line:      1,
		buf:       make([]byte, 0, 1024),
		ends:      make([]int, 0, maxFields),
		maxBytes:  maxBytes,
		maxFields: maxFields,
	}
}

// next reads the next record into r.buf and r.ends and returns the line it
// starts on. problem is non-empty if the record is malformed. err is io.EOF
// after the last record, or a read error.
func (r *recordReader) next() (start int, problem string, err error) {
	r.buf = r.buf[:0]
	r.ends = r.ends[:0]
	state := stFieldStart
	inRecord := false
	tooLong, tooMany := false, false
	put := func(c byte) {
		if len(r.buf) < r.maxBytes {
			r.buf = append(r.buf, c)
		} else {
			tooLong = true
		}
	}
	endField := func() {
		if len(r.ends) < r.maxFields {
			r.ends = append(r.ends, len(r.buf))
		} else {
			tooMany = true
		}
	}
	finish := func() (int, string, error) {
		switch {
		case problem != "":
		case tooLong:
			problem = "record too long"
		case tooMany:
			problem = "too many columns"
		}
		return start, problem, nil
	}
	for {
		chunk, rerr := r.br.ReadSlice('\n')
		if rerr != nil && rerr != bufio.ErrBufferFull && rerr != io.EOF {
			return 0, "", rerr
		}
		if !r.started {
			r.started = true
			chunk = bytes.TrimPrefix(chunk, utf8BOM)
		}
		body, nl := chunk, false
		if n := len(body); n > 0 && body[n-1] == '\n' {
			nl = true
			body = body[:n-1]
		}
		if n := len(body); n > 0 && body[n-1] == '\r' && (nl || rerr == io.EOF) {
			body = body[:n-1]
		}
		if len(body) > 0 && !inRecord {
			inRecord = true
			start = r.line
		}
		for _, c := range body {
			switch state {
			case stFieldStart:
				switch c {
				case '"':
					state = stQuoted
				case ',':
					endField()
				default:
					put(c)
					state = stUnquoted
				}
			case stUnquoted:
				switch c {
				case ',':
					endField()
					state = stFieldStart
				case '"':
					problem = "stray quote in an unquoted field"
					state = stSkip
				default:
					put(c)
				}
			case stQuoted:
				if c == '"' {
					state = stQuoteSeen
				} else {
					put(c)
				}
			case stQuoteSeen:
				switch c {
				case '"':
					put('"')
					state = stQuoted
				case ',':
					endField()
					state = stFieldStart
				default:
					problem = "unexpected character after a closing quote"
					state = stSkip
				}
			}
		}
		if nl {
			r.line++
			switch {
			case !inRecord:
				continue // blank line
			case state == stQuoted:
				put('\n')
				continue
			case state != stSkip:
				endField()
			}
			return finish()
		}
		if rerr == io.EOF {
			switch {
			case !inRecord:
				return 0, "", io.EOF
			case state == stQuoted:
				problem = "quoted field not closed at the end of the file"
			case state != stSkip:
				endField()
			}
			return finish()
		}
	}
}

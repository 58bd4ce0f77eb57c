package lists

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// csvFile reads one CSV file strictly and names the file and line in its
// errors. Quoting is RFC 4180 without lazy quotes: a stray quote is an
// error, and so is a quoted field that the end of the file cuts (with lazy
// quotes, encoding/csv returns such a field as if it were whole, and the
// rows after the cut silently vanish).
type csvFile struct {
	name string
	size *sizedReader
	cr   *csv.Reader
	rec  []string // the current record
	line int      // the line the current record starts on
	// cols names the fields, for errors: "field 2 (name)".
	cols []string
}

func newCSVFile(f File, maxSize int64) *csvFile {
	size := &sizedReader{r: f.Body, limit: maxSize}
	cr := csv.NewReader(size)
	cr.FieldsPerRecord = -1 // checked by the caller, with a better message
	return &csvFile{name: f.Name, size: size, cr: cr}
}

// next reads the next record into c.rec; it returns false at the end of
// the file.
func (c *csvFile) next() (bool, error) {
	rec, err := c.cr.Read()
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, c.readError(err)
	}
	c.line, _ = c.cr.FieldPos(0)
	if c.line == 1 && len(rec) > 0 {
		rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
	}
	c.rec = rec
	return true, nil
}

func (c *csvFile) readError(err error) error {
	if isFileTooLarge(err) {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	at := fmt.Sprintf("%s line %d", c.name, pe.Line)
	if pe.StartLine != pe.Line {
		at += fmt.Sprintf(" (in the row that starts on line %d)", pe.StartLine)
	}
	// In strict quoting every quote is half of a pair (a field's two,
	// or an escaped ""), so an odd count at the end of the file means a
	// quoted field the end of the file cut.
	if errors.Is(pe.Err, csv.ErrQuote) && c.size.eof && c.size.quotes%2 == 1 && pe.Line >= c.size.lastLine() {
		return fmt.Errorf("%s: a quoted field is not closed before the end of the file: the file is cut short", at)
	}
	return fmt.Errorf("%s, column %d: %w", at, pe.Column, pe.Err)
}

// errorf returns an error about the current record.
func (c *csvFile) errorf(format string, args ...any) error {
	return fmt.Errorf("%s line %d: %s", c.name, c.line, fmt.Sprintf(format, args...))
}

// field names field i (from 0) of the current record: "field 2 (name)".
func (c *csvFile) field(i int) string {
	if i < len(c.cols) && c.cols[i] != "" {
		return fmt.Sprintf("field %d (%s)", i+1, c.cols[i])
	}
	return fmt.Sprintf("field %d", i+1)
}

// text returns field i of the current record, trimmed, or an error when
// it is longer than limit bytes. A missing field is "".
func (c *csvFile) text(i, limit int) (string, error) {
	if i < 0 || i >= len(c.rec) {
		return "", nil
	}
	s := strings.TrimSpace(c.rec[i])
	if len(s) > limit {
		return "", c.errorf("%s is %d bytes, over the %d-byte limit", c.field(i), len(s), limit)
	}
	return s, nil
}

// required is text for a field that must not be empty.
func (c *csvFile) required(i, limit int) (string, error) {
	s, err := c.text(i, limit)
	if err == nil && s == "" {
		err = c.errorf("%s is empty; it is required", c.field(i))
	}
	return s, err
}

// items splits field i of the current record at ";" into at most
// maxItems non-empty items of at most limit bytes each.
func (c *csvFile) items(i, limit, maxItems int) ([]string, error) {
	if i < 0 || i >= len(c.rec) {
		return nil, nil
	}
	out := splitList(c.rec[i])
	if len(out) > maxItems {
		return nil, c.errorf("%s holds %d items, over the limit of %d", c.field(i), len(out), maxItems)
	}
	for k, s := range out {
		if len(s) > limit {
			return nil, c.errorf("%s: item %d is %d bytes, over the %d-byte limit", c.field(i), k+1, len(s), limit)
		}
	}
	return out, nil
}

// checkSizes refuses a record with any field over MaxRemarksSize, the
// bound of every field, kept or not. Loaders call it after checking the
// fields they keep against their own, smaller limits.
func (c *csvFile) checkSizes() error {
	for i := range c.rec {
		if _, err := c.text(i, MaxRemarksSize); err != nil {
			return err
		}
	}
	return nil
}

// headerCSV is a CSV file whose first row names its columns.
type headerCSV struct {
	*csvFile
	col    map[string]int // lowercase column name → index
	header []string       // the header row as written
}

// readHeader reads the header row of a CSV file with one, and checks that
// it has the required columns, once each.
func readHeader(f File, maxSize int64, required []string) (*headerCSV, error) {
	c := newCSVFile(f, maxSize)
	ok, err := c.next()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s: the file is empty; it needs a header row", c.name)
	}
	h := &headerCSV{csvFile: c, col: map[string]int{}, header: append([]string(nil), c.rec...)}
	for i, name := range c.rec {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		if _, dup := h.col[name]; dup {
			return nil, c.errorf("column %q appears twice in the header", name)
		}
		if len(name) > MaxFieldSize {
			return nil, c.errorf("%s of the header is %d bytes long: not a column name", c.field(i), len(name))
		}
		h.col[name] = i
	}
	c.cols = make([]string, len(c.rec))
	for i, name := range c.rec {
		c.cols[i] = strings.TrimSpace(name)
	}
	for _, name := range required {
		if _, ok := h.col[name]; !ok {
			return nil, c.errorf("the header has no %q column (it has %s): a file of another format", name, abbrev(strings.Join(h.header, ",")))
		}
	}
	return h, nil
}

// nextRow reads the next data row and checks its number of fields and that
// it is not another header row.
func (h *headerCSV) nextRow(required []string) (bool, error) {
	ok, err := h.next()
	if !ok || err != nil {
		return ok, err
	}
	if len(h.rec) != len(h.header) {
		return false, h.errorf("%d fields, but the header has %d", len(h.rec), len(h.header))
	}
	for _, name := range required {
		if strings.EqualFold(strings.TrimSpace(h.rec[h.col[name]]), name) {
			return false, h.errorf("a header row where data is expected: %s is %q; two files joined, or a header repeated", h.field(h.col[name]), strings.TrimSpace(h.rec[h.col[name]]))
		}
	}
	return true, nil
}

// index returns the index of column name, or -1 when the file lacks it.
func (h *headerCSV) index(name string) int {
	if i, ok := h.col[name]; ok {
		return i
	}
	return -1
}

// splitList splits a "; "-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

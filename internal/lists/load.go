package lists

import (
	"errors"
	"fmt"
	"io"
	"time"

	"detente"
)

// File is one file of an issue of a list: the name its errors give (the
// path an operator typed, the URL it came from) and its content.
type File struct {
	Name string
	Body io.Reader
}

// A Loader reads list files strictly (docs/lists.md, "Strictness"): a
// malformed row, an invalid date or a field over its limit refuses the
// whole issue, with an error naming the file, the line (or XML element) and
// what is wrong, and no designations. A partial issue is never returned,
// since loading one would delist every entry after the fault. The zero
// Loader applies the documented limits and checks dates against the clock.
type Loader struct {
	// MaxFileSize bounds each file, in bytes; 0 means MaxListSize.
	MaxFileSize int64
	// Now is what dates of birth and listing dates are checked against;
	// the zero time means the time of the load.
	Now time.Time
}

func (l Loader) now() time.Time {
	if l.Now.IsZero() {
		return time.Now()
	}
	return l.Now
}

func (l Loader) maxFileSize() int64 {
	if l.MaxFileSize <= 0 {
		return MaxListSize
	}
	return l.MaxFileSize
}

// Load reads one issue of authority's list from its files: "un" takes the
// consolidated XML; "ofac" takes sdn.csv, then optionally add.csv, alt.csv
// and sdn_comments.csv (files with a nil Body are skipped); "eu" takes the
// 2580/2001 CSV; any other authority takes one file in the generic CSV
// format.
func (l Loader) Load(authority string, files ...File) ([]detente.Designation, error) {
	if len(files) == 0 || files[0].Body == nil {
		return nil, fmt.Errorf("load %s list: no file", authority)
	}
	var ds []detente.Designation
	var err error
	switch authority {
	case AuthorityUN:
		ds, err = l.loadUN(files[0])
	case AuthorityOFAC:
		get := func(i int) File {
			if i < len(files) {
				return files[i]
			}
			return File{}
		}
		if len(files) > 4 {
			return nil, fmt.Errorf("load ofac list: %d files, at most 4 (sdn.csv, add.csv, alt.csv, sdn_comments.csv)", len(files))
		}
		ds, err = l.loadOFAC(get(0), get(1), get(2), get(3))
	case AuthorityEU:
		ds, err = l.loadEU(files[0])
	default:
		ds, err = l.loadCSV(authority, files[0])
	}
	if err != nil {
		return nil, fmt.Errorf("load %s list: %w", authority, err)
	}
	return ds, nil
}

// Load reads one authority's list with the zero Loader, naming the files
// as the authority publishes them in errors. See Loader.Load.
func Load(authority string, files ...io.Reader) ([]detente.Designation, error) {
	fs := make([]File, len(files))
	for i, r := range files {
		fs[i] = File{Name: defaultName(authority, i), Body: r}
	}
	return Loader{}.Load(authority, fs...)
}

// defaultName is the usual name of the i-th file of authority's list.
func defaultName(authority string, i int) string {
	switch authority {
	case AuthorityUN:
		return "consolidated.xml"
	case AuthorityOFAC:
		if i < len(ofacFiles) {
			return ofacFiles[i].name
		}
	case AuthorityEU:
		return "32001R2580.csv"
	}
	return authority + ".csv"
}

// fileTooLarge is the error of a file over the Loader's MaxFileSize.
type fileTooLarge struct{ limit int64 }

func (e *fileTooLarge) Error() string {
	return fmt.Sprintf("over the %d-byte limit for one file", e.limit)
}

func isFileTooLarge(err error) bool {
	var e *fileTooLarge
	return errors.As(err, &e)
}

// sizedReader returns a *fileTooLarge error once more than
// limit bytes are read, and counts the lines and quotes it has passed.
type sizedReader struct {
	r      io.Reader
	limit  int64
	n      int64
	lines  int  // newlines read so far
	quotes int  // double quotes read so far
	last   byte // the last byte read
	eof    bool // the underlying reader has returned io.EOF
}

func (s *sizedReader) Read(p []byte) (int, error) {
	if s.n > s.limit {
		return 0, &fileTooLarge{s.limit}
	}
	if rest := s.limit + 1 - s.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	k, err := s.r.Read(p)
	s.n += int64(k)
	for _, b := range p[:k] {
		switch b {
		case '\n':
			s.lines++
		case '"':
			s.quotes++
		}
	}
	if k > 0 {
		s.last = p[k-1]
	}
	if errors.Is(err, io.EOF) {
		s.eof = true
	}
	if s.n > s.limit {
		return k, &fileTooLarge{s.limit}
	}
	return k, err
}

// lastLine is the number of the file's last line, once it has been read
// to the end.
func (s *sizedReader) lastLine() int {
	if s.n > 0 && s.last != '\n' {
		return s.lines + 1
	}
	return s.lines
}

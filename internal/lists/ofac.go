package lists

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"detente"
)

// ofacNull is how the OFAC legacy CSV files write an empty field.
const ofacNull = "-0-"

// ofacFiles describes the four files of the OFAC legacy CSV format, in the
// order LoadOFAC takes them: their usual names and their fields, whose
// number the format fixes.
var ofacFiles = []struct {
	name   string
	fields []string
}{
	{"sdn.csv", []string{"ent_num", "name", "type", "programs", "title", "call_sign", "vessel_type", "tonnage", "grt", "vessel_flag", "vessel_owner", "remarks"}},
	{"add.csv", []string{"ent_num", "add_num", "address", "city", "country", "add_remarks"}},
	{"alt.csv", []string{"ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks"}},
	{"sdn_comments.csv", []string{"ent_num", "remarks"}},
}

// ofacCSV is one headerless OFAC file.
type ofacCSV struct {
	*csvFile
	kind     string // the usual name of the file's kind: sdn.csv, add.csv, …
	afterEOF bool   // the end-of-file marker has been read
}

// next reads the next record and checks its number of fields, that its
// first field (ent_num) is a number, and that it is no header row: the
// legacy files have none, so a header means a file of another format
// (a generic CSV given as OFAC's, the newer OFAC CSV with a header).
func (o *ofacCSV) next() (bool, error) {
	ok, err := o.csvFile.next()
	if !ok || err != nil {
		return ok, err
	}
	if o.afterEOF {
		return false, o.errorf("data after the end-of-file marker (Ctrl-Z) of the line before")
	}
	// OFAC ends some files with a Ctrl-Z on a line of its own (the
	// sdn_comments.csv of the shared fixture does).
	if len(o.rec) == 1 && strings.Contains(o.rec[0], "\x1a") && strings.Trim(o.rec[0], "\x1a \r\n") == "" {
		o.afterEOF = true
		return o.next()
	}
	if !allDigits(strings.TrimSpace(o.rec[0])) {
		return false, o.errorf("%s is %q, not a number: a header row where data is expected, or a file of another format (the OFAC legacy files have no header)", o.field(0), abbrev(o.rec[0]))
	}
	if len(o.rec) != len(o.cols) {
		return false, o.errorf("%d fields, but each row of OFAC's %s has %d: a file of another format, or given in the wrong place", len(o.rec), o.kind, len(o.cols))
	}
	return true, nil
}

// get returns field i, trimmed, with "-0-" read as "".
func (o *ofacCSV) get(i, limit int) (string, error) {
	s, err := o.text(i, limit)
	if s == ofacNull {
		s = ""
	}
	return s, err
}

// abbrev shortens s for an error message.
func abbrev(s string) string {
	for i := range s {
		if i >= 40 {
			return s[:i] + "…"
		}
	}
	return s
}

var (
	ofacDOB         = regexp.MustCompile(`(?i)\bDOB\s+((?:circa\s+)?(?:\d{1,2}\s+)?(?:[A-Z][a-z]{2}\s+)?\d{4}(?:\s+to\s+(?:\d{1,2}\s+)?(?:[A-Z][a-z]{2}\s+)?\d{4})?)`)
	ofacNationality = regexp.MustCompile(`(?i)\b(?:nationality|citizen)\s+([A-Z][A-Za-z' .\-]+?)\s*(?:[;.]|\(|$)`)
	ofacWeakAKA     = regexp.MustCompile(`a\.k\.a\. '([^']+)'`)
)

// LoadOFAC reads the OFAC SDN list in its legacy CSV form
// (https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN.CSV
// and its companions ADD.CSV, ALT.CSV and SDN_COMMENTS.CSV). The files have
// no header and write empty fields as "-0-". sdn is required; add, alt and
// comments may be nil. add (addresses) is read only for validity: addresses
// are not part of a Designation. Dates of birth and nationalities are parsed
// from the remarks ("DOB 01 Jan 1960; nationality Iraq"), weak aliases from
// "a.k.a. 'X'" in the remarks. It reads strictly (see Loader).
func LoadOFAC(sdn, add, alt, comments io.Reader) ([]detente.Designation, error) {
	f := func(i int, r io.Reader) File { return File{Name: ofacFiles[i].name, Body: r} }
	return Loader{}.loadOFAC(f(0, sdn), f(1, add), f(2, alt), f(3, comments))
}

func (l Loader) loadOFAC(sdn, add, alt, comments File) ([]detente.Designation, error) {
	if sdn.Body == nil {
		return nil, errors.New("sdn.csv is required")
	}
	var out []detente.Designation
	byID := map[string]int{}
	lines := map[string]int{} // ent_num → its line in sdn.csv
	err := l.readOFAC(sdn, 0, func(o *ofacCSV) error {
		id, err := o.get(0, MaxFieldSize)
		if err != nil {
			return err
		}
		name, err := o.get(1, MaxNameSize)
		if err != nil {
			return err
		}
		if name == "" {
			return o.errorf("%s is empty; it is required", o.field(1))
		}
		if line, dup := lines[id]; dup {
			return o.errorf("ent_num %s is already on line %d", id, line)
		}
		d := detente.Designation{
			Authority: AuthorityOFAC,
			EntityID:  id,
			Names:     []detente.DesignationName{{Name: name, Kind: detente.NameKindPrimary, Script: ScriptOf(name)}},
		}
		if d.Remarks, err = o.get(11, MaxRemarksSize); err != nil {
			return err
		}
		typ, err := o.get(2, MaxFieldSize)
		if err != nil {
			return err
		}
		switch strings.ToLower(typ) {
		case "individual":
			d.Type = detente.EntityPerson
		case "vessel":
			d.Type = detente.EntityVessel
		case "aircraft":
			d.Type = detente.EntityAircraft
		case "":
			d.Type = detente.EntityOrganization
		default:
			return o.errorf("%s is %q, not individual, vessel, aircraft or -0-", o.field(2), typ)
		}
		programs, err := o.get(3, MaxRemarksSize)
		if err != nil {
			return err
		}
		for _, p := range strings.Split(strings.Trim(programs, "[] "), "] [") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			if len(p) > MaxFieldSize {
				return o.errorf("%s: a programme is %d bytes, over the %d-byte limit", o.field(3), len(p), MaxFieldSize)
			}
			d.Programs = append(d.Programs, p)
		}
		if len(d.Programs) > MaxValues {
			return o.errorf("%s names %d programmes, over the limit of %d", o.field(3), len(d.Programs), MaxValues)
		}
		if len(d.Programs) > 0 {
			d.Regime = d.Programs[0]
		}
		byID[id] = len(out)
		lines[id] = o.line
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Every alias and address belongs to an entry of sdn.csv: one that
	// does not means files of different issues, or an sdn.csv cut short
	// between two rows (which no field count can tell).
	known := func(o *ofacCSV) (int, error) {
		id, err := o.get(0, MaxFieldSize)
		if err != nil {
			return 0, err
		}
		i, ok := byID[id]
		if !ok {
			return 0, o.errorf("ent_num %s is not in %s: the files are of different issues, or %s is cut short", id, sdn.Name, sdn.Name)
		}
		return i, nil
	}
	err = l.readOFAC(alt, 2, func(o *ofacCSV) error {
		i, err := known(o)
		if err != nil {
			return err
		}
		if n, _ := o.get(1, MaxFieldSize); !allDigits(n) {
			return o.errorf("%s is %q, not a number", o.field(1), n)
		}
		name, err := o.get(3, MaxNameSize)
		if err != nil {
			return err
		}
		if name == "" {
			return o.errorf("%s is empty; it is required", o.field(3))
		}
		kind := detente.NameKindAlias
		typ, err := o.get(2, MaxFieldSize)
		if err != nil {
			return err
		}
		switch strings.ToLower(typ) {
		case "aka", "fka", "nka":
		case "weak":
			kind = detente.NameKindWeakAlias
		default:
			return o.errorf("%s is %q, not aka, fka, nka or weak", o.field(2), typ)
		}
		if len(out[i].Names) > MaxAliases {
			return o.errorf("ent_num %s has more than %d aliases", out[i].EntityID, MaxAliases)
		}
		out[i].Names = append(out[i].Names, detente.DesignationName{Name: name, Kind: kind, Script: ScriptOf(name)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = l.readOFAC(add, 1, func(o *ofacCSV) error {
		if _, err := known(o); err != nil {
			return err
		}
		if n, _ := o.get(1, MaxFieldSize); !allDigits(n) {
			return o.errorf("%s is %q, not a number", o.field(1), n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = l.readOFAC(comments, 3, func(o *ofacCSV) error {
		id, err := o.get(0, MaxFieldSize)
		if err != nil {
			return err
		}
		i, ok := byID[id]
		if !ok {
			// Comments of entries this issue lacks are skipped: they only
			// continue remarks, and the shared fixture's sdn_comments.csv,
			// of a later date than its sdn.csv, has ten such rows.
			return nil
		}
		more, err := o.get(1, MaxRemarksSize)
		if err != nil {
			return err
		}
		if n := len(out[i].Remarks) + len(more); n > MaxRemarksSize {
			return o.errorf("the remarks of ent_num %s, continued here, are %d bytes, over the %d-byte limit", id, n, MaxRemarksSize)
		}
		out[i].Remarks += more
		return nil
	})
	if err != nil {
		return nil, err
	}
	now := l.now()
	for i := range out {
		d := &out[i]
		at := func(err error) error {
			return fmt.Errorf("%s line %d (ent_num %s): %w", sdn.Name, lines[d.EntityID], d.EntityID, err)
		}
		if err := parseOFACRemarks(d, now); err != nil {
			return nil, at(fmt.Errorf("remarks: %w", err))
		}
		ofacIdentifiers(d)
		if err := Check(d, now); err != nil {
			return nil, at(err)
		}
	}
	return out, nil
}

// readOFAC reads one headerless OFAC file of kind (an index in ofacFiles),
// calling f with each record. A file with a nil Body is skipped.
func (l Loader) readOFAC(f File, kind int, each func(o *ofacCSV) error) error {
	if f.Body == nil {
		return nil
	}
	o := &ofacCSV{csvFile: newCSVFile(f, l.maxFileSize()), kind: ofacFiles[kind].name}
	o.cols = ofacFiles[kind].fields
	for {
		ok, err := o.next()
		if err != nil || !ok {
			return err
		}
		if err := each(o); err != nil {
			return err
		}
		if err := o.checkSizes(); err != nil {
			return err
		}
	}
}

// parseOFACRemarks takes dates of birth, nationalities and weak aliases out
// of the remarks of an SDN entry. A date of birth that reads as a date but
// is none (day 45, month 13, a date in the future) is an error; text the
// patterns do not read as a date is left in the remarks, as before.
func parseOFACRemarks(d *detente.Designation, now time.Time) error {
	for _, m := range ofacDOB.FindAllStringSubmatch(d.Remarks, -1) {
		dates, err := expandDates(m[1])
		if err != nil {
			return fmt.Errorf("date of birth: %w", err)
		}
		for _, dt := range dates {
			if err := checkBirthDate(dt, now); err != nil {
				return fmt.Errorf("date of birth: %q %w", m[1], err)
			}
			d.DatesOfBirth = appendUnique(d.DatesOfBirth, dt)
		}
	}
	for _, m := range ofacNationality.FindAllStringSubmatch(d.Remarks, -1) {
		if c := CountryCode(m[1]); c != "" {
			d.Nationalities = appendUnique(d.Nationalities, c)
		}
	}
	for _, m := range ofacWeakAKA.FindAllStringSubmatch(d.Remarks, -1) {
		if len(m[1]) > MaxNameSize {
			return fmt.Errorf("a.k.a. '%s' is %d bytes, over the %d-byte limit", abbrev(m[1]), len(m[1]), MaxNameSize)
		}
		d.Names = append(d.Names, detente.DesignationName{Name: m[1], Kind: detente.NameKindWeakAlias, Script: ScriptOf(m[1])})
	}
	return nil
}

// expandDates parses "10 Dec 1948", "Dec 1948", "circa 1948" or "1960 to
// 1962" into YYYY[-MM[-DD]] dates (every year of a short range). It
// returns an error for a date that reads as one but is not a real calendar
// date ("45 Dec 1948"), and nothing for text it does not read as a date, or
// a range reversed or wider than ten years (too broad to help matching).
func expandDates(s string) ([]string, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "circa"))
	parse := func(s string) (string, error) {
		d := ParseDate(s)
		if d == "" {
			return "", nil
		}
		if err := checkDate(d); err != nil {
			return "", fmt.Errorf("%q %w", strings.TrimSpace(s), err)
		}
		return d, nil
	}
	if from, to, ok := strings.Cut(s, " to "); ok {
		a, err := parse(from)
		if err != nil {
			return nil, err
		}
		b, err := parse(to)
		if err != nil || a == "" || b == "" {
			return nil, err
		}
		ya, _ := strconv.Atoi(a[:4])
		yb, _ := strconv.Atoi(b[:4])
		if yb < ya || yb-ya > 10 {
			return nil, nil
		}
		var out []string
		for y := ya; y <= yb; y++ {
			out = append(out, fmt.Sprintf("%04d", y))
		}
		return out, nil
	}
	d, err := parse(s)
	if d == "" || err != nil {
		return nil, err
	}
	return []string{d}, nil
}

var months = map[string]string{
	"jan": "01", "feb": "02", "mar": "03", "apr": "04", "may": "05", "jun": "06",
	"jul": "07", "aug": "08", "sep": "09", "oct": "10", "nov": "11", "dec": "12",
}

// ParseDate turns the date forms of designation lists into YYYY, YYYY-MM or
// YYYY-MM-DD: "1960-08-11", "11.8.1960", "11/08/1960", "10 Dec 1948",
// "Dec 1948", "1948", "circa 1957". It returns "" for anything else.
func ParseDate(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(s, "circa"), "approximately"))
	if len(s) == 4 && allDigits(s) {
		return s
	}
	if len(s) == 10 && s[4] == '-' && s[7] == '-' && allDigits(s[:4]+s[5:7]+s[8:]) {
		return s
	}
	if len(s) == 7 && s[4] == '-' && allDigits(s[:4]+s[5:]) {
		return s
	}
	for _, sep := range []string{".", "/"} {
		if p := strings.Split(s, sep); len(p) == 3 && allDigits(p[0]+p[1]+p[2]) && len(p[2]) == 4 && len(p[0]) <= 2 && len(p[1]) <= 2 {
			return fmt.Sprintf("%s-%02s-%02s", p[2], p[1], p[0])
		}
	}
	f := strings.Fields(s)
	switch len(f) {
	case 2:
		if m, ok := months[strings.ToLower(f[0])[:min(3, len(f[0]))]]; ok && len(f[1]) == 4 && allDigits(f[1]) {
			return f[1] + "-" + m
		}
	case 3:
		if m, ok := months[strings.ToLower(f[1])[:min(3, len(f[1]))]]; ok && len(f[2]) == 4 && allDigits(f[2]+f[0]) && len(f[0]) <= 2 {
			return fmt.Sprintf("%s-%s-%02s", f[2], m, f[0])
		}
	}
	return ""
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

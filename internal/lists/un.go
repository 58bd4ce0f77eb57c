// Package lists loads designation lists published by sanctioning
// authorities (the UN Security Council Consolidated List, the US OFAC SDN
// list, the EU terrorist list) and a documented generic CSV format into
// detente.Designation values, diffs two issues of a list, and fetches the
// lists from their official addresses.
//
// Loaders take io.Readers and stream where the format allows; they keep
// every authority's entries separate and never merge them.
package lists

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"detente"
)

// Authority names used in Designation.Authority.
const (
	AuthorityUN   = "un"
	AuthorityOFAC = "ofac"
	AuthorityEU   = "eu"
)

type unAlias struct {
	Quality string `xml:"QUALITY"`
	Name    string `xml:"ALIAS_NAME"`
}

type unDOB struct {
	Type     string `xml:"TYPE_OF_DATE"`
	Date     string `xml:"DATE"`
	Year     string `xml:"YEAR"`
	FromYear string `xml:"FROM_YEAR"`
	ToYear   string `xml:"TO_YEAR"`
}

type unEntry struct {
	DataID         string       `xml:"DATAID"`
	First          string       `xml:"FIRST_NAME"`
	Second         string       `xml:"SECOND_NAME"`
	Third          string       `xml:"THIRD_NAME"`
	Fourth         string       `xml:"FOURTH_NAME"`
	ListType       string       `xml:"UN_LIST_TYPE"`
	Reference      string       `xml:"REFERENCE_NUMBER"`
	ListedOn       string       `xml:"LISTED_ON"`
	OriginalScript string       `xml:"NAME_ORIGINAL_SCRIPT"`
	Comments       string       `xml:"COMMENTS1"`
	Nationality    []string     `xml:"NATIONALITY>VALUE"`
	IndAliases     []unAlias    `xml:"INDIVIDUAL_ALIAS"`
	EntAliases     []unAlias    `xml:"ENTITY_ALIAS"`
	DOBs           []unDOB      `xml:"INDIVIDUAL_DATE_OF_BIRTH"`
	Documents      []unDocument `xml:"INDIVIDUAL_DOCUMENT"`
}

// LoadUN reads the UN Security Council Consolidated List XML
// (https://scsanctions.un.org/resources/xml/en/consolidated.xml). Individuals
// become persons and entities organisations; aliases of quality "Low"
// become weak aliases; NAME_ORIGINAL_SCRIPT becomes an original-script
// name; the UN list type (Al-Qaida, DRC, Iraq, …) is the regime. It reads
// strictly (see Loader): malformed or truncated XML, an entry without a
// reference or a name, an invalid date or an oversized field refuses the
// whole file, naming the line and the entry.
func LoadUN(r io.Reader) ([]detente.Designation, error) {
	return Loader{}.loadUN(File{Name: defaultName(AuthorityUN, 0), Body: r})
}

func (l Loader) loadUN(f File) ([]detente.Designation, error) {
	size := &sizedReader{r: f.Body, limit: l.maxFileSize()}
	dec := xml.NewDecoder(size)
	now := l.now()
	var out []detente.Designation
	seen := map[string]int{} // reference → line
	var open []string        // the elements open around the decoder
	sawRoot := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, unReadError(f.Name, err, open)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line, _ := dec.InputPos()
			if len(open) == 0 {
				if sawRoot {
					return nil, fmt.Errorf("%s line %d: element <%s> after the end of <CONSOLIDATED_LIST>", f.Name, line, t.Name.Local)
				}
				if t.Name.Local != "CONSOLIDATED_LIST" {
					return nil, fmt.Errorf("%s line %d: the root element is <%s>, not <CONSOLIDATED_LIST>: a file of another format", f.Name, line, t.Name.Local)
				}
				sawRoot = true
			}
			if t.Name.Local != "INDIVIDUAL" && t.Name.Local != "ENTITY" {
				open = append(open, t.Name.Local)
				continue
			}
			var e unEntry
			if err := dec.DecodeElement(&e, &t); err != nil {
				return nil, unReadError(f.Name, err, append(open, fmt.Sprintf("%s (from line %d)", t.Name.Local, line)))
			}
			d, err := unDesignation(&e, t.Name.Local == "INDIVIDUAL", now)
			if err == nil {
				err = Check(&d, now)
			}
			if err != nil {
				return nil, fmt.Errorf("%s line %d: %s %s: %w", f.Name, line, t.Name.Local, e.id(), err)
			}
			if first, dup := seen[d.EntityID]; dup {
				return nil, fmt.Errorf("%s line %d: %s %s: reference %s is already on line %d", f.Name, line, t.Name.Local, e.id(), d.EntityID, first)
			}
			seen[d.EntityID] = line
			out = append(out, d)
		case xml.EndElement:
			open = open[:len(open)-1]
		}
	}
	if !sawRoot {
		return nil, fmt.Errorf("%s: no <CONSOLIDATED_LIST> element: a file of another format", f.Name)
	}
	return out, nil
}

// unReadError names the file, line and open elements of an XML error,
// and says so plainly when the file is cut short.
func unReadError(name string, err error, open []string) error {
	if isFileTooLarge(err) {
		return fmt.Errorf("%s: %w", name, err)
	}
	in := ""
	if len(open) > 0 {
		in = " in <" + strings.Join(open, "> <") + ">"
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		if strings.HasPrefix(se.Msg, "unexpected EOF") {
			return fmt.Errorf("%s line %d: the file ends%s: it is cut short", name, se.Line, in)
		}
		return fmt.Errorf("%s line %d%s: malformed XML: %s", name, se.Line, in, se.Msg)
	}
	return fmt.Errorf("%s%s: %w", name, in, err)
}

// id names an entry in errors: its reference number, else its DATAID.
func (e *unEntry) id() string {
	if r := strings.TrimSpace(e.Reference); r != "" {
		return r
	}
	if id := strings.TrimSpace(e.DataID); id != "" {
		return "DATAID " + id
	}
	return "(no REFERENCE_NUMBER)"
}

// unDate reads an xs:date, which may carry a time zone: the 2026-02-27
// issue writes ten LISTED_ON dates as "2015-03-27-04:00". The zone is
// dropped: a listing date is a day.
func unDate(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 10 {
		switch z := s[10:]; {
		case z == "Z", len(z) == 6 && (z[0] == '+' || z[0] == '-') && z[3] == ':' && allDigits(z[1:3]+z[4:]):
			return s[:10]
		}
	}
	return s
}

func unDesignation(e *unEntry, person bool, now time.Time) (detente.Designation, error) {
	d := detente.Designation{
		Authority: AuthorityUN,
		EntityID:  strings.TrimSpace(e.Reference),
		Type:      detente.EntityOrganization,
		Regime:    strings.TrimSpace(e.ListType),
		Remarks:   strings.TrimSpace(e.Comments),
	}
	if d.EntityID == "" {
		d.EntityID = strings.TrimSpace(e.DataID)
	}
	if d.EntityID == "" {
		return d, errors.New("no REFERENCE_NUMBER (nor DATAID)")
	}
	for _, f := range []struct {
		elem  string
		v     string
		limit int
	}{
		{"REFERENCE_NUMBER", d.EntityID, MaxFieldSize}, {"UN_LIST_TYPE", d.Regime, MaxFieldSize},
		{"COMMENTS1", d.Remarks, MaxRemarksSize}, {"NAME_ORIGINAL_SCRIPT", strings.TrimSpace(e.OriginalScript), MaxNameSize},
	} {
		if len(f.v) > f.limit {
			return d, overLimit("<"+f.elem+">", len(f.v), f.limit)
		}
	}
	if d.Regime != "" {
		d.Programs = []string{d.Regime}
	}
	if person {
		d.Type = detente.EntityPerson
	}
	if lo := strings.TrimSpace(e.ListedOn); lo != "" {
		d.ListedOn = unDate(lo)
		if err := checkListingDate(d.ListedOn, now); err != nil {
			return d, fmt.Errorf("<LISTED_ON> %q %w", lo, err)
		}
	}
	var parts []string
	for _, p := range []string{e.First, e.Second, e.Third, e.Fourth} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) > 0 {
		name := strings.Join(parts, " ")
		if len(name) > MaxNameSize {
			return d, overLimit("the name (<FIRST_NAME> to <FOURTH_NAME>)", len(name), MaxNameSize)
		}
		d.Names = append(d.Names, detente.DesignationName{Name: name, Kind: detente.NameKindPrimary, Script: "Latn"})
	}
	if os := strings.TrimSpace(e.OriginalScript); os != "" {
		d.Names = append(d.Names, detente.DesignationName{Name: os, Kind: detente.NameKindOriginalScript, Script: ScriptOf(os)})
	}
	if len(d.Names) == 0 {
		return d, errors.New("no name: <FIRST_NAME> and <NAME_ORIGINAL_SCRIPT> are empty")
	}
	aliases := append(e.IndAliases, e.EntAliases...)
	if len(aliases) > MaxAliases {
		return d, fmt.Errorf("%d aliases, over the limit of %d", len(aliases), MaxAliases)
	}
	for i, a := range aliases {
		n := strings.TrimSpace(a.Name)
		if n == "" {
			// An alias element without a name is common and harmless:
			// the 2026-02-27 issue has 291.
			continue
		}
		if len(n) > MaxNameSize {
			return d, overLimit(fmt.Sprintf("<ALIAS_NAME> of alias %d", i+1), len(n), MaxNameSize)
		}
		kind := detente.NameKindAlias
		if strings.EqualFold(strings.TrimSpace(a.Quality), "low") {
			kind = detente.NameKindWeakAlias
		}
		d.Names = append(d.Names, detente.DesignationName{Name: n, Kind: kind, Script: ScriptOf(n)})
	}
	if len(e.DOBs) > MaxValues {
		return d, fmt.Errorf("%d dates of birth, over the limit of %d", len(e.DOBs), MaxValues)
	}
	for _, b := range e.DOBs {
		dates, err := unBirthDates(b, now)
		if err != nil {
			return d, err
		}
		for _, dt := range dates {
			d.DatesOfBirth = appendUnique(d.DatesOfBirth, dt)
		}
	}
	for _, n := range e.Nationality {
		if c := CountryCode(n); c != "" {
			d.Nationalities = appendUnique(d.Nationalities, c)
		}
	}
	if len(e.Documents) > MaxValues {
		return d, fmt.Errorf("%d documents, over the limit of %d", len(e.Documents), MaxValues)
	}
	unIdentifiers(&d, e.Documents)
	return d, nil
}

// unBirthDates reads one INDIVIDUAL_DATE_OF_BIRTH: a DATE, a YEAR, or a
// FROM_YEAR–TO_YEAR range (each year of a range up to ten years wide; a
// wider one is too broad to help matching and is left out). An element
// with none of them (only a TYPE_OF_DATE or a NOTE; the 2026-02-27 issue
// has 56) gives no date.
func unBirthDates(b unDOB, now time.Time) ([]string, error) {
	date, year := strings.TrimSpace(b.Date), strings.TrimSpace(b.Year)
	from, to := strings.TrimSpace(b.FromYear), strings.TrimSpace(b.ToYear)
	check := func(elem, raw, d string) error {
		if err := checkBirthDate(d, now); err != nil {
			return fmt.Errorf("<INDIVIDUAL_DATE_OF_BIRTH> <%s> %q %w", elem, raw, err)
		}
		return nil
	}
	switch {
	case date != "":
		d := unDate(date)
		return []string{d}, check("DATE", date, d)
	case year != "":
		if len(year) != 4 {
			return nil, fmt.Errorf("<INDIVIDUAL_DATE_OF_BIRTH> <YEAR> %q is not a year", year)
		}
		return []string{year}, check("YEAR", year, year)
	case from != "" || to != "":
		for _, y := range []struct{ elem, v string }{{"FROM_YEAR", from}, {"TO_YEAR", to}} {
			if y.v == "" {
				return nil, fmt.Errorf("<INDIVIDUAL_DATE_OF_BIRTH> has no <%s>: a range needs both ends", y.elem)
			}
			if len(y.v) != 4 {
				return nil, fmt.Errorf("<INDIVIDUAL_DATE_OF_BIRTH> <%s> %q is not a year", y.elem, y.v)
			}
			if err := check(y.elem, y.v, y.v); err != nil {
				return nil, err
			}
		}
		ya, _ := strconv.Atoi(from)
		yb, _ := strconv.Atoi(to)
		if yb < ya {
			return nil, fmt.Errorf("<INDIVIDUAL_DATE_OF_BIRTH> <TO_YEAR> %s is before <FROM_YEAR> %s", to, from)
		}
		if yb-ya > 10 {
			return nil, nil
		}
		var out []string
		for y := ya; y <= yb; y++ {
			out = append(out, fmt.Sprintf("%04d", y))
		}
		return out, nil
	}
	return nil, nil
}

func appendUnique(ss []string, s string) []string {
	for _, x := range ss {
		if x == s {
			return ss
		}
	}
	return append(ss, s)
}

package lists

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"detente"
)

// ofacNull is how the OFAC legacy CSV files write an empty field.
const ofacNull = "-0-"

func ofacField(rec []string, i int) string {
	if i >= len(rec) {
		return ""
	}
	s := strings.TrimSpace(rec[i])
	if s == ofacNull {
		return ""
	}
	return s
}

// readOFAC reads one headerless OFAC CSV file, calling f with each record.
func readOFAC(r io.Reader, name string, f func(rec []string) error) error {
	if r == nil {
		return nil
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read ofac %s: %w", name, err)
		}
		if len(rec) == 1 && strings.Trim(rec[0], "\x1a \r\n") == "" {
			continue // end-of-file marker
		}
		if err := f(rec); err != nil {
			return fmt.Errorf("read ofac %s: %w", name, err)
		}
	}
}

var (
	ofacDOB         = regexp.MustCompile(`(?i)\bDOB\s+((?:circa\s+)?(?:\d{1,2}\s+)?(?:[A-Z][a-z]{2}\s+)?\d{4}(?:\s+to\s+(?:\d{1,2}\s+)?(?:[A-Z][a-z]{2}\s+)?\d{4})?)`)
	ofacNationality = regexp.MustCompile(`(?i)\b(?:nationality|citizen)\s+([A-Z][A-Za-z' .\-]+?)\s*(?:[;.]|\(|$)`)
	ofacWeakAKA     = regexp.MustCompile(`a\.k\.a\. '([^']+)'`)
)

// LoadOFAC reads the OFAC SDN list in its legacy CSV form
// (https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN.CSV
// and its companions ALT.CSV, ADD.CSV and SDN_COMMENTS.CSV). The files have
// no header and write empty fields as "-0-". sdn is required; alt, add and
// comments may be nil. add (addresses) is read only for validity: addresses
// are not part of a Designation. Dates of birth and nationalities are parsed
// from the remarks ("DOB 01 Jan 1960; nationality Iraq"), weak aliases from
// "a.k.a. 'X'" in the remarks.
func LoadOFAC(sdn, add, alt, comments io.Reader) ([]detente.Designation, error) {
	if sdn == nil {
		return nil, errors.New("read ofac: sdn.csv is required")
	}
	var out []detente.Designation
	byID := map[string]int{}
	err := readOFAC(sdn, "sdn.csv", func(rec []string) error {
		id := ofacField(rec, 0)
		name := ofacField(rec, 1)
		if id == "" || name == "" {
			return fmt.Errorf("record %q: missing ent_num or name", strings.Join(rec, ","))
		}
		d := detente.Designation{
			Authority: AuthorityOFAC,
			EntityID:  id,
			Names:     []detente.DesignationName{{Name: name, Kind: detente.NameKindPrimary, Script: ScriptOf(name)}},
			Remarks:   ofacField(rec, 11),
		}
		switch strings.ToLower(ofacField(rec, 2)) {
		case "individual":
			d.Type = detente.EntityPerson
		case "vessel":
			d.Type = detente.EntityVessel
		case "aircraft":
			d.Type = detente.EntityAircraft
		default:
			d.Type = detente.EntityOrganization
		}
		for _, p := range strings.Split(strings.Trim(ofacField(rec, 3), "[] "), "] [") {
			if p = strings.TrimSpace(p); p != "" {
				d.Programs = append(d.Programs, p)
			}
		}
		if len(d.Programs) > 0 {
			d.Regime = d.Programs[0]
		}
		byID[id] = len(out)
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = readOFAC(alt, "alt.csv", func(rec []string) error {
		i, ok := byID[ofacField(rec, 0)]
		name := ofacField(rec, 3)
		if !ok || name == "" {
			return nil // aliases of entries not in this issue are skipped
		}
		kind := detente.NameKindAlias
		if strings.EqualFold(ofacField(rec, 2), "weak") {
			kind = detente.NameKindWeakAlias
		}
		out[i].Names = append(out[i].Names, detente.DesignationName{Name: name, Kind: kind, Script: ScriptOf(name)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := readOFAC(add, "add.csv", func([]string) error { return nil }); err != nil {
		return nil, err
	}
	err = readOFAC(comments, "sdn_comments.csv", func(rec []string) error {
		if i, ok := byID[ofacField(rec, 0)]; ok {
			out[i].Remarks += ofacField(rec, 1)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		parseOFACRemarks(&out[i])
	}
	return out, nil
}

// parseOFACRemarks takes dates of birth, nationalities and weak aliases out
// of the remarks of an SDN entry.
func parseOFACRemarks(d *detente.Designation) {
	for _, m := range ofacDOB.FindAllStringSubmatch(d.Remarks, -1) {
		for _, dt := range expandDates(m[1]) {
			d.DatesOfBirth = appendUnique(d.DatesOfBirth, dt)
		}
	}
	for _, m := range ofacNationality.FindAllStringSubmatch(d.Remarks, -1) {
		if c := CountryCode(m[1]); c != "" {
			d.Nationalities = appendUnique(d.Nationalities, c)
		}
	}
	for _, m := range ofacWeakAKA.FindAllStringSubmatch(d.Remarks, -1) {
		d.Names = append(d.Names, detente.DesignationName{Name: m[1], Kind: detente.NameKindWeakAlias, Script: ScriptOf(m[1])})
	}
}

// expandDates parses "10 Dec 1948", "Dec 1948", "circa 1948" or "1960 to
// 1962" into YYYY[-MM[-DD]] dates (every year of a short range).
func expandDates(s string) []string {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "circa"))
	if from, to, ok := strings.Cut(s, " to "); ok {
		a, b := ParseDate(from), ParseDate(to)
		if len(a) >= 4 && len(b) >= 4 {
			var ya, yb int
			fmt.Sscan(a[:4], &ya)
			fmt.Sscan(b[:4], &yb)
			if yb >= ya && yb-ya <= 10 {
				var out []string
				for y := ya; y <= yb; y++ {
					out = append(out, fmt.Sprint(y))
				}
				return out
			}
		}
		return nil
	}
	if d := ParseDate(s); d != "" {
		return []string{d}
	}
	return nil
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

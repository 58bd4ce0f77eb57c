package lists

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"detente"
)

// readHeaderCSV reads a CSV file with a header row and calls f with a
// lookup function for each record.
func readHeaderCSV(r io.Reader, what string, required []string, f func(get func(col string) string) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("read %s header: %w", what, err)
	}
	cols := map[string]int{}
	for i, h := range header {
		cols[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, c := range required {
		if _, ok := cols[c]; !ok {
			return fmt.Errorf("read %s: missing column %q", what, c)
		}
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
		get := func(col string) string {
			i, ok := cols[col]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		if err := f(get); err != nil {
			return fmt.Errorf("read %s line %d: %w", what, line, err)
		}
	}
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

// LoadEU reads the EU autonomous terrorist list (Council Regulation (EC)
// 2580/2001) in its CSV form: a header row (celex, recordId, programKey,
// annex, …, schema, name, alias, weakAlias, previousName, country,
// nationality, …, birthDate, …, notes) and one row per person or
// organisation, with aliases separated by "; ". The entity id is the annex
// and the record id ("II.A/5"), since record ids restart in each annex.
func LoadEU(r io.Reader) ([]detente.Designation, error) {
	var out []detente.Designation
	err := readHeaderCSV(r, "eu list", []string{"recordid", "schema", "name"}, func(get func(string) string) error {
		name := get("name")
		if name == "" {
			return errors.New("empty name")
		}
		d := detente.Designation{
			Authority: AuthorityEU,
			EntityID:  get("recordid"),
			Regime:    get("programkey"),
			ListedOn:  ParseDate(get("startdate")),
			Remarks:   strings.TrimSpace(get("reason") + " " + get("notes")),
		}
		if a := get("annex"); a != "" {
			d.EntityID = a + "/" + d.EntityID
		}
		if d.Regime != "" {
			d.Programs = []string{d.Regime}
		}
		switch strings.ToLower(get("schema")) {
		case "person":
			d.Type = detente.EntityPerson
		case "vessel":
			d.Type = detente.EntityVessel
		case "airplane", "aircraft":
			d.Type = detente.EntityAircraft
		default:
			d.Type = detente.EntityOrganization
		}
		d.Names = append(d.Names, detente.DesignationName{Name: name, Kind: detente.NameKindPrimary, Script: ScriptOf(name)})
		for _, a := range append(splitList(get("alias")), splitList(get("previousname"))...) {
			d.Names = append(d.Names, detente.DesignationName{Name: a, Kind: detente.NameKindAlias, Script: ScriptOf(a)})
		}
		for _, a := range splitList(get("weakalias")) {
			d.Names = append(d.Names, detente.DesignationName{Name: a, Kind: detente.NameKindWeakAlias, Script: ScriptOf(a)})
		}
		for _, b := range strings.Split(get("birthdate"), " or ") {
			for _, p := range splitList(b) {
				if dt := ParseDate(p); dt != "" {
					d.DatesOfBirth = appendUnique(d.DatesOfBirth, dt)
				}
			}
		}
		nat := strings.NewReplacer(" and ", ";", ",", ";").Replace(get("nationality"))
		for _, n := range splitList(nat) {
			if c := CountryCode(n); c != "" {
				d.Nationalities = appendUnique(d.Nationalities, c)
			}
		}
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

package lists

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"detente"
)

// GenericColumns are the columns of the generic CSV format, documented in
// docs/lists.md. Only entity_id and name are required.
var GenericColumns = []string{"entity_id", "type", "name", "aliases", "dob", "nationality", "regime", "listed_on", "delisted_on", "remarks"}

// LoadCSV reads a designation list of any authority in the generic CSV
// format: a header row naming the columns of GenericColumns in any order,
// then one row per entity. aliases, dob and nationality hold "; "-separated
// lists; type is person, organization, vessel, aircraft or other; dates are
// YYYY, YYYY-MM or YYYY-MM-DD (or DD.MM.YYYY); nationality holds ISO 3166
// alpha-2 codes or country names.
func LoadCSV(authority string, r io.Reader) ([]detente.Designation, error) {
	if authority == "" {
		return nil, errors.New("read list: authority is required")
	}
	var out []detente.Designation
	seen := map[string]bool{}
	err := readHeaderCSV(r, authority+" list", []string{"entity_id", "name"}, func(get func(string) string) error {
		id, name := get("entity_id"), get("name")
		if id == "" || name == "" {
			return errors.New("entity_id and name are required")
		}
		if seen[id] {
			return fmt.Errorf("duplicate entity_id %q", id)
		}
		seen[id] = true
		d := detente.Designation{
			Authority:  authority,
			EntityID:   id,
			Regime:     get("regime"),
			ListedOn:   ParseDate(get("listed_on")),
			DelistedOn: ParseDate(get("delisted_on")),
			Remarks:    get("remarks"),
		}
		switch t := detente.EntityType(strings.ToLower(get("type"))); t {
		case detente.EntityPerson, detente.EntityOrganization, detente.EntityVessel, detente.EntityAircraft, detente.EntityOther:
			d.Type = t
		case "":
			d.Type = detente.EntityOther
		default:
			return fmt.Errorf("unknown type %q", t)
		}
		d.Names = append(d.Names, detente.DesignationName{Name: name, Kind: detente.NameKindPrimary, Script: ScriptOf(name)})
		for _, a := range splitList(get("aliases")) {
			d.Names = append(d.Names, detente.DesignationName{Name: a, Kind: detente.NameKindAlias, Script: ScriptOf(a)})
		}
		for _, b := range splitList(get("dob")) {
			if dt := ParseDate(b); dt != "" {
				d.DatesOfBirth = appendUnique(d.DatesOfBirth, dt)
			}
		}
		for _, n := range splitList(get("nationality")) {
			c := CountryCode(n)
			if c == "" {
				c = n
			}
			d.Nationalities = appendUnique(d.Nationalities, c)
		}
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Load reads one authority's list from its files: "un" takes the
// consolidated XML; "ofac" takes sdn.csv, then optionally add.csv, alt.csv
// and sdn_comments.csv (nil readers are skipped); "eu" takes the 2580/2001
// CSV; any other authority takes one file in the generic CSV format.
func Load(authority string, files ...io.Reader) ([]detente.Designation, error) {
	if len(files) == 0 || files[0] == nil {
		return nil, fmt.Errorf("load %s list: no file", authority)
	}
	switch authority {
	case AuthorityUN:
		return LoadUN(files[0])
	case AuthorityOFAC:
		get := func(i int) io.Reader {
			if i < len(files) {
				return files[i]
			}
			return nil
		}
		return LoadOFAC(get(0), get(1), get(2), get(3))
	case AuthorityEU:
		return LoadEU(files[0])
	default:
		return LoadCSV(authority, files[0])
	}
}

package lists

import (
	"errors"
	"io"
	"strings"

	"detente"
)

// GenericColumns are the columns of the generic CSV format, documented in
// docs/lists.md. Only entity_id and name are required.
var GenericColumns = []string{"entity_id", "type", "name", "aliases", "dob", "nationality", "regime", "listed_on", "delisted_on", "remarks",
	"wallets", "passports", "national_ids", "iban", "bic", "imo", "imo_company", "aircraft"}

// genericIDColumns are the generic CSV's identifier columns and their
// types. Each holds a "; "-separated list: wallets as CHAIN:ADDRESS,
// documents as NUMBER or STATE:NUMBER (STATE an ISO 3166 code).
var genericIDColumns = []struct{ col, typ string }{
	{"wallets", detente.IdentifierWallet}, {"passports", detente.IdentifierPassport}, {"national_ids", detente.IdentifierNationalID},
	{"iban", detente.IdentifierIBAN}, {"bic", detente.IdentifierBIC}, {"imo", detente.IdentifierIMO},
	{"imo_company", detente.IdentifierIMOCompany}, {"aircraft", detente.IdentifierAircraft},
}

// LoadCSV reads a designation list of any authority in the generic CSV
// format: a header row naming the columns of GenericColumns in any order,
// then one row per entity. aliases, dob and nationality hold "; "-separated
// lists; type is person, organization, vessel, aircraft or other; dates are
// YYYY, YYYY-MM or YYYY-MM-DD (or DD.MM.YYYY); nationality holds ISO 3166
// alpha-2 codes or country names. It reads strictly (see Loader).
func LoadCSV(authority string, r io.Reader) ([]detente.Designation, error) {
	return Loader{}.loadCSV(authority, File{Name: defaultName(authority, 0), Body: r})
}

func (l Loader) loadCSV(authority string, f File) ([]detente.Designation, error) {
	if authority == "" {
		return nil, errors.New("read list: authority is required")
	}
	required := []string{"entity_id", "name"}
	h, err := readHeader(f, l.maxFileSize(), required)
	if err != nil {
		return nil, err
	}
	now := l.now()
	var out []detente.Designation
	seen := map[string]int{}
	for {
		ok, err := h.nextRow(required)
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		d, err := l.genericRow(h, authority)
		if err == nil {
			err = h.checkSizes()
		}
		if err != nil {
			return nil, err
		}
		if line, dup := seen[d.EntityID]; dup {
			return nil, h.errorf("entity_id %q is already on line %d", d.EntityID, line)
		}
		seen[d.EntityID] = h.line
		if err := Check(&d, now); err != nil {
			return nil, h.errorf("%v", err)
		}
		out = append(out, d)
	}
}

func (l Loader) genericRow(h *headerCSV, authority string) (detente.Designation, error) {
	now := l.now()
	d := detente.Designation{Authority: authority}
	var err error
	if d.EntityID, err = h.required(h.index("entity_id"), MaxFieldSize); err != nil {
		return d, err
	}
	name, err := h.required(h.index("name"), MaxNameSize)
	if err != nil {
		return d, err
	}
	if d.Regime, err = h.text(h.index("regime"), MaxFieldSize); err != nil {
		return d, err
	}
	if d.Remarks, err = h.text(h.index("remarks"), MaxRemarksSize); err != nil {
		return d, err
	}
	typ, err := h.text(h.index("type"), MaxFieldSize)
	if err != nil {
		return d, err
	}
	switch t := detente.EntityType(strings.ToLower(typ)); t {
	case detente.EntityPerson, detente.EntityOrganization, detente.EntityVessel, detente.EntityAircraft, detente.EntityOther:
		d.Type = t
	case "":
		d.Type = detente.EntityOther
	default:
		return d, h.errorf("%s is %q, not person, organization, vessel, aircraft or other", h.field(h.index("type")), typ)
	}
	for _, c := range []struct {
		col string
		dst *string
	}{{"listed_on", &d.ListedOn}, {"delisted_on", &d.DelistedOn}} {
		i := h.index(c.col)
		s, err := h.text(i, MaxFieldSize)
		if err != nil || s == "" {
			if err != nil {
				return d, err
			}
			continue
		}
		if *c.dst, err = parseListingDate(s, now); err != nil {
			return d, h.errorf("%s: %v", h.field(i), err)
		}
	}
	d.Names = append(d.Names, detente.DesignationName{Name: name, Kind: detente.NameKindPrimary, Script: ScriptOf(name)})
	aliases, err := h.items(h.index("aliases"), MaxNameSize, MaxAliases)
	if err != nil {
		return d, err
	}
	for _, a := range aliases {
		d.Names = append(d.Names, detente.DesignationName{Name: a, Kind: detente.NameKindAlias, Script: ScriptOf(a)})
	}
	dobs, err := h.items(h.index("dob"), MaxFieldSize, MaxValues)
	if err != nil {
		return d, err
	}
	for _, b := range dobs {
		dt, err := parseBirthDate(b, now)
		if err != nil {
			return d, h.errorf("%s: %v", h.field(h.index("dob")), err)
		}
		d.DatesOfBirth = appendUnique(d.DatesOfBirth, dt)
	}
	nats, err := h.items(h.index("nationality"), MaxFieldSize, MaxValues)
	if err != nil {
		return d, err
	}
	for _, n := range nats {
		c := CountryCode(n)
		if c == "" {
			c = n
		}
		d.Nationalities = appendUnique(d.Nationalities, c)
	}
	for _, c := range genericIDColumns {
		i := h.index(c.col)
		vs, err := h.items(i, MaxFieldSize, MaxValues)
		if err != nil {
			return d, err
		}
		for _, v := range vs {
			id := detente.DesignationIdentifier{Type: c.typ, Value: v}
			switch c.typ {
			case detente.IdentifierWallet:
				chain, addr, ok := strings.Cut(v, ":")
				if !ok || strings.TrimSpace(chain) == "" || strings.TrimSpace(addr) == "" {
					return d, h.errorf("%s: %q: want CHAIN:ADDRESS, e.g. ETH:0x…", h.field(i), v)
				}
				id.Chain, id.Value = strings.ToUpper(strings.TrimSpace(chain)), strings.TrimSpace(addr)
			case detente.IdentifierPassport, detente.IdentifierNationalID:
				if st, num, ok := strings.Cut(v, ":"); ok {
					cc := CountryCode(st)
					if cc == "" && len(strings.TrimSpace(st)) == 2 {
						cc = strings.ToUpper(strings.TrimSpace(st))
					}
					if cc == "" {
						return d, h.errorf("%s: %q: %q is not a country; want NUMBER or STATE:NUMBER", h.field(i), v, st)
					}
					id.Country, id.Value = cc, strings.TrimSpace(num)
				}
			}
			d.Identifiers = appendIdentifier(d.Identifiers, id)
		}
	}
	return d, nil
}

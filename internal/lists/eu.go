package lists

import (
	"io"
	"strings"

	"detente"
)

// LoadEU reads the EU autonomous terrorist list (Council Regulation (EC)
// 2580/2001) in its CSV form: a header row (celex, recordId, programKey,
// annex, …, schema, name, alias, weakAlias, previousName, country,
// nationality, …, birthDate, …, notes) and one row per person or
// organisation, with aliases separated by "; ". The entity id is the annex
// and the record id ("II.A/5"), since record ids restart in each annex. It
// reads strictly (see Loader).
func LoadEU(r io.Reader) ([]detente.Designation, error) {
	return Loader{}.loadEU(File{Name: defaultName(AuthorityEU, 0), Body: r})
}

// euSchemas maps the EU file's schema column to entity types.
var euSchemas = map[string]detente.EntityType{
	"person": detente.EntityPerson, "organization": detente.EntityOrganization, "organisation": detente.EntityOrganization,
	"vessel": detente.EntityVessel, "airplane": detente.EntityAircraft, "aircraft": detente.EntityAircraft,
}

func (l Loader) loadEU(f File) ([]detente.Designation, error) {
	required := []string{"recordid", "schema", "name"}
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
		d, err := l.euRow(h)
		if err == nil {
			err = h.checkSizes()
		}
		if err != nil {
			return nil, err
		}
		if line, dup := seen[d.EntityID]; dup {
			return nil, h.errorf("record %s is already on line %d", d.EntityID, line)
		}
		seen[d.EntityID] = h.line
		if err := Check(&d, now); err != nil {
			return nil, h.errorf("%v", err)
		}
		out = append(out, d)
	}
}

func (l Loader) euRow(h *headerCSV) (detente.Designation, error) {
	now := l.now()
	d := detente.Designation{Authority: AuthorityEU}
	var err error
	if d.EntityID, err = h.required(h.index("recordid"), MaxFieldSize); err != nil {
		return d, err
	}
	name, err := h.required(h.index("name"), MaxNameSize)
	if err != nil {
		return d, err
	}
	schema, err := h.required(h.index("schema"), MaxFieldSize)
	if err != nil {
		return d, err
	}
	t, ok := euSchemas[strings.ToLower(schema)]
	if !ok {
		return d, h.errorf("%s is %q, not Person, Organization, Vessel or Airplane", h.field(h.index("schema")), schema)
	}
	d.Type = t
	annex, err := h.text(h.index("annex"), MaxFieldSize)
	if err != nil {
		return d, err
	}
	if annex != "" {
		d.EntityID = annex + "/" + d.EntityID
	}
	if d.Regime, err = h.text(h.index("programkey"), MaxFieldSize); err != nil {
		return d, err
	}
	if d.Regime != "" {
		d.Programs = []string{d.Regime}
	}
	if i := h.index("startdate"); i >= 0 && strings.TrimSpace(h.rec[i]) != "" {
		if d.ListedOn, err = parseListingDate(h.rec[i], now); err != nil {
			return d, h.errorf("%s: %v", h.field(i), err)
		}
	}
	reason, err := h.text(h.index("reason"), MaxRemarksSize)
	if err != nil {
		return d, err
	}
	notes, err := h.text(h.index("notes"), MaxRemarksSize)
	if err != nil {
		return d, err
	}
	d.Remarks = strings.TrimSpace(reason + " " + notes)
	d.Names = append(d.Names, detente.DesignationName{Name: name, Kind: detente.NameKindPrimary, Script: ScriptOf(name)})
	for _, c := range []struct{ col, kind string }{
		{"alias", detente.NameKindAlias}, {"previousname", detente.NameKindAlias}, {"weakalias", detente.NameKindWeakAlias},
	} {
		as, err := h.items(h.index(c.col), MaxNameSize, MaxAliases)
		if err != nil {
			return d, err
		}
		for _, a := range as {
			d.Names = append(d.Names, detente.DesignationName{Name: a, Kind: c.kind, Script: ScriptOf(a)})
		}
	}
	// birthDate may hold several dates joined by " or " ("6.3.1955 or
	// 15.3.1955") or "; ", each possibly "circa 1957".
	if i := h.index("birthdate"); i >= 0 {
		bs, err := h.items(i, MaxFieldSize, MaxValues)
		if err != nil {
			return d, err
		}
		for _, b := range bs {
			for _, p := range strings.Split(b, " or ") {
				dt, err := parseBirthDate(p, now)
				if err != nil {
					return d, h.errorf("%s: %v", h.field(i), err)
				}
				d.DatesOfBirth = appendUnique(d.DatesOfBirth, dt)
			}
		}
	}
	for _, c := range []struct{ col, typ string }{
		{"passportnumber", detente.IdentifierPassport}, {"idnumber", detente.IdentifierNationalID},
		{"swiftbic", detente.IdentifierBIC}, {"imonumber", detente.IdentifierIMO},
	} {
		items, err := h.items(h.index(c.col), MaxFieldSize, MaxValues)
		if err != nil {
			return d, err
		}
		for _, it := range items {
			typ := c.typ
			if typ == detente.IdentifierIMO && d.Type != detente.EntityVessel {
				typ = detente.IdentifierIMOCompany
			}
			if id := euIdentifier(typ, it); id.Value != "" {
				d.Identifiers = appendIdentifier(d.Identifiers, id)
			}
		}
	}
	// nationality may name several countries ("Iranian and US"); those
	// the country table does not know are left out, as before.
	if i := h.index("nationality"); i >= 0 {
		nat := strings.NewReplacer(" and ", ";", ",", ";").Replace(h.rec[i])
		for _, n := range splitList(nat) {
			if c := CountryCode(n); c != "" {
				d.Nationalities = appendUnique(d.Nationalities, c)
			}
		}
	}
	return d, nil
}

package lists

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"detente"
)

// Limits on what one entry of a list file may hold (docs/lists.md,
// "Strictness"). A file that breaks any of them is refused whole. The real
// lists stay far below them: the longest name in the UN, OFAC and EU lists
// is 346 bytes, the longest remarks 1,727 bytes, the most aliases of one
// entity 95.
const (
	// MaxNameSize bounds a name or alias, in bytes.
	MaxNameSize = 1000
	// MaxFieldSize bounds every other short field that is kept: entity
	// id, type, regime, programme, nationality, date.
	MaxFieldSize = 1000
	// MaxRemarksSize bounds the remarks of one entry (OFAC's continued in
	// sdn_comments.csv included), and any field the loaders read but do
	// not keep (addresses, passport numbers, …).
	MaxRemarksSize = 64 << 10
	// MaxAliases bounds the names of one entity besides its primary one.
	MaxAliases = 1000
	// MaxValues bounds the dates of birth, the nationalities and the
	// programmes of one entity, each.
	MaxValues = 1000
	// MaxListedAhead is how far after the load a listing or delisting
	// date may lie: an authority may publish an issue a little before it
	// takes effect, never months before.
	MaxListedAhead = 31 * 24 * time.Hour
)

// hiddenRune returns the first control character (C0 but tab and line
// breaks, which the UN list has in names and read as spaces; C1; DEL) or
// bidi override, isolate or mark in s: they hide or reorder what an analyst reads
// (U+202E turns "ABC" into what looks like "CBA") and no authority's name
// holds one.
func hiddenRune(s string) (rune, bool) {
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7f && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f {
			return r, true
		}
	}
	return 0, false
}

// Check reports the first thing wrong with d, or nil: an empty entity id or
// name, an unknown type, a field over its limit (MaxNameSize, MaxFieldSize,
// MaxRemarksSize, MaxAliases, MaxValues), a date that is not a real
// calendar date, a date of birth after now, or a listing or delisting date
// more than MaxListedAhead after now. The loaders check each row as they
// read it, naming the file and line; Check is the rule every designation
// that reaches the store must meet, whatever built it.
func Check(d *detente.Designation, now time.Time) error {
	if d.EntityID == "" {
		return errors.New("no entity id")
	}
	if len(d.EntityID) > MaxFieldSize {
		return overLimit("entity id", len(d.EntityID), MaxFieldSize)
	}
	switch d.Type {
	case "", detente.EntityPerson, detente.EntityOrganization, detente.EntityVessel, detente.EntityAircraft, detente.EntityOther:
	default:
		return fmt.Errorf("type %q is not person, organization, vessel, aircraft or other", d.Type)
	}
	if d.PrimaryName() == "" {
		return errors.New("no name")
	}
	if len(d.Names) > MaxAliases+1 {
		return fmt.Errorf("%d aliases, over the limit of %d", len(d.Names)-1, MaxAliases)
	}
	for i, n := range d.Names {
		if n.Name == "" {
			return fmt.Errorf("name %d is empty", i+1)
		}
		if len(n.Name) > MaxNameSize {
			return overLimit(fmt.Sprintf("name %d", i+1), len(n.Name), MaxNameSize)
		}
		if r, ok := hiddenRune(n.Name); ok {
			return fmt.Errorf("name %d holds the invisible or control character %U: a name must read as it is stored", i+1, r)
		}
	}
	for _, f := range []struct {
		what string
		vs   []string
	}{{"dates of birth", d.DatesOfBirth}, {"nationalities", d.Nationalities}, {"programmes", d.Programs}} {
		if len(f.vs) > MaxValues {
			return fmt.Errorf("%d %s, over the limit of %d", len(f.vs), f.what, MaxValues)
		}
		for _, v := range f.vs {
			if v == "" {
				return fmt.Errorf("an empty value among the %s", f.what)
			}
			if len(v) > MaxFieldSize {
				return overLimit("one of the "+f.what, len(v), MaxFieldSize)
			}
		}
	}
	if len(d.Regime) > MaxFieldSize {
		return overLimit("regime", len(d.Regime), MaxFieldSize)
	}
	if len(d.Remarks) > MaxRemarksSize {
		return overLimit("remarks", len(d.Remarks), MaxRemarksSize)
	}
	if len(d.Identifiers) > MaxValues {
		return fmt.Errorf("%d identifiers, over the limit of %d", len(d.Identifiers), MaxValues)
	}
	for i, id := range d.Identifiers {
		if !slices.Contains(detente.IdentifierTypes, id.Type) {
			return fmt.Errorf("identifier %d: type %q is not one of %s", i+1, id.Type, strings.Join(detente.IdentifierTypes, ", "))
		}
		if id.Value == "" {
			return fmt.Errorf("identifier %d is empty", i+1)
		}
		if len(id.Value)+len(id.Chain)+len(id.Country) > MaxFieldSize {
			return overLimit(fmt.Sprintf("identifier %d", i+1), len(id.Value)+len(id.Chain)+len(id.Country), MaxFieldSize)
		}
	}
	for _, dob := range d.DatesOfBirth {
		if err := checkBirthDate(dob, now); err != nil {
			return fmt.Errorf("date of birth %q %w", dob, err)
		}
	}
	if d.ListedOn != "" {
		if err := checkListingDate(d.ListedOn, now); err != nil {
			return fmt.Errorf("listing date %q %w", d.ListedOn, err)
		}
	}
	if d.DelistedOn != "" {
		if err := checkListingDate(d.DelistedOn, now); err != nil {
			return fmt.Errorf("delisting date %q %w", d.DelistedOn, err)
		}
	}
	return nil
}

func overLimit(what string, n, limit int) error {
	return fmt.Errorf("%s is %d bytes, over the %d-byte limit", what, n, limit)
}

// checkDate reports whether d, in one of the forms ParseDate returns
// (YYYY, YYYY-MM, YYYY-MM-DD), is a real calendar date. Its errors read
// after the date: `"2099-13-45" ` + err.Error().
func checkDate(d string) error {
	switch {
	case len(d) == 4 && allDigits(d):
		return nil
	case len(d) == 7 && d[4] == '-' && allDigits(d[:4]+d[5:]):
		if m, _ := strconv.Atoi(d[5:]); m < 1 || m > 12 {
			return fmt.Errorf("is not a valid date: month %d does not exist", m)
		}
		return nil
	case len(d) == 10 && d[4] == '-' && d[7] == '-' && allDigits(d[:4]+d[5:7]+d[8:]):
		if m, _ := strconv.Atoi(d[5:7]); m < 1 || m > 12 {
			return fmt.Errorf("is not a valid date: month %d does not exist", m)
		}
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			day, _ := strconv.Atoi(d[8:])
			return fmt.Errorf("is not a valid date: day %d does not exist in %s", day, d[:7])
		}
		return nil
	}
	return errors.New("is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD")
}

// checkBirthDate reports whether d is a real date that is not after now.
// A partial date is in the future only when its whole year or month is.
func checkBirthDate(d string, now time.Time) error {
	if err := checkDate(d); err != nil {
		return err
	}
	if d > now.UTC().Format(time.DateOnly)[:len(d)] {
		return errors.New("is in the future")
	}
	return nil
}

// checkListingDate reports whether d is a full, real date at most
// MaxListedAhead after now.
func checkListingDate(d string, now time.Time) error {
	if err := checkDate(d); err != nil {
		return err
	}
	if len(d) != 10 {
		return errors.New("is not a full date (YYYY-MM-DD)")
	}
	if limit := now.Add(MaxListedAhead).UTC().Format(time.DateOnly); d > limit {
		return fmt.Errorf("is more than %d days in the future", MaxListedAhead/(24*time.Hour))
	}
	return nil
}

// parseBirthDate reads a date of birth in any form ParseDate knows and
// checks it with checkBirthDate.
func parseBirthDate(s string, now time.Time) (string, error) {
	d := ParseDate(s)
	if d == "" {
		return "", fmt.Errorf("%q is not a date (YYYY, YYYY-MM, YYYY-MM-DD, DD.MM.YYYY or 10 Dec 1948)", s)
	}
	if err := checkBirthDate(d, now); err != nil {
		return "", fmt.Errorf("%q %w", s, err)
	}
	return d, nil
}

// parseListingDate reads a listing or delisting date in any form ParseDate
// knows and checks it with checkListingDate.
func parseListingDate(s string, now time.Time) (string, error) {
	d := ParseDate(s)
	if d == "" {
		return "", fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	if err := checkListingDate(d, now); err != nil {
		return "", fmt.Errorf("%q %w", s, err)
	}
	return d, nil
}

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
	"strings"

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
	DataID         string    `xml:"DATAID"`
	First          string    `xml:"FIRST_NAME"`
	Second         string    `xml:"SECOND_NAME"`
	Third          string    `xml:"THIRD_NAME"`
	Fourth         string    `xml:"FOURTH_NAME"`
	ListType       string    `xml:"UN_LIST_TYPE"`
	Reference      string    `xml:"REFERENCE_NUMBER"`
	ListedOn       string    `xml:"LISTED_ON"`
	OriginalScript string    `xml:"NAME_ORIGINAL_SCRIPT"`
	Comments       string    `xml:"COMMENTS1"`
	Nationality    []string  `xml:"NATIONALITY>VALUE"`
	IndAliases     []unAlias `xml:"INDIVIDUAL_ALIAS"`
	EntAliases     []unAlias `xml:"ENTITY_ALIAS"`
	DOBs           []unDOB   `xml:"INDIVIDUAL_DATE_OF_BIRTH"`
}

// LoadUN reads the UN Security Council Consolidated List XML
// (https://scsanctions.un.org/resources/xml/en/consolidated.xml). Individuals
// become persons and entities organisations; aliases of quality "Low"
// become weak aliases; NAME_ORIGINAL_SCRIPT becomes an original-script
// name; the UN list type (Al-Qaida, DRC, Iraq, …) is the regime.
func LoadUN(r io.Reader) ([]detente.Designation, error) {
	dec := xml.NewDecoder(r)
	var out []detente.Designation
	sawRoot := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read un list: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "CONSOLIDATED_LIST":
			sawRoot = true
		case "INDIVIDUAL", "ENTITY":
			var e unEntry
			if err := dec.DecodeElement(&e, &se); err != nil {
				return nil, fmt.Errorf("read un list entry: %w", err)
			}
			d := unDesignation(&e, se.Name.Local == "INDIVIDUAL")
			if len(d.Names) > 0 {
				out = append(out, d)
			}
		}
	}
	if !sawRoot {
		return nil, errors.New("read un list: no CONSOLIDATED_LIST element")
	}
	return out, nil
}

func unDesignation(e *unEntry, person bool) detente.Designation {
	d := detente.Designation{
		Authority: AuthorityUN,
		EntityID:  strings.TrimSpace(e.Reference),
		Type:      detente.EntityOrganization,
		Regime:    strings.TrimSpace(e.ListType),
		ListedOn:  strings.TrimSpace(e.ListedOn),
		Remarks:   strings.TrimSpace(e.Comments),
	}
	if d.EntityID == "" {
		d.EntityID = strings.TrimSpace(e.DataID)
	}
	if d.Regime != "" {
		d.Programs = []string{d.Regime}
	}
	if person {
		d.Type = detente.EntityPerson
	}
	var parts []string
	for _, p := range []string{e.First, e.Second, e.Third, e.Fourth} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) > 0 {
		d.Names = append(d.Names, detente.DesignationName{Name: strings.Join(parts, " "), Kind: detente.NameKindPrimary, Script: "Latn"})
	}
	if os := strings.TrimSpace(e.OriginalScript); os != "" {
		d.Names = append(d.Names, detente.DesignationName{Name: os, Kind: detente.NameKindOriginalScript, Script: ScriptOf(os)})
	}
	for _, a := range append(e.IndAliases, e.EntAliases...) {
		n := strings.TrimSpace(a.Name)
		if n == "" {
			continue
		}
		kind := detente.NameKindAlias
		if strings.EqualFold(strings.TrimSpace(a.Quality), "low") {
			kind = detente.NameKindWeakAlias
		}
		d.Names = append(d.Names, detente.DesignationName{Name: n, Kind: kind, Script: ScriptOf(n)})
	}
	for _, b := range e.DOBs {
		switch {
		case b.Date != "":
			d.DatesOfBirth = appendUnique(d.DatesOfBirth, strings.TrimSpace(b.Date))
		case b.Year != "":
			d.DatesOfBirth = appendUnique(d.DatesOfBirth, strings.TrimSpace(b.Year))
		case b.FromYear != "" && b.ToYear != "":
			var from, to int
			if _, err := fmt.Sscan(b.FromYear, &from); err == nil {
				if _, err := fmt.Sscan(b.ToYear, &to); err == nil && to >= from && to-from <= 10 {
					for y := from; y <= to; y++ {
						d.DatesOfBirth = appendUnique(d.DatesOfBirth, fmt.Sprint(y))
					}
				}
			}
		}
	}
	for _, n := range e.Nationality {
		if c := CountryCode(n); c != "" {
			d.Nationalities = appendUnique(d.Nationalities, c)
		}
	}
	return d
}

func appendUnique(ss []string, s string) []string {
	for _, x := range ss {
		if x == s {
			return ss
		}
	}
	return append(ss, s)
}

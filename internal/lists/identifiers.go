package lists

import (
	"regexp"
	"strings"

	"detente"
)

// ofacIDLabels maps the labels OFAC writes before an identifier in an
// entry's remarks ("Passport 1084010 (Egypt)"; "alt. " before a second
// one) to the identifier type. Labels are matched in order: the IMO ones
// before the generic "Identification Number". Tax, registration, electoral
// and licence numbers are not identifiers screening knows.
var ofacIDLabels = []struct {
	re  *regexp.Regexp
	typ string
}{
	{regexp.MustCompile(`^Digital Currency Address - ([A-Za-z0-9]+)\s+(.+)$`), detente.IdentifierWallet},
	{regexp.MustCompile(`^Vessel Registration Identification IMO\s+(.+)$`), detente.IdentifierIMO},
	{regexp.MustCompile(`^(?:Company Number|Identification Number) IMO\s+(.+)$`), detente.IdentifierIMOCompany},
	{regexp.MustCompile(`^SWIFT/BIC\s+(.+)$`), detente.IdentifierBIC},
	{regexp.MustCompile(`^IBAN\s+(.+)$`), detente.IdentifierIBAN},
	{regexp.MustCompile(`^Aircraft Tail Number\s+(.+)$`), detente.IdentifierAircraft},
	{regexp.MustCompile(`^(?:Diplomatic |Official |Service )?Passport\s+(.+)$`), detente.IdentifierPassport},
	{regexp.MustCompile(`^(?:National ID No\.|Cedula No\.|C\.U\.R\.P\.|D\.N\.I\.|Identification Number|Personal ID Card|Numero de Identidad|Citizen's Card Number|Turkish Identificiation Number|Turkish Identification Number|Kenyan ID No\.|Tazkira National ID Card|National Foreign ID Number)\s+(.+)$`), detente.IdentifierNationalID},
}

// ofacIDTail splits an identifier's value from what follows it: the
// issuing state in brackets, an issue or expiry date.
var ofacIDTail = regexp.MustCompile(`^(.+?)(?:\s*\(([^()]*)\))?(?:\s*,?\s+(?:issued|expires|expired|exp\.|valid)\b.*)?$`)

// ofacIdentifiers reads the identifiers in the remarks of an SDN entry
// (continued from sdn_comments.csv): wallets ("Digital Currency Address -
// XBT …"), passports and national IDs by their labels with the issuing
// state in brackets when OFAC gives it, SWIFT/BIC, IBAN, vessel and company
// IMO numbers and aircraft tail numbers; and an aircraft entry's name,
// which is its registration. Values are kept as written.
func ofacIdentifiers(d *detente.Designation) {
	for _, part := range strings.Split(d.Remarks, ";") {
		part = strings.TrimSpace(part)
		part = strings.TrimPrefix(part, "alt. ")
		part = strings.TrimRight(part, ". \"")
		for _, l := range ofacIDLabels {
			m := l.re.FindStringSubmatch(part)
			if m == nil {
				continue
			}
			id := detente.DesignationIdentifier{Type: l.typ}
			rest := m[len(m)-1]
			if l.typ == detente.IdentifierWallet {
				id.Chain = strings.ToUpper(m[1])
				if f := strings.Fields(rest); len(f) > 0 {
					id.Value = f[0]
				}
			} else {
				t := ofacIDTail.FindStringSubmatch(rest)
				id.Value = strings.TrimSpace(t[1])
				if t[2] != "" && (l.typ == detente.IdentifierPassport || l.typ == detente.IdentifierNationalID) {
					id.Country = CountryCode(t[2])
				}
			}
			numeric := l.typ != detente.IdentifierBIC && l.typ != detente.IdentifierAircraft
			if id.Value != "" && (hasDigit(id.Value) || !numeric) {
				d.Identifiers = appendIdentifier(d.Identifiers, id)
			}
			break
		}
	}
	if d.Type == detente.EntityAircraft {
		if n := d.PrimaryName(); aircraftMark.MatchString(n) {
			d.Identifiers = appendIdentifier(d.Identifiers, detente.DesignationIdentifier{Type: detente.IdentifierAircraft, Value: n})
		}
	}
}

// aircraftMark matches an aircraft registration as the name of an entry:
// a nationality mark and a registration mark (EP-GOM, YI-AQA, 4X-ABC,
// N488RC).
var aircraftMark = regexp.MustCompile(`^[A-Z0-9]{1,3}-?[A-Z0-9]{1,6}$`)

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }

func appendIdentifier(ids []detente.DesignationIdentifier, id detente.DesignationIdentifier) []detente.DesignationIdentifier {
	for _, o := range ids {
		if o == id {
			return ids
		}
	}
	return append(ids, id)
}

// unDocument is one INDIVIDUAL_DOCUMENT of the UN list.
type unDocument struct {
	Type    string `xml:"TYPE_OF_DOCUMENT"`
	Type2   string `xml:"TYPE_OF_DOCUMENT2"`
	Number  string `xml:"NUMBER"`
	Issuing string `xml:"ISSUING_COUNTRY"`
	Country string `xml:"COUNTRY_OF_ISSUE"`
	Note    string `xml:"NOTE"`
}

// unNotDocuments are kinds of document the UN files under "National
// Identification Number" or "Passport" that are not identity or travel
// documents, or whose numbers are not identity numbers: left out.
var unNotDocuments = regexp.MustCompile(`(?i)birth|ration|social security|fiscal|tax|driv|military|electoral|nationality certificate|certificate of`)

// unNoteNumber finds a document number in a note when the document has no
// NUMBER: "Tunisian passport number L 191609 issued on …", "04643632
// issued on 18 Jun. 1999".
var unNoteNumber = regexp.MustCompile(`(?i)(?:^|(?:passport|identity|identification|id)(?: card)? (?:number|no\.?):?\s+)([A-Z]{0,3} ?[0-9][0-9A-Z\-/]{3,})`)

// unIMO finds a company's IMO number in the comments of a UN entity:
// "International Maritime Organization (IMO) Number: 1790183", "IMO
// number: 5571322".
var unIMO = regexp.MustCompile(`(?i)\bIMO\)? (?:Number|No\.?):?\s*([0-9]{7})\b`)

// unIdentifiers reads the documents of a UN entry, with their issuing
// state (ISSUING_COUNTRY, else COUNTRY_OF_ISSUE) when the UN gives one the
// country table knows, and the IMO numbers in an entity's comments.
func unIdentifiers(d *detente.Designation, docs []unDocument) {
	for _, doc := range docs {
		kind := strings.ToLower(doc.Type)
		var typ string
		switch {
		case strings.Contains(kind, "pas"):
			typ = detente.IdentifierPassport
		case strings.Contains(kind, "identification"):
			typ = detente.IdentifierNationalID
		default:
			continue
		}
		if unNotDocuments.MatchString(doc.Type2) {
			continue
		}
		num := strings.TrimSpace(doc.Number)
		if num == "" {
			if unNotDocuments.MatchString(doc.Note) {
				continue
			}
			m := unNoteNumber.FindStringSubmatch(strings.TrimSpace(doc.Note))
			if m == nil {
				continue
			}
			num = strings.TrimSpace(m[1])
		}
		if !hasDigit(num) || len(num) > MaxFieldSize {
			continue
		}
		id := detente.DesignationIdentifier{Type: typ, Value: num}
		for _, c := range []string{doc.Issuing, doc.Country} {
			if cc := CountryCode(strings.TrimSpace(c)); cc != "" {
				id.Country = cc
				break
			}
		}
		if f := strings.Fields(doc.Note); id.Country == "" && len(f) > 1 && strings.Contains(strings.ToLower(doc.Note), strings.ToLower(num)) {
			id.Country = CountryCode(f[0]) // "Tunisian passport number L 191609"
		}
		d.Identifiers = appendIdentifier(d.Identifiers, id)
	}
	if d.Type != detente.EntityPerson {
		for _, m := range unIMO.FindAllStringSubmatch(d.Remarks, -1) {
			d.Identifiers = appendIdentifier(d.Identifiers, detente.DesignationIdentifier{Type: detente.IdentifierIMOCompany, Value: m[1]})
		}
	}
}

// euIdentifier reads one item of the EU file's passportNumber or idNumber
// column: "C2002515 (Iran)".
func euIdentifier(typ, item string) detente.DesignationIdentifier {
	id := detente.DesignationIdentifier{Type: typ, Value: strings.TrimSpace(item)}
	if t := ofacIDTail.FindStringSubmatch(id.Value); t != nil && t[2] != "" {
		id.Value = strings.TrimSpace(t[1])
		if typ == detente.IdentifierPassport || typ == detente.IdentifierNationalID {
			id.Country = CountryCode(t[2])
		}
	}
	return id
}

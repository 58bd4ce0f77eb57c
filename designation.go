package detente

// EntityType is the kind of thing a designation names.
type EntityType string

// The entity types a designation can carry. Authorities that do not say what
// they list (OFAC marks only individuals, vessels and aircraft) get
// EntityOrganization for the rest.
const (
	EntityPerson       EntityType = "person"
	EntityOrganization EntityType = "organization"
	EntityVessel       EntityType = "vessel"
	EntityAircraft     EntityType = "aircraft"
	EntityOther        EntityType = "other"
)

// Name kinds used in DesignationName.Kind.
const (
	NameKindPrimary        = "primary"         // the name the authority lists the entity under
	NameKindAlias          = "alias"           // a good-quality alias (a.k.a., f.k.a., n.k.a.)
	NameKindWeakAlias      = "weak-alias"      // a low-quality alias, too broad to screen on alone
	NameKindOriginalScript = "original-script" // the name written in its original script
)

// Designation records that one authority lists one entity under one regime:
// "authority A lists entity E under regime R from date D (to D′)".
// Designations are kept per authority and never merged: two authorities
// listing the same person give two designations, and the screening engine
// shows where they agree and where they diverge.
type Designation struct {
	// Authority names who publishes the list: "un", "ofac", "eu", or a
	// partner's short name.
	Authority string `json:"authority"`
	// EntityID is the authority's own reference for the entry, e.g. the UN
	// reference number "QDi.001" or the OFAC ent_num "2674".
	EntityID string `json:"entity_id"`
	// Type is what kind of entity is listed.
	Type EntityType `json:"type"`
	// Names holds the primary name first, then aliases and original-script
	// forms.
	Names []DesignationName `json:"names"`
	// DatesOfBirth holds dates as YYYY, YYYY-MM or YYYY-MM-DD.
	DatesOfBirth []string `json:"dates_of_birth,omitempty"`
	// Nationalities holds ISO 3166 alpha-2 codes where the country is known,
	// and the authority's text otherwise.
	Nationalities []string `json:"nationalities,omitempty"`
	// Regime is the sanctions regime or list, e.g. "Al-Qaida" or "SDGT".
	Regime string `json:"regime,omitempty"`
	// Programs lists the authority's programme codes when it has several.
	Programs []string `json:"programs,omitempty"`
	// ListedOn is the listing date, YYYY-MM-DD, when the authority gives it.
	ListedOn string `json:"listed_on,omitempty"`
	// DelistedOn is the delisting date, YYYY-MM-DD, empty while listed.
	DelistedOn string `json:"delisted_on,omitempty"`
	// Remarks is the authority's free text about the entry.
	Remarks string `json:"remarks,omitempty"`
	// Identifiers are the entry's typed identifiers (wallets, travel and
	// identity documents, IBANs, BICs, IMO numbers, aircraft
	// registrations), as the authority writes them.
	Identifiers []DesignationIdentifier `json:"identifiers,omitempty"`
}

// Identifier types used in DesignationIdentifier.Type.
const (
	IdentifierWallet     = "wallet"      // a crypto-currency address, with its chain
	IdentifierPassport   = "passport"    // a passport number, with its issuing state when known
	IdentifierNationalID = "national-id" // a national identity number, with its issuing state when known
	IdentifierIBAN       = "iban"        // an international bank account number (ISO 13616)
	IdentifierBIC        = "bic"         // a SWIFT/BIC code (ISO 9362)
	IdentifierIMO        = "imo"         // a ship's IMO number (with its check digit)
	IdentifierIMOCompany = "imo-company" // a ship owner's or manager's IMO company number (no check digit)
	IdentifierAircraft   = "aircraft"    // an aircraft registration (tail number)
)

// IdentifierTypes lists every identifier type, in the order they are
// documented.
var IdentifierTypes = []string{IdentifierWallet, IdentifierPassport, IdentifierNationalID, IdentifierIBAN,
	IdentifierBIC, IdentifierIMO, IdentifierIMOCompany, IdentifierAircraft}

// DesignationIdentifier is one typed identifier of a designation, as the
// authority writes it: screening canonicalises it and looks it up exactly.
type DesignationIdentifier struct {
	// Type is one of the Identifier… constants.
	Type string `json:"type"`
	// Value is the identifier as written.
	Value string `json:"value"`
	// Chain is a wallet's blockchain or currency as the authority names it
	// (XBT, ETH, USDT, …).
	Chain string `json:"chain,omitempty"`
	// Country is the issuing state of a passport or national identity
	// document: an ISO 3166 alpha-2 code, empty when the authority does not
	// say.
	Country string `json:"country,omitempty"`
}

// PrimaryName returns the first primary name of d, or its first name of any
// kind, or "" when d has no names.
func (d *Designation) PrimaryName() string {
	for _, n := range d.Names {
		if n.Kind == NameKindPrimary {
			return n.Name
		}
	}
	if len(d.Names) > 0 {
		return d.Names[0].Name
	}
	return ""
}

// Key returns the identity of d within its authority's lists:
// "authority/entity_id".
func (d *Designation) Key() string { return d.Authority + "/" + d.EntityID }

// DesignationName is one name under which a designation is listed.
type DesignationName struct {
	// Name is the name as the authority writes it.
	Name string `json:"name"`
	// Kind is one of the NameKind… constants.
	Kind string `json:"kind"`
	// Script is the ISO 15924 code of the name's script ("Latn", "Arab",
	// "Cyrl", …) when known.
	Script string `json:"script,omitempty"`
}

// Kinds of change between two issues of one authority's list.
const (
	DiffAdded   = "added"
	DiffRemoved = "removed"
	DiffChanged = "changed"
)

// DesignationDiff is one difference between two issues of one authority's
// list: an entry added, removed (or delisted), or changed.
type DesignationDiff struct {
	// Change is DiffAdded, DiffRemoved or DiffChanged.
	Change string `json:"change"`
	// Authority and EntityID identify the entry.
	Authority string `json:"authority"`
	EntityID  string `json:"entity_id"`
	// Name is the entry's primary name (in the new issue when it has one).
	Name string `json:"name"`
	// Fields names what changed, e.g. "names", "dates_of_birth",
	// "delisted_on"; empty for additions and removals.
	Fields []string `json:"fields,omitempty"`
	// Old and New are the entry before and after; Old is nil for an
	// addition and New is nil for a removal.
	Old *Designation `json:"old,omitempty"`
	New *Designation `json:"new,omitempty"`
}

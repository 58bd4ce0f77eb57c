package lists

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"detente"
)

// DesignationExtensionID is the id of detente's STIX property extension
// for designations (docs/lists.md): an identity (or threat-actor) carrying
// it says "the node that signed this object designates this entity".
const DesignationExtensionID = "extension-definition--7e6c1f0a-5b2d-4e8a-9c3f-0d1e2f3a4b5c"

// stixDesignation is the extension's content.
type stixDesignation struct {
	ExtensionType string   `json:"extension_type"`
	EntityID      string   `json:"entity_id,omitempty"`
	EntityType    string   `json:"entity_type"`
	Aliases       []string `json:"aliases,omitempty"`
	DatesOfBirth  []string `json:"dates_of_birth,omitempty"`
	Nationalities []string `json:"nationalities,omitempty"`
	Regime        string   `json:"regime,omitempty"`
	Programs      []string `json:"programs,omitempty"`
	ListedOn      string   `json:"listed_on,omitempty"`
	DelistedOn    string   `json:"delisted_on,omitempty"`
	Remarks       string   `json:"remarks,omitempty"`
	// Identifiers are the designation's typed identifiers, as in
	// detente.DesignationIdentifier.
	Identifiers []detente.DesignationIdentifier `json:"identifiers,omitempty"`
}

// ToSTIX returns d as an unsigned STIX identity carrying the designation
// extension, marked with marking (a marking-definition id). The identity's
// id is derived from the authority and entity id, so a newer issue of the
// same designation is a new version of the same object.
func ToSTIX(d detente.Designation, marking string, modified time.Time) ([]byte, error) {
	h := sha256.Sum256([]byte("detente-designation/v1\n" + d.Authority + "\n" + d.EntityID))
	h[6] = h[6]&0x0f | 0x50 // a name-based UUID (version 5 layout)
	h[8] = h[8]&0x3f | 0x80
	u := hex.EncodeToString(h[:16])
	class := "organization"
	if d.Type == detente.EntityPerson {
		class = "individual"
	}
	ext := stixDesignation{ExtensionType: "property-extension", EntityID: d.EntityID, EntityType: string(d.Type),
		DatesOfBirth: d.DatesOfBirth, Nationalities: d.Nationalities, Regime: d.Regime, Programs: d.Programs,
		ListedOn: d.ListedOn, DelistedOn: d.DelistedOn, Remarks: d.Remarks, Identifiers: d.Identifiers}
	if ext.EntityType == "" {
		ext.EntityType = string(detente.EntityOther)
	}
	for _, n := range d.Names {
		if n.Name != d.PrimaryName() {
			ext.Aliases = append(ext.Aliases, n.Name)
		}
	}
	ts := modified.UTC().Format("2006-01-02T15:04:05.000Z")
	obj := map[string]any{
		"type": "identity", "spec_version": "2.1",
		"id":      fmt.Sprintf("identity--%s-%s-%s-%s-%s", u[:8], u[8:12], u[12:16], u[16:20], u[20:]),
		"created": ts, "modified": ts, "name": d.PrimaryName(), "identity_class": class,
		"extensions": map[string]any{DesignationExtensionID: ext},
	}
	if marking != "" {
		obj["object_marking_refs"] = []string{marking}
	}
	return json.Marshal(obj)
}

// FromSTIX reads a designation from a STIX identity or threat-actor's
// decoded fields, when it carries the designation extension; authority is
// who the designation is attributed to (the node that signed it). It
// returns false when the object carries no designation.
func FromSTIX(id string, fields map[string]any, authority string) (*detente.Designation, bool, error) {
	exts, _ := fields["extensions"].(map[string]any)
	raw, ok := exts[DesignationExtensionID]
	if !ok {
		return nil, false, nil
	}
	b, _ := json.Marshal(raw)
	var x stixDesignation
	if err := json.Unmarshal(b, &x); err != nil {
		return nil, false, fmt.Errorf("%s: designation extension: %w", id, err)
	}
	name, _ := fields["name"].(string)
	if name == "" {
		return nil, false, fmt.Errorf("%s: a designation needs a name", id)
	}
	d := &detente.Designation{Authority: authority, EntityID: id, Type: detente.EntityType(x.EntityType),
		Names:        []detente.DesignationName{{Name: name, Kind: detente.NameKindPrimary, Script: ScriptOf(name)}},
		DatesOfBirth: x.DatesOfBirth, Nationalities: x.Nationalities, Regime: x.Regime, Programs: x.Programs,
		ListedOn: x.ListedOn, DelistedOn: x.DelistedOn, Remarks: x.Remarks, Identifiers: x.Identifiers}
	if x.EntityID != "" {
		d.EntityID = x.EntityID
	}
	switch d.Type {
	case detente.EntityPerson, detente.EntityOrganization, detente.EntityVessel, detente.EntityAircraft, detente.EntityOther:
	default:
		return nil, false, fmt.Errorf("%s: designation entity_type %q is not person, organization, vessel, aircraft or other", id, x.EntityType)
	}
	for _, a := range x.Aliases {
		kind := detente.NameKindAlias
		if s := ScriptOf(a); s != "Latn" && s != "" {
			kind = detente.NameKindOriginalScript
		}
		d.Names = append(d.Names, detente.DesignationName{Name: a, Kind: kind, Script: ScriptOf(a)})
	}
	return d, true, nil
}

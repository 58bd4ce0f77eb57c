package stix

import (
	"encoding/json"
	"fmt"

	"detente"
)

func checkIndicator(c *checker) error {
	if p, ok := c.o["pattern"].(string); ok && c.o["pattern_type"] == "stix" {
		if err := checkPattern(p); err != nil {
			return c.errf("pattern", "offset %d: %s", err.Offset, err.Message)
		}
	}
	return c.notBefore("valid_from", "valid_until", true)
}

func checkLocation(c *checker) error {
	lat, long := c.has("latitude"), c.has("longitude")
	if lat != long {
		return c.errf("latitude", "latitude and longitude must be given together")
	}
	if !c.has("region") && !c.has("country") && !lat {
		return c.errf("", "a location needs region, country, or latitude and longitude")
	}
	if c.has("precision") && !lat {
		return c.errf("precision", "needs latitude and longitude")
	}
	for prop, lim := range map[string]float64{"latitude": 90, "longitude": 180} {
		if n, ok := c.o[prop].(json.Number); ok {
			if f, err := n.Float64(); err != nil || f < -lim || f > lim {
				return c.errf(prop, "must be between %v and %v, got %s", -lim, lim, n)
			}
		}
	}
	return nil
}

func checkMalware(c *checker) error {
	if c.o["is_family"] == true && !c.has("name") {
		return c.errf("name", "required property missing (is_family is true)")
	}
	return nil
}

func checkMalwareAnalysis(c *checker) error {
	if !c.has("result") && !c.has("analysis_sco_refs") {
		return c.errf("result", "a malware-analysis needs result or analysis_sco_refs")
	}
	return c.notBefore("analysis_started", "analysis_ended", false)
}

func checkObservedData(c *checker) error {
	if err := c.intRange("number_observed", 1, 999_999_999); err != nil {
		return err
	}
	if err := c.notBefore("first_observed", "last_observed", false); err != nil {
		return err
	}
	switch o, r := c.has("objects"), c.has("object_refs"); {
	case o && r:
		return c.errf("objects", "must not be present together with object_refs")
	case !o && !r:
		return c.errf("object_refs", "required property missing")
	}
	return nil
}

func checkOpinion(c *checker) error {
	switch c.o["opinion"] {
	case "strongly-disagree", "disagree", "neutral", "agree", "strongly-agree":
		return nil
	}
	return c.errf("opinion", "must be one of strongly-disagree, disagree, neutral, agree, strongly-agree, got %s", show(c.o["opinion"]))
}

// notSDOorSCO lists the types a relationship or sighting may not point at.
var notSDOorSCO = map[string]bool{
	"relationship": true, "sighting": true, "marking-definition": true, "bundle": true,
	"language-content": true, "extension-definition": true,
}

func checkRelationship(c *checker) error {
	for _, p := range []string{"source_ref", "target_ref"} {
		s := c.o[p].(string)
		if t, _ := splitID(s); notSDOorSCO[t] {
			return c.errf(p, "must reference an SDO or SCO, got %q", s)
		}
	}
	return c.notBefore("start_time", "stop_time", true)
}

func checkSighting(c *checker) error {
	s := c.o["sighting_of_ref"].(string)
	if t, _ := splitID(s); notSDOorSCO[t] || scoTypes[t] {
		return c.errf("sighting_of_ref", "must reference an SDO, got %q", s)
	}
	if err := c.refsType("observed_data_refs", "observed-data"); err != nil {
		return err
	}
	if err := c.refsType("where_sighted_refs", "identity", "location"); err != nil {
		return err
	}
	return c.intRange("count", 0, 999_999_999)
}

func checkArtifact(c *checker) error {
	p, u := c.has("payload_bin"), c.has("url")
	switch {
	case p && u:
		return c.errf("url", "must not be present together with payload_bin")
	case !p && !u:
		return c.errf("payload_bin", "an artifact needs payload_bin or url")
	case u && !c.has("hashes"):
		return c.errf("hashes", "required property missing (url is present)")
	}
	return nil
}

func checkFile(c *checker) error {
	if !c.has("hashes") && !c.has("name") {
		return c.errf("name", "a file needs hashes or name")
	}
	return nil
}

func checkNetworkTraffic(c *checker) error {
	if !c.has("src_ref") && !c.has("dst_ref") {
		return c.errf("src_ref", "a network-traffic needs src_ref or dst_ref")
	}
	return nil
}

// tlp1Colour maps TLP 1.0 definition colours to their fixed ids.
var tlp1Colour = map[string]string{
	"white": detente.MarkingTLP1White, "green": detente.MarkingTLP1Green,
	"amber": detente.MarkingTLP1Amber, "red": detente.MarkingTLP1Red,
}

// tlp2Level maps tlp_2_0 values to their fixed ids.
var tlp2Level = map[string]string{
	"clear": detente.MarkingClear, "green": detente.MarkingGreen, "amber": detente.MarkingAmber,
	"amber+strict": detente.MarkingAmberStrict, "red": detente.MarkingRed,
}

func checkMarkingDefinition(c *checker) error {
	dt, hasType := c.o["definition_type"]
	def, hasDef := c.o["definition"]
	if !c.has("extensions") {
		if !hasType {
			return c.errf("definition_type", "required property missing (no extensions)")
		}
		if !hasDef {
			return c.errf("definition", "required property missing (no extensions)")
		}
	}
	if hasType != hasDef {
		return c.errf("definition", "definition and definition_type must be given together")
	}
	if !hasType {
		return nil
	}
	d := def.(map[string]any)
	switch dt {
	case "tlp":
		colour, _ := d["tlp"].(string)
		want, ok := tlp1Colour[colour]
		if !ok {
			return c.errf("definition.tlp", "must be one of white, green, amber, red, got %s", show(d["tlp"]))
		}
		if c.o["id"] != want {
			return c.errf("id", "a TLP %s marking must have the fixed id %s", colour, want)
		}
	case "statement":
		if _, ok := d["statement"].(string); !ok {
			return c.errf("definition.statement", "required string missing")
		}
	}
	return nil
}

func checkExtensionDefinition(c *checker) error {
	top := false
	for i, e := range c.o["extension_types"].([]any) {
		switch e {
		case "new-sdo", "new-sco", "new-sro", "property-extension":
		case "toplevel-property-extension":
			top = true
		default:
			return c.errf(fmt.Sprintf("extension_types.[%d]", i), "must be one of new-sdo, new-sco, new-sro, property-extension, toplevel-property-extension, got %s", show(e))
		}
	}
	if c.has("extension_properties") && !top {
		return c.errf("extension_properties", "only allowed with a toplevel-property-extension")
	}
	return c.refType("created_by_ref", "identity")
}

// checkTLP2Ext validates the OASIS TLP 2.0 property extension.
func (c *checker) checkTLP2Ext(path string, ev map[string]any) error {
	if c.typ != "marking-definition" {
		return c.errf(path, "the TLP 2.0 extension belongs on marking-definitions only")
	}
	level, _ := ev["tlp_2_0"].(string)
	want, ok := tlp2Level[level]
	if !ok {
		return c.errf(path+".tlp_2_0", "must be one of clear, green, amber, amber+strict, red, got %s", show(ev["tlp_2_0"]))
	}
	if c.o["id"] != want {
		return c.errf("id", "a TLP 2.0 %s marking must have the fixed id %s", level, want)
	}
	return nil
}

// checkCaveatExt validates a detente handling-caveat extension. The
// recipients of a releasable-to caveat are in "recipients"; the two-letter
// "to" is accepted as an alias on input but never written, because STIX
// property names have at least three characters.
func (c *checker) checkCaveatExt(path string, ev map[string]any) error {
	if c.typ != "marking-definition" {
		return c.errf(path, "the detente caveat extension belongs on marking-definitions only")
	}
	if ev["extension_type"] != "property-extension" {
		return c.errf(path+".extension_type", "must be property-extension")
	}
	for k := range ev {
		switch k {
		case "extension_type", "caveat", "recipients", "to", "purpose":
		default:
			return c.errf(path+"."+k, "unknown property of the detente caveat extension")
		}
	}
	recipients := "recipients"
	if _, ok := ev["to"]; ok {
		if _, both := ev["recipients"]; both {
			return c.errf(path+".to", "must not be given together with recipients")
		}
		recipients = "to"
	}
	if to, ok := ev[recipients]; ok {
		if err := c.checkKind(path+"."+recipients, kStrings, to); err != nil {
			return err
		}
	}
	if p, ok := ev["purpose"]; ok {
		if s, _ := p.(string); s == "" {
			return c.errf(path+".purpose", "must be a non-empty string")
		}
	}
	switch kind, _ := ev["caveat"].(string); kind {
	case detente.CaveatThirdPartyRule, detente.CaveatFingerprint:
	case detente.CaveatReleasableTo:
		if ev[recipients] == nil {
			return c.errf(path+".recipients", "required for a releasable-to caveat")
		}
	case detente.CaveatPurpose:
		if ev["purpose"] == nil {
			return c.errf(path+".purpose", "required for a purpose caveat")
		}
	default:
		return c.errf(path+".caveat", "must be one of third-party-rule, releasable-to, purpose, fingerprint, got %s", show(ev["caveat"]))
	}
	return nil
}

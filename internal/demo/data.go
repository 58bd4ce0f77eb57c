package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"detente"
	"detente/internal/stix"
)

// uuid returns a fixed version-4-shaped UUID for (ns, n), so the demo's
// objects have stable ids between runs.
func uuid(ns string, n int) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("detente-demo/%s/%d", ns, n)))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	s := hex.EncodeToString(h[:16])
	return fmt.Sprintf("%s-%s-%s-%s-%s", s[:8], s[8:12], s[12:16], s[16:20], s[20:])
}

func ts(t time.Time) string { return stix.FormatTimestamp(t) }

var (
	green = detente.MarkingGreen
	amber = detente.MarkingAmber
	red   = detente.MarkingRed
	clear = detente.MarkingClear
)

func agencies() []*Agency {
	return []*Agency{
		{Name: "alpha", Title: "Northmark Joint Counter-Terrorism Centre (fictitious)", sample: alphaSample},
		{Name: "bravo", Title: "Esterian Coastal Security Bureau (fictitious)", sample: bravoSample},
		{Name: "charlie", Title: "Valdorian Internal Security Service (fictitious)", sample: charlieSample},
	}
}

// agreementsOf returns the agreement documents a demo node holds.
func agreementsOf(name string, now time.Time) []map[string]any {
	types := []string{"indicator", "report", "threat-actor", "identity", "relationship", "marking-definition"}
	terms := func(partner, ceiling, onward string) map[string]any {
		return map[string]any{"partner": partner, "from": now.AddDate(0, -1, 0), "until": now.AddDate(1, 0, 0),
			"tlp_ceiling": ceiling, "types": types, "onward_sharing": onward, "purpose": "counter-terrorism",
			"match": map[string]any{"evaluations": 10000, "period": "720h", "max_set_size": 100000, "modes": []string{"query", "bulk", "count"}}}
	}
	switch name {
	case "alpha":
		// alpha expects charlie, a partner that mostly takes, to give back
		// half as much again as it gets (docs/ledger.md); charlie does not,
		// and is held (reciprocity.go).
		withCharlie := terms("charlie", "green", detente.OnwardThirdPartyRule)
		withCharlie["reciprocity"] = map[string]any{"window": "720h", "min_ratio": 1.5, "action": detente.ReciprocityHold}
		return []map[string]any{terms("bravo", "amber", detente.OnwardThirdPartyRule), withCharlie}
	case "bravo":
		return []map[string]any{terms("alpha", "amber", detente.OnwardThirdPartyRule), terms("charlie", "green", detente.OnwardNone)}
	default:
		return []map[string]any{terms("alpha", "green", detente.OnwardThirdPartyRule), terms("bravo", "green", detente.OnwardNone)}
	}
}

// sdo returns the common properties of a demo object.
func sdo(typ, ns string, n int, created time.Time, by string, markings ...string) map[string]any {
	o := map[string]any{"type": typ, "spec_version": "2.1", "id": typ + "--" + uuid(ns, n),
		"created": ts(created), "modified": ts(created)}
	if by != "" {
		o["created_by_ref"] = by
	}
	if len(markings) > 0 {
		o["object_marking_refs"] = markings
	}
	return o
}

func with(o map[string]any, kv ...any) map[string]any {
	for i := 0; i+1 < len(kv); i += 2 {
		o[kv[i].(string)] = kv[i+1]
	}
	return o
}

func indicator(ns string, n int, t time.Time, by, name, pattern string, markings ...string) map[string]any {
	return with(sdo("indicator", ns, n, t, by, markings...), "name", name, "pattern", pattern,
		"pattern_type", "stix", "valid_from", ts(t), "indicator_types", []string{"malicious-activity"})
}

func alphaSample(now time.Time) []map[string]any {
	t := now.Add(-72 * time.Hour).Truncate(time.Second)
	const ns = "alpha"
	org := with(sdo("identity", ns, 1, t, "", clear), "name", "Northmark Joint Counter-Terrorism Centre", "identity_class", "organization")
	by := org["id"].(string)
	actor := with(sdo("threat-actor", ns, 2, t, by, green), "name", "Black Meridian Front",
		"aliases", []string{"BMF", "Meridian Brigades"}, "threat_actor_types", []string{"terrorist"},
		"description", "Fictitious violent extremist group used in the detente demo. Recruits through messaging channels; funded by crypto donations.")
	handle := indicator(ns, 3, t, by, "BMF propaganda channel handle", "[user-account:account_login = 'blackmeridian_news']", green)
	site := indicator(ns, 4, t, by, "BMF propaganda site", "[domain-name:value = 'meridian-voice.example']", green)
	wallet := indicator(ns, 5, t, by, "BMF donation wallet", "[x-detente-wallet:address = 'bc1qdemo0meridian0donations0not0real']", amber)
	source := indicator(ns, 6, t, by, "Handler phone from a protected source", "[user-account:account_login = '+000 555 0100']", red)
	rel := with(sdo("relationship", ns, 7, t, by, green), "relationship_type", "indicates",
		"source_ref", handle["id"], "target_ref", actor["id"])
	onlyBravo := map[string]any{}
	_ = json.Unmarshal(stix.NewCaveatMarking(detente.CaveatReleasableTo, []string{"bravo"}, "", t), &onlyBravo)
	boat := indicator(ns, 8, t, by, "Courier vessel contact handle (for the coastal partner only)",
		"[user-account:account_login = 'tide_courier_77']", green, onlyBravo["id"].(string))
	report := with(sdo("report", ns, 9, t, by, amber), "name", "Black Meridian Front: financing through crypto donations",
		"published", ts(t), "report_types", []string{"threat-actor"},
		"description", "Assessment of BMF fundraising. Shared with partners under the third-party rule.",
		"object_refs", []string{actor["id"].(string), handle["id"].(string), site["id"].(string), wallet["id"].(string), rel["id"].(string)})
	leaky := with(sdo("report", ns, 10, t, by, green), "name", "BMF recruitment channels (cites a protected source)",
		"published", ts(t), "report_types", []string{"threat-actor"},
		"object_refs", []string{actor["id"].(string), handle["id"].(string), source["id"].(string)})
	return []map[string]any{org, actor, handle, site, wallet, source, rel, onlyBravo, boat, report, leaky}
}

func bravoSample(now time.Time) []map[string]any {
	t := now.Add(-48 * time.Hour).Truncate(time.Second)
	const ns = "bravo"
	org := with(sdo("identity", ns, 1, t, "", clear), "name", "Esterian Coastal Security Bureau", "identity_class", "organization")
	by := org["id"].(string)
	actor := with(sdo("threat-actor", ns, 2, t, by, green), "name", "Sons of the Tide",
		"threat_actor_types", []string{"terrorist"}, "description", "Fictitious maritime smuggling network linked to violent extremism.")
	ind := indicator(ns, 3, t, by, "Smuggling coordination channel", "[user-account:account_login = 'sons_of_tide_ops']", green)
	rel := with(sdo("relationship", ns, 4, t, by, green), "relationship_type", "indicates", "source_ref", ind["id"], "target_ref", actor["id"])
	report := with(sdo("report", ns, 5, t, by, green), "name", "Sons of the Tide: coastal logistics", "published", ts(t),
		"report_types", []string{"threat-actor"}, "object_refs", []string{actor["id"].(string), ind["id"].(string), rel["id"].(string)})
	return []map[string]any{org, actor, ind, rel, report}
}

func charlieSample(now time.Time) []map[string]any {
	t := now.Add(-24 * time.Hour).Truncate(time.Second)
	const ns = "charlie"
	org := with(sdo("identity", ns, 1, t, "", clear), "name", "Valdorian Internal Security Service", "identity_class", "organization")
	by := org["id"].(string)
	actor := with(sdo("threat-actor", ns, 2, t, by, green), "name", "Meridian Front", "aliases", []string{"BMF"},
		"threat_actor_types", []string{"terrorist", "activist"}, "description", "Valdoria lists only the group's armed wing; it regards the rest as a political movement.")
	ind := indicator(ns, 3, t, by, "Meridian Front video channel", "[url:value = 'https://video.example/meridianfront']", green)
	report := with(sdo("report", ns, 4, t, by, green), "name", "Meridian Front: armed wing activity", "published", ts(t),
		"report_types", []string{"threat-actor"}, "object_refs", []string{actor["id"].(string), ind["id"].(string)})
	return []map[string]any{org, actor, ind, report}
}

// designationsOf returns a demo agency's own (fictitious) designations.
// They partly disagree on purpose: alpha lists the Black Meridian Front
// whole, charlie only its armed wing; bravo lists a shipping front that no
// one else does; the names are spelt differently on each side.
func designationsOf(name string) []detente.Designation {
	org, person := detente.EntityOrganization, detente.EntityPerson
	n := func(s string, kind string) detente.DesignationName {
		return detente.DesignationName{Name: s, Kind: kind}
	}
	const p, a, o = detente.NameKindPrimary, detente.NameKindAlias, detente.NameKindOriginalScript
	switch name {
	case "alpha":
		return []detente.Designation{
			{EntityID: "NM-T-001", Type: org, Names: []detente.DesignationName{n("Black Meridian Front", p), n("BMF", a), n("Meridian Brigades", a)}, Regime: "Northmark CT Act s.4", ListedOn: "2025-03-01"},
			{EntityID: "NM-T-002", Type: person, Names: []detente.DesignationName{n("Yusuf Karimov", p), n("Юсуф Каримов", o)}, DatesOfBirth: []string{"1984-07-12"}, Regime: "Northmark CT Act s.4", ListedOn: "2025-03-01"},
			{EntityID: "NM-T-003", Type: person, Names: []detente.DesignationName{n("Abu Tariq al-Meridiani", p)}, Regime: "Northmark CT Act s.4", ListedOn: "2025-06-15"},
		}
	case "bravo":
		return []detente.Designation{
			{EntityID: "EST-2025-01", Type: org, Names: []detente.DesignationName{n("Sons of the Tide", p)}, Regime: "Esterian Maritime Security Order", ListedOn: "2025-02-10"},
			{EntityID: "EST-2025-02", Type: org, Names: []detente.DesignationName{n("Tide Coastal Logistics LLC", p)}, Regime: "Esterian Maritime Security Order", ListedOn: "2025-02-10"},
			{EntityID: "EST-2025-03", Type: person, Names: []detente.DesignationName{n("Youssef Karimov", p)}, DatesOfBirth: []string{"1984-07-12"}, Regime: "Esterian Maritime Security Order", ListedOn: "2025-05-20"},
			{EntityID: "EST-2025-04", Type: org, Names: []detente.DesignationName{n("Black Meridian Front", p)}, Regime: "Esterian Maritime Security Order", ListedOn: "2025-05-20"},
		}
	default:
		return []detente.Designation{
			{EntityID: "VAL-44", Type: org, Names: []detente.DesignationName{n("Black Meridian Front - armed wing", p), n("Meridian Front military wing", a)}, Regime: "Valdorian Terrorism List", ListedOn: "2025-09-01"},
			{EntityID: "VAL-45", Type: person, Names: []detente.DesignationName{n("Jusuf Karimow", p)}, DatesOfBirth: []string{"1984"}, Regime: "Valdorian Terrorism List", ListedOn: "2025-09-01"},
			// Listed by charlie alone: the curation report flags them.
			{EntityID: "VAL-46", Type: org, Names: []detente.DesignationName{n("Free Valdor Cultural League", p)}, Regime: "Valdorian Terrorism List", ListedOn: "2025-11-01"},
			{EntityID: "VAL-47", Type: org, Names: []detente.DesignationName{n("Eastern Valdor Students Union", p)}, Regime: "Valdorian Terrorism List", ListedOn: "2025-11-01"},
		}
	}
}

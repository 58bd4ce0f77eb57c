package feed

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"detente"
	"detente/internal/stix"
)

// namespace is the UUIDv5 namespace of the ids the MISP conversion derives
// (observables, relationships, and objects whose MISP uuid is not an RFC
// 4122 UUID).
var namespace = [16]byte{0x6d, 0x1e, 0x4f, 0x3a, 0x9c, 0x27, 0x4b, 0x58, 0x8e, 0x0d, 0x5a, 0x71, 0x2f, 0x93, 0xc4, 0x16}

// ConvertMISPEvent converts one MISP event, as a MISP feed serves it
// ({"Event": {...}}) or bare, to validated STIX 2.1 objects, the way MISP's
// own converter (misp-stix) maps events (docs/feeds.md has the table):
//
//   - the event becomes a report (published) or a grouping (not
//     published), whose object_refs name everything else, created by an
//     identity for the event's creator organisation (Orgc);
//   - an attribute becomes an indicator with a STIX pattern when to_ids is
//     set, else an observed-data with its cyber-observables; yara, snort
//     and sigma rules become indicators of their pattern type;
//     vulnerability, campaign-name and threat-actor attributes become
//     those SDOs; any other type becomes an x-misp-attribute;
//   - a MISP object becomes one indicator (if any attribute has to_ids)
//     or observed-data combining its attributes (file, domain-ip, ip-port,
//     url, email), or an x-misp-object; its references become
//     relationships;
//   - galaxy clusters become threat-actor, intrusion-set, malware, tool,
//     attack-pattern, course-of-action or vulnerability SDOs, or
//     x-misp-galaxy-cluster; an attribute's clusters are linked to it by a
//     relationship;
//   - tags become labels, except tlp:* tags, which become TLP 2.0 marking
//     refs, and admiralty-scale tags, which become the detente grading,
//     combined half by half with grading (the feed's; may be zero);
//   - deleted attributes, objects and references are left out.
//
// Unlike misp-stix, every object of the event carries the most restrictive
// TLP of the event and of its own tags (an attribute of a TLP:RED event is
// never less than RED), and every version is dated by the event's
// timestamp, which MISP moves on every change, so that a change of the
// event's tags makes new versions instead of conflicting ones.
// Observables get ids derived from their whole content, so the same
// observable under the same marking is one object across events.
//
// Ids come from MISP uuids, so converting the same event again gives the
// same bytes. err is set when the event itself cannot be read; bad holds
// the objects that did not validate (Index is the position in the
// conversion's output), which are left out of objs.
func ConvertMISPEvent(data []byte, grading detente.Grading) (objs []*stix.Object, bad []stix.ObjectError, err error) {
	_, objs, bad, err = convertEvent(data, grading)
	return objs, bad, err
}

// convertEvent is ConvertMISPEvent that also returns the event's uuid.
func convertEvent(data []byte, grading detente.Grading) (string, []*stix.Object, []stix.ObjectError, error) {
	ev, err := parseEvent(data)
	if err != nil {
		return "", nil, nil, err
	}
	c := newConverter(ev, grading)
	c.convert()
	objs := make([]*stix.Object, 0, len(c.out))
	var bad []stix.ObjectError
	for i, m := range c.out {
		raw, err := json.Marshal(m)
		if err == nil {
			var o *stix.Object
			if o, err = stix.ParseObject(raw); err == nil {
				objs = append(objs, o)
				continue
			}
		}
		id, _ := m["id"].(string)
		bad = append(bad, stix.ObjectError{Index: i, ID: id, Err: err})
	}
	return c.eventUUID, objs, bad, nil
}

// parseEvent reads a MISP event file.
func parseEvent(data []byte) (*mispEvent, error) {
	bad := func(format string, args ...any) error {
		return detente.Errorf(detente.EINVALID, "MISP event: "+format, args...)
	}
	var f mispFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, bad("%v", err)
	}
	ev := f.Event
	if ev == nil {
		// A bare event, without the {"Event": …} wrapper.
		ev = &mispEvent{}
		if err := json.Unmarshal(data, ev); err != nil {
			return nil, bad("%v", err)
		}
	}
	ev.UUID = strings.ToLower(ev.UUID)
	switch {
	case !isUUID(ev.UUID):
		return nil, bad("no valid uuid (%q)", clip(ev.UUID, 40))
	case ev.Timestamp <= 0:
		return nil, bad("event %s has no timestamp", ev.UUID)
	}
	return ev, nil
}

// converter builds the STIX objects of one event.
type converter struct {
	ev        *mispEvent
	eventUUID string
	created   string // created of every SDO/SRO
	modified  string // modified of every SDO/SRO: the event's timestamp
	creator   string // the Orgc identity's id, "" if the event names none
	tlp       detente.TLP
	grading   detente.Grading
	out       []map[string]any
	refs      []string               // the report's object_refs
	emitted   map[string]bool        // ids already in out
	ids       map[string]string      // MISP uuid (attribute, object) → STIX id
	tlps      map[string]detente.TLP // STIX id → its TLP
}

func newConverter(ev *mispEvent, base detente.Grading) *converter {
	c := &converter{
		ev: ev, eventUUID: ev.UUID,
		modified: stixTime(int64(ev.Timestamp)),
		emitted:  map[string]bool{}, ids: map[string]string{}, tlps: map[string]detente.TLP{},
	}
	c.created = c.modified
	if d, err := time.Parse(time.DateOnly, ev.Date.String()); err == nil && d.Unix() <= int64(ev.Timestamp) {
		c.created = stixTime(d.Unix())
	}
	c.tlp, _ = tagTLP(ev.Tag)
	c.grading = admiralty(tagNames(ev.Tag), base)
	return c
}

func (c *converter) convert() {
	ev := c.ev
	var identity map[string]any
	if ev.Orgc != nil && (ev.Orgc.UUID != "" || ev.Orgc.Name != "") {
		name := ev.Orgc.Name.String()
		if name == "" {
			name = "MISP organisation " + ev.Orgc.UUID
		}
		c.creator = "identity--" + c.uuid(ev.Orgc.UUID, "orgc", name)
		identity = map[string]any{
			"type": "identity", "spec_version": "2.1", "id": c.creator,
			"created": c.created, "modified": c.modified,
			"name": name, "identity_class": "organization",
		}
	}
	for i := range ev.Attribute {
		c.attribute(&ev.Attribute[i])
	}
	var references []func()
	for i := range ev.Object {
		if ref := c.object(&ev.Object[i]); ref != nil {
			references = append(references, ref)
		}
	}
	for _, ref := range references {
		ref()
	}
	for i := range ev.Galaxy {
		g := &ev.Galaxy[i]
		for j := range g.GalaxyCluster {
			c.cluster(g, &g.GalaxyCluster[j])
		}
	}

	// The event: a report when published, else a grouping (misp-stix).
	typ := "grouping"
	if ev.Published {
		typ = "report"
	}
	id := typ + "--" + c.uuid(ev.UUID, "event", "")
	name := ev.Info.String()
	if name == "" {
		name = "MISP event " + ev.UUID
	}
	labels := []string{"Threat-Report", `misp:tool="detente"`}
	labels = append(labels, otherTags(ev.Tag)...)
	refs := c.refs
	if len(refs) == 0 {
		note := "note--" + c.uuid(ev.UUID, "event-note", "")
		c.emit(c.sdo("note", note, c.tlp, c.grading, nil, map[string]any{
			"content":     "This MISP event is empty and contains no attribute, object or galaxy.",
			"object_refs": []string{id},
		}), false)
		refs = []string{note}
	}
	event := c.sdo(typ, id, c.tlp, c.grading, labels, map[string]any{"name": name, "object_refs": refs})
	if ev.Published {
		pub := int64(ev.PublishTimestamp)
		if pub <= 0 {
			pub = int64(ev.Timestamp)
		}
		event["published"] = time.Unix(pub, 0).UTC().Format(time.RFC3339)
	} else {
		event["context"] = "suspicious-activity"
	}
	head := []map[string]any{event}
	if identity != nil {
		head = []map[string]any{identity, event}
	}
	c.out = append(head, c.out...)
}

// sdo returns the common properties of an SDO or SRO of the event, with
// props added.
func (c *converter) sdo(typ, id string, tlp detente.TLP, g detente.Grading, labels []string, props map[string]any) map[string]any {
	m := map[string]any{"type": typ, "spec_version": "2.1", "id": id, "created": c.created, "modified": c.modified}
	if c.creator != "" {
		m["created_by_ref"] = c.creator
	}
	if len(labels) > 0 {
		m["labels"] = labels
	}
	mark(m, tlp, g)
	for k, v := range props {
		m[k] = v
	}
	c.tlps[id] = tlp
	return m
}

// mark sets the TLP marking and the grading of m.
func mark(m map[string]any, tlp detente.TLP, g detente.Grading) {
	if tlp != 0 {
		m["object_marking_refs"] = []string{detente.MarkingOfTLP(tlp)}
	}
	if !g.IsZero() {
		m["extensions"] = map[string]any{stix.ExtensionID: map[string]any{"extension_type": "property-extension", "grading": g.String()}}
	}
}

// emit adds m to the output once, and to the report's refs if inReport.
func (c *converter) emit(m map[string]any, inReport bool) {
	id := m["id"].(string)
	if c.emitted[id] {
		return
	}
	c.emitted[id] = true
	c.out = append(c.out, m)
	if inReport {
		c.refs = append(c.refs, id)
	}
}

// sco adds a cyber-observable, its id derived from its whole content, and
// returns the id.
func (c *converter) sco(m map[string]any, tlp detente.TLP, g detente.Grading) string {
	m["spec_version"] = "2.1"
	mark(m, tlp, g)
	b, _ := json.Marshal(m)
	id := m["type"].(string) + "--" + uuid5("sco", string(b))
	m["id"] = id
	c.emit(m, true)
	c.tlps[id] = tlp
	return id
}

// uuid returns misp as a STIX UUID when it is an RFC 4122 UUID (versions 1
// to 5), else a UUIDv5 of kind, misp and extra, so that the id is stable.
func (c *converter) uuid(misp, kind, extra string) string {
	u := strings.ToLower(misp)
	if isUUID(u) && u[14] >= '1' && u[14] <= '5' && strings.ContainsRune("89ab", rune(u[19])) {
		return u
	}
	return uuid5(kind, c.eventUUID+"|"+misp+"|"+extra)
}

// uuid5 returns the RFC 4122 version 5 UUID of kind and name in namespace.
func uuid5(kind, name string) string {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(kind + "\x00" + name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// attribute converts one attribute outside an object.
func (c *converter) attribute(a *mispAttribute) {
	if a.Deleted {
		return
	}
	typ, value := a.Type.String(), a.Value.String()
	tlp, g := c.markingOf(a.Tag)
	uid := c.uuid(a.UUID, "attribute", typ+"|"+value)
	labels := []string{fmt.Sprintf("misp:type=%q", typ), fmt.Sprintf("misp:category=%q", a.Category.String())}
	if a.ToIDs {
		labels = append(labels, `misp:to_ids="True"`)
	}
	labels = append(labels, otherTags(a.Tag)...)
	props := map[string]any{}
	if s := a.Comment.String(); s != "" {
		props["description"] = s
	}
	if cat := a.Category.String(); cat != "" {
		props["kill_chain_phases"] = []any{map[string]any{"kill_chain_name": "misp-category", "phase_name": cat}}
	}
	var id string
	indicates := false
	switch ptype := ruleTypes[typ]; {
	case ptype != "":
		id = "indicator--" + uid
		props["pattern"], props["pattern_type"] = value, ptype
		props["valid_from"] = c.validFrom(a)
		indicates = true
	case sdoTypes[typ] != "":
		sdoType := sdoTypes[typ]
		id = sdoType + "--" + uid
		delete(props, "kill_chain_phases")
		props["name"] = value
		if sdoType == "vulnerability" && strings.HasPrefix(strings.ToUpper(value), "CVE-") {
			props["external_references"] = []any{map[string]any{"source_name": "cve", "external_id": value}}
		}
	default:
		obs, ok := observable(typ, value)
		switch {
		case !ok:
			id = "x-misp-attribute--" + uid
			props = map[string]any{"x_misp_type": typ, "x_misp_category": a.Category.String(), "x_misp_value": value}
			if s := a.Comment.String(); s != "" {
				props["x_misp_comment"] = s
			}
		case bool(a.ToIDs):
			id = "indicator--" + uid
			props["pattern"], props["pattern_type"], props["pattern_version"] = obs.pattern, "stix", "2.1"
			props["valid_from"] = c.validFrom(a)
			if until := seenTime(a.LastSeen); until > props["valid_from"].(string) {
				props["valid_until"] = until
			}
			indicates = true
		default:
			id = "observed-data--" + uid
			delete(props, "kill_chain_phases")
			delete(props, "description")
			first := c.validFrom(a)
			last := first
			if s := seenTime(a.LastSeen); s > first {
				last = s
			}
			props["first_observed"], props["last_observed"], props["number_observed"] = first, last, 1
			props["object_refs"] = obs.build(func(m map[string]any) string { return c.sco(m, tlp, g) })
		}
	}
	t := strings.SplitN(id, "--", 2)[0]
	c.emit(c.sdo(t, id, tlp, g, labels, props), true)
	if a.UUID != "" {
		c.ids[strings.ToLower(a.UUID)] = id
	}
	c.linkGalaxies(id, a.Galaxy, tlp, g, indicates)
}

// markingOf returns the TLP and grading of something tagged tags within
// the event: the most restrictive of the event's TLP and the tags', and the
// event's grading with the tags' admiralty-scale halves over it.
func (c *converter) markingOf(tags []mispTag) (detente.TLP, detente.Grading) {
	tlp := c.tlp
	if t, ok := tagTLP(tags); ok && t > tlp {
		tlp = t
	}
	return tlp, admiralty(tagNames(tags), c.grading)
}

// validFrom is when an attribute's indicator or observation starts: its
// first_seen, else its timestamp, else the event's.
func (c *converter) validFrom(a *mispAttribute) string {
	if s := seenTime(a.FirstSeen); s != "" {
		return s
	}
	if a.Timestamp > 0 {
		return stixTime(int64(a.Timestamp))
	}
	return c.modified
}

// linkGalaxies converts the clusters of galaxies attached to the object
// with id from and links each to it by a relationship.
func (c *converter) linkGalaxies(from string, gs []mispGalaxy, tlp detente.TLP, g detente.Grading, indicates bool) {
	for i := range gs {
		gal := &gs[i]
		for j := range gal.GalaxyCluster {
			to := c.cluster(gal, &gal.GalaxyCluster[j])
			rel := "related-to"
			if indicates && indicatable[strings.SplitN(to, "--", 2)[0]] {
				rel = "indicates"
			}
			c.relationship(from, rel, to, tlp, g, "")
		}
	}
}

// indicatable lists the types an indicator "indicates" (STIX 2.1 section
// 4.7).
var indicatable = map[string]bool{
	"attack-pattern": true, "campaign": true, "infrastructure": true, "intrusion-set": true,
	"malware": true, "threat-actor": true, "tool": true,
}

// relationship adds a relationship from → to; its id is misp's (a MISP
// object reference's uuid) or derived from its ends.
func (c *converter) relationship(from, rel, to string, tlp detente.TLP, g detente.Grading, misp string) {
	if t := c.tlps[to]; t > tlp {
		tlp = t
	}
	id := "relationship--" + c.uuid(misp, "relationship", from+"|"+rel+"|"+to)
	c.emit(c.sdo("relationship", id, tlp, g, nil, map[string]any{
		"relationship_type": rel, "source_ref": from, "target_ref": to,
	}), true)
}

// ruleTypes maps MISP attribute types that hold detection rules to the
// indicator pattern_type.
var ruleTypes = map[string]string{"yara": "yara", "snort": "snort", "sigma": "sigma"}

// sdoTypes maps MISP attribute types to the SDO they name.
var sdoTypes = map[string]string{"vulnerability": "vulnerability", "campaign-name": "campaign", "threat-actor": "threat-actor"}

// obsDef is how an attribute (or object) value maps to STIX: a pattern for
// an indicator, and the cyber-observables of an observed-data.
type obsDef struct {
	pattern string
	// build adds the observables with add (which returns the id) and
	// returns their ids, the main one first.
	build func(add func(map[string]any) string) []string
}

// patternString quotes s as a STIX pattern string literal.
func patternString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// hashNames maps MISP hash attribute types to STIX hash names.
var hashNames = map[string]string{
	"md5": "MD5", "sha1": "SHA-1", "sha224": "SHA224", "sha256": "SHA-256", "sha384": "SHA384",
	"sha512": "SHA-512", "sha3-256": "SHA3-256", "sha3-512": "SHA3-512", "ssdeep": "SSDEEP", "tlsh": "TLSH",
}

// hashPath returns the pattern path of file hash name.
func hashPath(name string) string {
	if strings.ContainsAny(name, "-") {
		return "file:hashes." + patternString(name)
	}
	return "file:hashes." + name
}

// ipType returns the SCO type and network-traffic protocol of an address.
func ipType(v string) (typ, proto string) {
	if strings.Contains(v, ":") {
		return "ipv6-addr", "ipv6"
	}
	return "ipv4-addr", "ipv4"
}

// observable returns the mapping of a MISP attribute type and value, and
// false for a type with no observable mapping (it becomes an
// x-misp-attribute).
func observable(typ, v string) (obsDef, bool) {
	one := func(pattern string, m map[string]any) (obsDef, bool) {
		return obsDef{pattern: pattern, build: func(add func(map[string]any) string) []string { return []string{add(m)} }}, true
	}
	if v == "" {
		return obsDef{}, false
	}
	if h, ok := hashNames[typ]; ok {
		return one("["+hashPath(h)+" = "+patternString(v)+"]", map[string]any{"type": "file", "hashes": map[string]any{h: v}})
	}
	if hash, ok := strings.CutPrefix(typ, "filename|"); ok {
		h, known := hashNames[hash]
		name, value, split := strings.Cut(v, "|")
		if !known || !split || name == "" || value == "" {
			return obsDef{}, false
		}
		return one("[file:name = "+patternString(name)+" AND "+hashPath(h)+" = "+patternString(value)+"]",
			map[string]any{"type": "file", "name": name, "hashes": map[string]any{h: value}})
	}
	switch typ {
	case "ip-src", "ip-dst":
		dir := strings.TrimPrefix(typ, "ip-")
		t, proto := ipType(v)
		return obsDef{
			pattern: fmt.Sprintf("[network-traffic:%s_ref.type = '%s' AND network-traffic:%s_ref.value = %s]", dir, t, dir, patternString(v)),
			build: func(add func(map[string]any) string) []string {
				ip := add(map[string]any{"type": t, "value": v})
				nt := add(map[string]any{"type": "network-traffic", dir + "_ref": ip, "protocols": []string{proto}})
				return []string{nt, ip}
			},
		}, true
	case "ip-src|port", "ip-dst|port":
		dir := strings.TrimSuffix(strings.TrimPrefix(typ, "ip-"), "|port")
		i := strings.LastIndexByte(v, '|')
		if i <= 0 {
			return obsDef{}, false
		}
		ipv, port := v[:i], v[i+1:]
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return obsDef{}, false
		}
		t, proto := ipType(ipv)
		return obsDef{
			pattern: fmt.Sprintf("[network-traffic:%s_ref.value = %s AND network-traffic:%s_port = %d]", dir, patternString(ipv), dir, p),
			build: func(add func(map[string]any) string) []string {
				ip := add(map[string]any{"type": t, "value": ipv})
				nt := add(map[string]any{"type": "network-traffic", dir + "_ref": ip, dir + "_port": p, "protocols": []string{proto}})
				return []string{nt, ip}
			},
		}, true
	case "domain", "hostname":
		return one("[domain-name:value = "+patternString(v)+"]", map[string]any{"type": "domain-name", "value": v})
	case "domain|ip":
		d, ipv, ok := strings.Cut(v, "|")
		if !ok || d == "" || ipv == "" {
			return obsDef{}, false
		}
		t, _ := ipType(ipv)
		return obsDef{
			pattern: "[domain-name:value = " + patternString(d) + " AND domain-name:resolves_to_refs[*].value = " + patternString(ipv) + "]",
			build: func(add func(map[string]any) string) []string {
				ip := add(map[string]any{"type": t, "value": ipv})
				dn := add(map[string]any{"type": "domain-name", "value": d, "resolves_to_refs": []string{ip}})
				return []string{dn, ip}
			},
		}, true
	case "url", "link", "uri":
		return one("[url:value = "+patternString(v)+"]", map[string]any{"type": "url", "value": v})
	case "filename":
		return one("[file:name = "+patternString(v)+"]", map[string]any{"type": "file", "name": v})
	case "email", "email-addr":
		return one("[email-addr:value = "+patternString(v)+"]", map[string]any{"type": "email-addr", "value": v})
	case "email-src", "email-dst":
		path, prop := "from_ref.value", "from_ref"
		if typ == "email-dst" {
			path, prop = "to_refs[*].value", "to_refs"
		}
		return obsDef{
			pattern: "[email-message:" + path + " = " + patternString(v) + "]",
			build: func(add func(map[string]any) string) []string {
				addr := add(map[string]any{"type": "email-addr", "value": v})
				var ref any = addr
				if prop == "to_refs" {
					ref = []string{addr}
				}
				msg := add(map[string]any{"type": "email-message", "is_multipart": false, prop: ref})
				return []string{msg, addr}
			},
		}, true
	case "email-subject":
		return one("[email-message:subject = "+patternString(v)+"]", map[string]any{"type": "email-message", "is_multipart": false, "subject": v})
	case "mutex":
		return one("[mutex:name = "+patternString(v)+"]", map[string]any{"type": "mutex", "name": v})
	case "mac-address":
		return one("[mac-addr:value = "+patternString(v)+"]", map[string]any{"type": "mac-addr", "value": v})
	case "AS":
		n, err := strconv.ParseInt(strings.TrimPrefix(strings.ToUpper(v), "AS"), 10, 64)
		if err != nil || n < 0 || n > 1<<32 {
			return obsDef{}, false
		}
		return one(fmt.Sprintf("[autonomous-system:number = %d]", n), map[string]any{"type": "autonomous-system", "number": n})
	}
	return obsDef{}, false
}

// tagNames returns the names of tags.
func tagNames(tags []mispTag) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		out = append(out, t.Name.String())
	}
	return out
}

// tagTLP returns the most restrictive tlp:* tag among tags.
func tagTLP(tags []mispTag) (detente.TLP, bool) {
	var max detente.TLP
	for _, t := range tags {
		if tlp, ok := tlpTag(t.Name.String()); ok && tlp > max {
			max = tlp
		}
	}
	return max, max != 0
}

// tlpTag reads a tlp:white|clear|green|amber|amber+strict|red tag.
func tlpTag(name string) (detente.TLP, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	if !strings.HasPrefix(n, "tlp:") {
		return 0, false
	}
	t, err := detente.ParseTLP(n)
	return t, err == nil
}

// otherTags returns the names of the tags that become labels: all but
// tlp:* (which become markings).
func otherTags(tags []mispTag) []string {
	var out []string
	for _, t := range tags {
		if n := t.Name.String(); n != "" {
			if _, ok := tlpTag(n); !ok {
				out = append(out, n)
			}
		}
	}
	return out
}

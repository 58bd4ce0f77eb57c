package feed

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// object converts one MISP object and returns a function that adds its
// references once every object has an id, or nil.
func (c *converter) object(o *mispObject) func() {
	if o.Deleted {
		return nil
	}
	var attrs []*mispAttribute
	var tags []mispTag
	toIDs := false
	for i := range o.Attribute {
		a := &o.Attribute[i]
		if a.Deleted {
			continue
		}
		attrs = append(attrs, a)
		tags = append(tags, a.Tag...)
		toIDs = toIDs || bool(a.ToIDs)
	}
	if len(attrs) == 0 {
		return nil
	}
	name := o.Name.String()
	tlp, g := c.markingOf(tags)
	uid := c.uuid(o.UUID, "object", name)
	labels := []string{fmt.Sprintf("misp:name=%q", name), fmt.Sprintf("misp:meta-category=%q", o.MetaCategory.String())}
	if toIDs {
		labels = append(labels, `misp:to_ids="True"`)
	} else {
		labels = append(labels, `misp:to_ids="False"`)
	}
	labels = append(labels, otherTags(tags)...)
	var id string
	props := map[string]any{}
	obs, ok := objectObservable(name, attrs)
	switch {
	case ok && toIDs:
		id = "indicator--" + uid
		props["pattern"], props["pattern_type"], props["pattern_version"] = obs.pattern, "stix", "2.1"
		props["valid_from"] = c.objectTime(o)
		props["kill_chain_phases"] = []any{map[string]any{"kill_chain_name": "misp-category", "phase_name": o.MetaCategory.String()}}
		if s := o.Comment.String(); s != "" {
			props["description"] = s
		}
	case ok:
		id = "observed-data--" + uid
		t := c.objectTime(o)
		props["first_observed"], props["last_observed"], props["number_observed"] = t, t, 1
		props["object_refs"] = obs.build(func(m map[string]any) string { return c.sco(m, tlp, g) })
	default:
		id = "x-misp-object--" + uid
		list := make([]any, 0, len(attrs))
		for _, a := range attrs {
			e := map[string]any{"type": a.Type.String(), "object_relation": a.ObjectRelation.String(), "value": a.Value.String(), "to_ids": bool(a.ToIDs)}
			if a.UUID != "" {
				e["uuid"] = strings.ToLower(a.UUID)
			}
			if s := a.Category.String(); s != "" {
				e["category"] = s
			}
			if s := a.Comment.String(); s != "" {
				e["comment"] = s
			}
			list = append(list, e)
		}
		props["x_misp_name"], props["x_misp_meta_category"], props["x_misp_attributes"] = name, o.MetaCategory.String(), list
		if s := o.Comment.String(); s != "" {
			props["x_misp_comment"] = s
		}
	}
	t := strings.SplitN(id, "--", 2)[0]
	c.emit(c.sdo(t, id, tlp, g, labels, props), true)
	if o.UUID != "" {
		c.ids[strings.ToLower(o.UUID)] = id
	}
	for _, a := range attrs {
		if a.UUID != "" {
			c.ids[strings.ToLower(a.UUID)] = id
		}
		c.linkGalaxies(id, a.Galaxy, tlp, g, t == "indicator")
	}
	if len(o.ObjectReference) == 0 {
		return nil
	}
	return func() {
		for _, r := range o.ObjectReference {
			to, ok := c.ids[strings.ToLower(r.ReferencedUUID)]
			if bool(r.Deleted) || !ok || to == id {
				continue
			}
			c.relationship(id, relationshipType(r.RelationshipType.String()), to, tlp, g, r.UUID)
		}
	}
}

// objectTime is when a MISP object was last changed: its timestamp, else
// the event's.
func (c *converter) objectTime(o *mispObject) string {
	if o.Timestamp > 0 {
		return stixTime(int64(o.Timestamp))
	}
	return c.modified
}

// relationshipType makes a MISP relationship type a STIX one: lower case,
// a-z, 0-9 and '-'; "related-to" when nothing is left.
func relationshipType(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	t := strings.TrimSuffix(b.String(), "-")
	if t == "" {
		return "related-to"
	}
	return t
}

// objectObservable maps the MISP object templates misp-stix maps to one
// observable (file, domain-ip, ip-port, url, email), combining their
// attributes into one pattern and one set of observables. Attributes of
// other relations are left to the x_misp_ properties of the main
// observable. False when the template is another one or the object lacks
// what the mapping needs.
func objectObservable(name string, attrs []*mispAttribute) (obsDef, bool) {
	byRel := map[string][]string{}
	for _, a := range attrs {
		rel := a.ObjectRelation.String()
		if v := a.Value.String(); v != "" && rel != "" {
			byRel[rel] = append(byRel[rel], v)
		}
	}
	first := func(rels ...string) string {
		for _, r := range rels {
			if v := byRel[r]; len(v) > 0 {
				return v[0]
			}
		}
		return ""
	}
	// extra returns the x_misp_ properties of the relations not in used.
	extra := func(m map[string]any, used ...string) {
		for rel, vs := range byRel {
			if slices.Contains(used, rel) {
				continue
			}
			k := "x_misp_" + propertyName(rel)
			if strings.HasSuffix(k, "_ref") || strings.HasSuffix(k, "_refs") {
				k += "_value" // *_ref properties must hold identifiers
			}
			if len(vs) == 1 {
				m[k] = vs[0]
			} else {
				m[k] = vs
			}
		}
	}
	var cmp []string
	switch name {
	case "file":
		m := map[string]any{"type": "file"}
		hashes := map[string]any{}
		used := []string{"filename", "size-in-bytes", "mimetype"}
		for rel, h := range hashNames {
			if v := first(rel); v != "" {
				hashes[h] = v
				cmp = append(cmp, hashPath(h)+" = "+patternString(v))
				used = append(used, rel)
			}
		}
		if len(hashes) > 0 {
			m["hashes"] = hashes
		}
		if v := first("filename"); v != "" {
			m["name"] = v
			cmp = append(cmp, "file:name = "+patternString(v))
		}
		if v := first("size-in-bytes"); v != "" {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
				m["size"] = n
				cmp = append(cmp, fmt.Sprintf("file:size = %d", n))
			}
		}
		if v := first("mimetype"); v != "" {
			m["mime_type"] = v
			cmp = append(cmp, "file:mime_type = "+patternString(v))
		}
		if m["hashes"] == nil && m["name"] == nil {
			return obsDef{}, false
		}
		extra(m, used...)
		return combined(cmp, m), true
	case "domain-ip":
		d := first("domain", "hostname")
		if d == "" {
			return obsDef{}, false
		}
		ips := append(append([]string{}, byRel["ip"]...), byRel["ip-dst"]...)
		cmp = append(cmp, "domain-name:value = "+patternString(d))
		for _, ip := range ips {
			cmp = append(cmp, "domain-name:resolves_to_refs[*].value = "+patternString(ip))
		}
		m := map[string]any{"type": "domain-name", "value": d}
		extra(m, "domain", "hostname", "ip", "ip-dst")
		return obsDef{
			pattern: "[" + strings.Join(cmp, " AND ") + "]",
			build: func(add func(map[string]any) string) []string {
				var refs []string
				for _, ip := range ips {
					t, _ := ipType(ip)
					refs = append(refs, add(map[string]any{"type": t, "value": ip}))
				}
				if len(refs) > 0 {
					m["resolves_to_refs"] = refs
				}
				return append([]string{add(m)}, refs...)
			},
		}, true
	case "ip-port":
		ip := first("ip", "ip-dst", "dst-ip")
		if ip == "" {
			return obsDef{}, false
		}
		t, proto := ipType(ip)
		nt := map[string]any{"type": "network-traffic", "protocols": []string{proto}}
		cmp = append(cmp, "network-traffic:dst_ref.value = "+patternString(ip))
		if v := first("dst-port", "port"); v != "" {
			if p, err := strconv.Atoi(v); err == nil && p >= 0 && p <= 65535 {
				nt["dst_port"] = p
				cmp = append(cmp, fmt.Sprintf("network-traffic:dst_port = %d", p))
			}
		}
		extra(nt, "ip", "ip-dst", "dst-ip", "dst-port", "port")
		return obsDef{
			pattern: "[" + strings.Join(cmp, " AND ") + "]",
			build: func(add func(map[string]any) string) []string {
				ref := add(map[string]any{"type": t, "value": ip})
				nt["dst_ref"] = ref
				return []string{add(nt), ref}
			},
		}, true
	case "url":
		u := first("url")
		if u == "" {
			return obsDef{}, false
		}
		m := map[string]any{"type": "url", "value": u}
		extra(m, "url")
		return combined([]string{"url:value = " + patternString(u)}, m), true
	case "email":
		from, to, subject := first("from"), byRel["to"], first("subject")
		if from == "" && len(to) == 0 && subject == "" {
			return obsDef{}, false
		}
		if from != "" {
			cmp = append(cmp, "email-message:from_ref.value = "+patternString(from))
		}
		for _, a := range to {
			cmp = append(cmp, "email-message:to_refs[*].value = "+patternString(a))
		}
		if subject != "" {
			cmp = append(cmp, "email-message:subject = "+patternString(subject))
		}
		m := map[string]any{"type": "email-message", "is_multipart": false}
		if subject != "" {
			m["subject"] = subject
		}
		extra(m, "from", "to", "subject")
		return obsDef{
			pattern: "[" + strings.Join(cmp, " AND ") + "]",
			build: func(add func(map[string]any) string) []string {
				var refs []string
				if from != "" {
					m["from_ref"] = add(map[string]any{"type": "email-addr", "value": from})
					refs = append(refs, m["from_ref"].(string))
				}
				var tos []string
				for _, a := range to {
					tos = append(tos, add(map[string]any{"type": "email-addr", "value": a}))
				}
				if len(tos) > 0 {
					m["to_refs"] = tos
					refs = append(refs, tos...)
				}
				return append([]string{add(m)}, refs...)
			},
		}, true
	}
	return obsDef{}, false
}

// combined is the obsDef of one observable m and the comparisons cmp.
func combined(cmp []string, m map[string]any) obsDef {
	slices.Sort(cmp)
	return obsDef{
		pattern: "[" + strings.Join(cmp, " AND ") + "]",
		build:   func(add func(map[string]any) string) []string { return []string{add(m)} },
	}
}

// propertyName makes a MISP relation a STIX property name part: lower
// case, a-z, 0-9 and '_'.
func propertyName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "value"
	}
	return b.String()
}

// galaxyTypes maps MISP galaxy types (after the mitre-* prefixes are
// removed) to the SDO a cluster becomes, as misp-stix maps them.
var galaxyTypes = map[string]string{
	"threat-actor": "threat-actor", "intrusion-set": "intrusion-set",
	"malware": "malware", "malpedia": "malware", "ransomware": "malware", "banker": "malware",
	"rat": "malware", "botnet": "malware", "stealer": "malware", "backdoor": "malware", "android": "malware",
	"tool": "tool", "attack-pattern": "attack-pattern", "course-of-action": "course-of-action",
	"branded-vulnerability": "vulnerability",
}

// galaxySDO returns the SDO type of a galaxy type.
func galaxySDO(typ string) string {
	t := strings.ToLower(typ)
	for _, p := range []string{"mitre-enterprise-attack-", "mitre-mobile-attack-", "mitre-pre-attack-", "mitre-"} {
		if s, ok := strings.CutPrefix(t, p); ok {
			t = s
			break
		}
	}
	if s, ok := galaxyTypes[t]; ok {
		return s
	}
	return "x-misp-galaxy-cluster"
}

// cluster adds the SDO of a galaxy cluster once and returns its id. Every
// cluster carries the event's TLP and grading: the cluster itself is the
// galaxy's knowledge, its link to an attribute carries the attribute's.
func (c *converter) cluster(gal *mispGalaxy, cl *mispCluster) string {
	typ := cl.Type.String()
	if typ == "" {
		typ = gal.Type.String()
	}
	sdo := galaxySDO(typ)
	value := cl.Value.String()
	id := sdo + "--" + c.uuid(cl.UUID, "cluster", typ+"|"+value)
	if c.emitted[id] {
		return id
	}
	desc := joinNonEmpty(" | ", gal.Description.String(), cl.Description.String())
	props := map[string]any{}
	var labels []string
	if sdo == "x-misp-galaxy-cluster" {
		labels = []string{fmt.Sprintf("misp:galaxy-name=%q", gal.Name.String()), fmt.Sprintf("misp:galaxy-type=%q", typ)}
		props["x_misp_name"], props["x_misp_type"], props["x_misp_value"] = gal.Name.String(), typ, value
		if desc != "" {
			props["x_misp_description"] = desc
		}
		if meta := clusterMeta(cl.Meta); len(meta) > 0 {
			props["x_misp_meta"] = meta
		}
	} else {
		if value == "" {
			value = "MISP galaxy cluster " + cl.UUID
		}
		labels = []string{fmt.Sprintf("misp:name=%q", gal.Name.String())}
		props["name"] = value
		if desc != "" {
			props["description"] = desc
		}
		switch sdo {
		case "threat-actor", "intrusion-set", "malware", "tool":
			if syn := metaStrings(cl.Meta, "synonyms"); len(syn) > 0 {
				props["aliases"] = syn
			}
		}
		switch sdo {
		case "malware", "tool", "attack-pattern":
			props["kill_chain_phases"] = []any{map[string]any{"kill_chain_name": "misp-category", "phase_name": typ}}
		}
		if sdo == "malware" {
			props["is_family"] = true
		}
		if refs := externalRefs(cl.Meta); len(refs) > 0 {
			props["external_references"] = refs
		}
	}
	c.emit(c.sdo(sdo, id, c.tlp, c.grading, labels, props), true)
	return id
}

// clusterMeta returns a cluster's meta as a STIX dictionary, leaving out
// keys ending in _ref or _refs, which STIX reserves for identifiers.
func clusterMeta(meta map[string]json.RawMessage) map[string]any {
	out := map[string]any{}
	for k, raw := range meta {
		if strings.HasSuffix(k, "_ref") || strings.HasSuffix(k, "_refs") || k == "" {
			continue
		}
		var v any
		if json.Unmarshal(raw, &v) == nil && v != nil {
			out[k] = v
		}
	}
	return out
}

// metaStrings returns the strings of a cluster meta key (a string or a list
// of them).
func metaStrings(meta map[string]json.RawMessage, key string) []string {
	raw, ok := meta[key]
	if !ok {
		return nil
	}
	var list []string
	if json.Unmarshal(raw, &list) != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil || s == "" {
			return nil
		}
		list = []string{s}
	}
	out := list[:0]
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// externalRefs returns a cluster's external references: its refs (URLs)
// and external_id values (CAPEC, CVE, ATT&CK ids).
func externalRefs(meta map[string]json.RawMessage) []any {
	var out []any
	for _, id := range metaStrings(meta, "external_id") {
		src := "misp"
		switch u := strings.ToUpper(id); {
		case strings.HasPrefix(u, "CAPEC-"):
			src = "capec"
		case strings.HasPrefix(u, "CVE-"):
			src = "cve"
		case len(u) > 1 && u[0] == 'T' && u[1] >= '0' && u[1] <= '9':
			src = "mitre-attack"
		}
		out = append(out, map[string]any{"source_name": src, "external_id": id})
	}
	for _, u := range metaStrings(meta, "refs") {
		out = append(out, map[string]any{"source_name": "url", "url": u})
	}
	return out
}

func joinNonEmpty(sep string, parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}

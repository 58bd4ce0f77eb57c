package stix

import "strings"

// category is the STIX 2.1 kind of object a type belongs to.
type category int

const (
	catSDO  category = iota + 1 // STIX Domain Object
	catSRO                      // STIX Relationship Object
	catSCO                      // STIX Cyber-observable Object
	catMeta                     // marking-definition, language-content, extension-definition
)

// kind is the JSON shape a property must have.
type kind uint8

const (
	kAny        kind = iota // anything (checked elsewhere, or free-form)
	kString                 // string
	kStrings                // non-empty list of strings
	kBool                   // boolean
	kInt                    // integer
	kNumber                 // number
	kTimestamp              // RFC 3339 UTC timestamp
	kRef                    // identifier (also checked by the *_ref rule)
	kRefs                   // non-empty list of identifiers
	kKillChain              // non-empty list of kill-chain phases
	kDict                   // object
	kDicts                  // non-empty list of objects
	kHashes                 // object of string values
	kExtRefs                // external references
	kGranular               // granular markings
	kExtensions             // extensions dictionary
)

var kindCodes = map[string]kind{
	"*": kAny, "s": kString, "[s]": kStrings, "b": kBool, "i": kInt, "n": kNumber,
	"t": kTimestamp, "r": kRef, "[r]": kRefs, "kc": kKillChain, "d": kDict,
	"[d]": kDicts, "h": kHashes,
}

// props parses a compact property list: "name:s aliases:[s] first_seen:t".
func props(spec string) map[string]kind {
	m := make(map[string]kind)
	for f := range strings.FieldsSeq(spec) {
		name, code, ok := strings.Cut(f, ":")
		k, known := kindCodes[code]
		if !ok || !known {
			panic("stix: bad property spec " + f)
		}
		m[name] = k
	}
	return m
}

// typeSpec is what the package knows about one STIX type.
type typeSpec struct {
	cat      category
	props    map[string]kind // properties beyond the common ones
	required []string        // beyond the common required ones
	// check runs type-specific rules after the generic ones.
	check func(c *checker) error
	// needsProperty requires at least one property beyond the common ones
	// (process, user-account, windows-registry-key, x509-certificate).
	needsProperty bool
}

// Common properties of SDOs and SROs (STIX 2.1 section 3.2).
var commonSDO = map[string]kind{
	"type": kString, "spec_version": kString, "id": kString, "created_by_ref": kRef,
	"created": kTimestamp, "modified": kTimestamp, "revoked": kBool, "labels": kStrings,
	"confidence": kInt, "lang": kString, "external_references": kExtRefs,
	"object_marking_refs": kRefs, "granular_markings": kGranular, "extensions": kExtensions,
}

// Common properties of SCOs (STIX 2.1 section 3.2).
var commonSCO = map[string]kind{
	"type": kString, "spec_version": kString, "id": kString, "object_marking_refs": kRefs,
	"granular_markings": kGranular, "defanged": kBool, "extensions": kExtensions,
}

// Properties of marking-definition (STIX 2.1 section 7.2.1).
var commonMarking = map[string]kind{
	"type": kString, "spec_version": kString, "id": kString, "created_by_ref": kRef,
	"created": kTimestamp, "external_references": kExtRefs, "object_marking_refs": kRefs,
	"granular_markings": kGranular, "extensions": kExtensions, "name": kString,
	"definition_type": kString, "definition": kDict,
}

const (
	lastSeen = "first_seen:t last_seen:t"
	motives  = "resource_level:s primary_motivation:s secondary_motivations:[s]"
)

// types holds every type defined by STIX 2.1.
var types = map[string]*typeSpec{
	// SDOs (section 4).
	"attack-pattern":   {cat: catSDO, props: props("name:s description:s aliases:[s] kill_chain_phases:kc"), required: []string{"name"}},
	"campaign":         {cat: catSDO, props: props("name:s description:s aliases:[s] objective:s " + lastSeen), required: []string{"name"}},
	"course-of-action": {cat: catSDO, props: props("name:s description:s action_type:s os_execution_envs:[s] action_bin:s action_reference:d"), required: []string{"name"}},
	"grouping":         {cat: catSDO, props: props("name:s description:s context:s object_refs:[r]"), required: []string{"context", "object_refs"}},
	"identity":         {cat: catSDO, props: props("name:s description:s roles:[s] identity_class:s sectors:[s] contact_information:s"), required: []string{"name"}},
	"incident":         {cat: catSDO, props: props("name:s description:s kill_chain_phases:kc"), required: []string{"name"}},
	"indicator": {cat: catSDO, props: props("name:s description:s indicator_types:[s] pattern:s pattern_type:s pattern_version:s valid_from:t valid_until:t kill_chain_phases:kc"),
		required: []string{"pattern", "pattern_type", "valid_from"}, check: checkIndicator},
	"infrastructure": {cat: catSDO, props: props("name:s description:s infrastructure_types:[s] aliases:[s] kill_chain_phases:kc " + lastSeen), required: []string{"name"}},
	"intrusion-set":  {cat: catSDO, props: props("name:s description:s aliases:[s] goals:[s] " + motives + " " + lastSeen), required: []string{"name"}},
	"location": {cat: catSDO, props: props("name:s description:s latitude:n longitude:n precision:n region:s country:s administrative_area:s city:s street_address:s postal_code:s"),
		check: checkLocation},
	"malware": {cat: catSDO, props: props("name:s description:s malware_types:[s] is_family:b aliases:[s] kill_chain_phases:kc operating_system_refs:[r] architecture_execution_envs:[s] implementation_languages:[s] capabilities:[s] sample_refs:[r] " + lastSeen),
		required: []string{"is_family"}, check: checkMalware},
	"malware-analysis": {cat: catSDO, props: props("product:s version:s host_vm_ref:r operating_system_ref:r installed_software_refs:[r] configuration_version:s modules:[s] analysis_engine_version:s analysis_definition_version:s submitted:t analysis_started:t analysis_ended:t result_name:s result:s analysis_sco_refs:[r] sample_ref:r"),
		required: []string{"product"}, check: checkMalwareAnalysis},
	"note":          {cat: catSDO, props: props("abstract:s content:s authors:[s] object_refs:[r]"), required: []string{"content", "object_refs"}},
	"observed-data": {cat: catSDO, props: props("first_observed:t last_observed:t number_observed:i objects:d object_refs:[r]"), required: []string{"first_observed", "last_observed", "number_observed"}, check: checkObservedData},
	"opinion":       {cat: catSDO, props: props("explanation:s authors:[s] opinion:s object_refs:[r]"), required: []string{"opinion", "object_refs"}, check: checkOpinion},
	"report":        {cat: catSDO, props: props("name:s description:s report_types:[s] published:t object_refs:[r]"), required: []string{"name", "published", "object_refs"}},
	"threat-actor":  {cat: catSDO, props: props("name:s description:s threat_actor_types:[s] aliases:[s] roles:[s] goals:[s] sophistication:s personal_motivations:[s] " + motives + " " + lastSeen), required: []string{"name"}},
	"tool":          {cat: catSDO, props: props("name:s description:s tool_types:[s] aliases:[s] kill_chain_phases:kc tool_version:s"), required: []string{"name"}},
	"vulnerability": {cat: catSDO, props: props("name:s description:s"), required: []string{"name"}},

	// SROs (section 5).
	"relationship": {cat: catSRO, props: props("relationship_type:s description:s source_ref:r target_ref:r start_time:t stop_time:t"),
		required: []string{"relationship_type", "source_ref", "target_ref"}, check: checkRelationship},
	"sighting": {cat: catSRO, props: props("description:s first_seen:t last_seen:t count:i sighting_of_ref:r observed_data_refs:[r] where_sighted_refs:[r] summary:b"),
		required: []string{"sighting_of_ref"}, check: checkSighting},

	// SCOs (section 6).
	"artifact":          {cat: catSCO, props: props("mime_type:s payload_bin:s url:s hashes:h encryption_algorithm:s decryption_key:s"), check: checkArtifact},
	"autonomous-system": {cat: catSCO, props: props("number:i name:s rir:s"), required: []string{"number"}},
	"directory":         {cat: catSCO, props: props("path:s path_enc:s ctime:t mtime:t atime:t contains_refs:[r]"), required: []string{"path"}},
	"domain-name":       {cat: catSCO, props: props("value:s resolves_to_refs:[r]"), required: []string{"value"}},
	"email-addr":        {cat: catSCO, props: props("value:s display_name:s belongs_to_ref:r"), required: []string{"value"}},
	"email-message": {cat: catSCO, props: props("is_multipart:b date:t content_type:s from_ref:r sender_ref:r to_refs:[r] cc_refs:[r] bcc_refs:[r] message_id:s subject:s received_lines:[s] additional_header_fields:d body:s body_multipart:[d] raw_email_ref:r"),
		required: []string{"is_multipart"}},
	"file": {cat: catSCO, props: props("hashes:h size:i name:s name_enc:s magic_number_hex:s mime_type:s ctime:t mtime:t atime:t parent_directory_ref:r contains_refs:[r] content_ref:r"),
		check: checkFile},
	"ipv4-addr": {cat: catSCO, props: props("value:s resolves_to_refs:[r] belongs_to_refs:[r]"), required: []string{"value"}},
	"ipv6-addr": {cat: catSCO, props: props("value:s resolves_to_refs:[r] belongs_to_refs:[r]"), required: []string{"value"}},
	"mac-addr":  {cat: catSCO, props: props("value:s"), required: []string{"value"}},
	"mutex":     {cat: catSCO, props: props("name:s"), required: []string{"name"}},
	"network-traffic": {cat: catSCO, props: props("start:t end:t is_active:b src_ref:r dst_ref:r src_port:i dst_port:i protocols:[s] src_byte_count:i dst_byte_count:i src_packets:i dst_packets:i ipfix:d src_payload_ref:r dst_payload_ref:r encapsulates_refs:[r] encapsulated_by_ref:r"),
		required: []string{"protocols"}, check: checkNetworkTraffic},
	"process": {cat: catSCO, props: props("is_hidden:b pid:i created_time:t cwd:s command_line:s environment_variables:d opened_connection_refs:[r] creator_user_ref:r image_ref:r parent_ref:r child_refs:[r]"),
		needsProperty: true},
	"software": {cat: catSCO, props: props("name:s cpe:s swid:s languages:[s] vendor:s version:s"), required: []string{"name"}},
	"url":      {cat: catSCO, props: props("value:s"), required: []string{"value"}},
	"user-account": {cat: catSCO, props: props("user_id:s credential:s account_login:s account_type:s display_name:s is_service_account:b is_privileged:b can_escalate_privs:b is_disabled:b account_created:t account_expires:t credential_last_changed:t account_first_login:t account_last_login:t"),
		needsProperty: true},
	"windows-registry-key": {cat: catSCO, props: props("key:s values:[d] modified_time:t creator_user_ref:r number_of_subkeys:i"), needsProperty: true},
	"x509-certificate": {cat: catSCO, props: props("is_self_signed:b hashes:h version:s serial_number:s signature_algorithm:s issuer:s validity_not_before:t validity_not_after:t subject:s subject_public_key_algorithm:s subject_public_key_modulus:s subject_public_key_exponent:i x509_v3_extensions:d"),
		needsProperty: true},

	// Meta objects (section 7).
	"marking-definition":   {cat: catMeta, props: map[string]kind{}, check: checkMarkingDefinition},
	"language-content":     {cat: catMeta, props: props("object_ref:r object_modified:t contents:d"), required: []string{"object_ref", "contents"}},
	"extension-definition": {cat: catMeta, props: props("name:s description:s schema:s version:s extension_types:[s] extension_properties:[s]"), required: []string{"created_by_ref", "name", "schema", "version", "extension_types"}, check: checkExtensionDefinition},
}

// scoTypes lists the SCO types of STIX 2.1 (kept apart from types to avoid
// an initialisation cycle through the check functions).
var scoTypes = map[string]bool{
	"artifact": true, "autonomous-system": true, "directory": true, "domain-name": true,
	"email-addr": true, "email-message": true, "file": true, "ipv4-addr": true,
	"ipv6-addr": true, "mac-addr": true, "mutex": true, "network-traffic": true,
	"process": true, "software": true, "url": true, "user-account": true,
	"windows-registry-key": true, "x509-certificate": true,
}

// categoryOf returns the category of a STIX 2.1 type, or 0 for a type the
// specification does not define.
func categoryOf(typ string) category {
	if s, ok := types[typ]; ok {
		return s.cat
	}
	return 0
}

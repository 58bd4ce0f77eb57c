package detente

import (
	"fmt"
	"slices"
	"strings"
)

// CustomTypePrefix starts the name of a custom STIX object type that an
// agreement may name: the prefix STIX gives custom objects, which makes an
// operator's intent to share one explicit and keeps a misspelt standard
// type from passing for a custom one.
const CustomTypePrefix = "x-"

// stixTypes are the object types STIX 2.1 defines: the SDOs (section 4),
// SROs (5), SCOs (6) and meta objects (7). internal/stix validates objects
// of exactly these types; its tests check that the two lists agree.
var stixTypes = []string{
	// SDOs.
	"attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident",
	"indicator", "infrastructure", "intrusion-set", "location", "malware", "malware-analysis",
	"note", "observed-data", "opinion", "report", "threat-actor", "tool", "vulnerability",
	// SROs.
	"relationship", "sighting",
	// SCOs.
	"artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message",
	"file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process",
	"software", "url", "user-account", "windows-registry-key", "x509-certificate",
	// Meta objects.
	"marking-definition", "language-content", "extension-definition",
}

// STIXTypes returns the object types STIX 2.1 defines, sorted.
func STIXTypes() []string {
	ts := slices.Clone(stixTypes)
	slices.Sort(ts)
	return ts
}

// IsSTIXType reports whether typ is an object type STIX 2.1 defines.
func IsSTIXType(typ string) bool { return slices.Contains(stixTypes, typ) }

// CheckSTIXType checks that typ is an object type STIX 2.1 defines, or a
// custom type starting with CustomTypePrefix. The error says what typ is
// not and, when typ looks like a misspelt STIX type, which one was meant.
func CheckSTIXType(typ string) error {
	switch {
	case IsSTIXType(typ):
		return nil
	case strings.HasPrefix(typ, CustomTypePrefix) && stixTypeRE.MatchString(typ):
		return nil
	}
	if s := DidYouMean(typ, stixTypes); s != "" {
		return Errorf(EINVALID, "%q is not a STIX type%s", typ, s)
	}
	return Errorf(EINVALID, "%q is not a STIX type (custom types start with %q)", typ, CustomTypePrefix)
}

// DidYouMean returns ` (did you mean "c"?)` for the candidate c closest to
// s when it is close enough to be what was meant (a letter or two off, a
// letter case, or part of that candidate's name and of no other's), and ""
// otherwise: the end of an error message about a misspelt term.
func DidYouMean(s string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), c); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	// A typo is a letter or two; a word longer than a few letters may
	// take one more. Anything further is another word, not a typo.
	if bestD >= 0 && bestD <= max(2, len(best)/4) {
		if s == best {
			return ""
		}
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	// Or part of one name, and of no other ("ceiling", "domain").
	var within []string
	for _, c := range candidates {
		if len(s) >= 4 && strings.Contains(c, strings.ToLower(s)) {
			within = append(within, c)
		}
	}
	if len(within) == 1 {
		return fmt.Sprintf(" (did you mean %q?)", within[0])
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

package policy

import (
	"context"
	"strconv"
	"strings"

	"detente"
)

// verdict is what one marking means for one release under one agreement.
type verdict struct {
	code   string      // the denying reason code, "" when the marking lets the release go
	detail string      // why, when code is set
	tlp    detente.TLP // the TLP level the marking sets, 0 for none
	tpr    bool        // the marking is a third-party-rule caveat
	travel bool        // a held non-TLP definition that is sent along with the object
	// fingerprint is set for a fingerprint caveat: the object goes only
	// as a fingerprinted copy.
	fingerprint bool
}

// supportedTLP reports whether t is one of the TLP 2.0 levels.
func supportedTLP(t detente.TLP) bool {
	return t >= detente.TLPClear && t <= detente.TLPRed
}

// egressMarking judges marking id for a release to e's partner under a.
// Unknown and unsupported markings fail closed.
func (e *egress) marking(ctx context.Context, id string, a *detente.Agreement) verdict {
	if t, ok := detente.TLPOfMarking(id); ok {
		if t > a.TLPCeiling {
			return verdict{code: detente.ReasonAboveCeiling, tlp: t, detail: aboveCeiling(id, t, a)}
		}
		return verdict{tlp: t}
	}
	m, ok := e.definition(ctx, id)
	if !ok {
		return verdict{code: detente.ReasonMarkingUnknown,
			detail: "marking-definition " + id + " is not held, so what it requires is unknown"}
	}
	v := verdict{tlp: m.TLP, travel: m.Caveat != detente.CaveatReleasableTo && m.Caveat != detente.CaveatFingerprint}
	if m.TLP != 0 {
		if !supportedTLP(m.TLP) {
			v.code, v.detail = detente.ReasonMarkingUnsupported, "marking-definition "+id+" sets an unknown TLP level "+strconv.Itoa(int(m.TLP))
			return v
		}
		if m.TLP > a.TLPCeiling {
			v.code, v.detail = detente.ReasonAboveCeiling, aboveCeiling(id, m.TLP, a)
			return v
		}
	}
	switch m.Caveat {
	case "":
		if m.TLP == 0 && !m.Statement {
			v.code, v.detail = detente.ReasonMarkingUnsupported, "marking-definition "+id+" is of a kind the node does not understand"
		}
	case detente.CaveatReleasableTo:
		if !e.releasableTo(m) {
			v.code, v.detail = detente.ReasonNotReleasableTo,
				"marking-definition "+id+" limits release to "+strings.Join(m.To, ", ")+", not "+e.p.Name
		}
	case detente.CaveatPurpose:
		if m.Purpose != a.Purpose {
			v.code, v.detail = detente.ReasonPurposeMismatch,
				"marking-definition "+id+" limits use to purpose "+strconv.Quote(m.Purpose)+
					"; agreement "+a.ID+" is for "+strconv.Quote(a.Purpose)
		}
	case detente.CaveatThirdPartyRule:
		v.tpr = true
	case detente.CaveatFingerprint:
		v.fingerprint = true
	default:
		v.code, v.detail = detente.ReasonMarkingUnsupported,
			"marking-definition "+id+" carries an unknown caveat "+strconv.Quote(m.Caveat)
	}
	return v
}

// releasableTo reports whether the releasable-to caveat m lists e's
// partner, by name or by the text form of its pinned key.
func (e *egress) releasableTo(m *detente.Marking) bool {
	for _, to := range m.To {
		if to == e.p.Name {
			return true
		}
		if strings.HasPrefix(to, detente.NodeKeyPrefix) && len(e.p.Key) > 0 {
			if e.pkey == "" {
				e.pkey = e.p.Key.String()
			}
			if to == e.pkey {
				return true
			}
		}
	}
	return false
}

// aboveCeiling explains a TLP marking above an agreement's ceiling.
func aboveCeiling(id string, t detente.TLP, a *detente.Agreement) string {
	return "marking " + id + " is tlp:" + t.String() + ", above the tlp:" + a.TLPCeiling.String() +
		" ceiling of agreement " + a.ID
}

// removes reports whether a granular-marking selector removes the
// reference at path, the idx-th reference with that path. A selector
// removes the references at its property or below it ("x" removes "x" and
// "x.y_ref"). A selector "list.[i]" on a reference list whose Ref.Path is
// the list's name removes the i-th reference of that list, counted in the
// order of ObjectVersion.Refs. Any other selector keeps the reference, so
// the object it names is still checked (fail closed).
func removes(sel, path string, idx int) bool {
	if rest, ok := strings.CutPrefix(path, sel); ok {
		if rest == "" || rest[0] == '.' {
			return true
		}
	}
	rest, ok := strings.CutPrefix(sel, path)
	if !ok || len(rest) < 4 || !strings.HasPrefix(rest, ".[") || rest[len(rest)-1] != ']' {
		return false
	}
	n, err := strconv.Atoi(rest[2 : len(rest)-1])
	return err == nil && n == idx
}

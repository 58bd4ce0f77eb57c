package detente

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// PartnerState is where a partner stands with this node.
type PartnerState string

// Partner states. Only an active partner is served or synced. A removed
// partner is kept for its history but never changes again.
const (
	PartnerActive    PartnerState = "active"
	PartnerSuspended PartnerState = "suspended"
	PartnerRemoved   PartnerState = "removed"
)

// Partner is another node known to this one, pinned by its public key.
type Partner struct {
	Name        string       `json:"name"` // short local name, e.g. "bravo"
	Key         PublicKey    `json:"key"`
	URL         string       `json:"url"` // base URL of the partner's node
	State       PartnerState `json:"state"`
	StateReason string       `json:"state_reason,omitempty"`
	Created     time.Time    `json:"created"`
	Updated     time.Time    `json:"updated"`
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// ValidName reports whether s is usable as a node or partner name: lowercase
// letters, digits and hyphens, starting with a letter, at most 63 bytes.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// PartnerNotFound is the error for a partner name this node does not
// know: what the stores' Partner returns, so every face says it alike.
func PartnerNotFound(name string) error {
	return Errorf(ENOTFOUND, "no partner named %q", name)
}

// Validate checks p before it is stored.
func (p *Partner) Validate() error {
	switch {
	case !ValidName(p.Name):
		return Errorf(EINVALID, "partner name %q must be lowercase letters, digits and hyphens, starting with a letter", p.Name)
	case len(p.Key) != 32:
		return Errorf(EINVALID, "partner %s: key is missing or not an Ed25519 key", p.Name)
	case p.State != PartnerActive && p.State != PartnerSuspended && p.State != PartnerRemoved:
		return Errorf(EINVALID, "partner %s: unknown state %q", p.Name, p.State)
	}
	return ValidPartnerURL(p.URL)
}

// ValidPartnerURL checks a partner's base URL: empty (a partner this node
// does not pull from) or an https:// URL with a host and nothing after the
// path. Partners talk over mutual TLS with pinned keys only, so a plain
// http:// URL is refused rather than used in cleartext.
func ValidPartnerURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return Errorf(EINVALID, "partner URL %q is not a URL: want https://host[:port][/path]", s)
	case u.Scheme != "https":
		return Errorf(EINVALID, "partner URL %q must start with https://: partners talk over mutual TLS only", s)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return Errorf(EINVALID, "partner URL %q must not carry credentials, a query or a fragment", s)
	}
	return nil
}

// RetiredKeyDoc is the document kind of the keys partners no longer use:
// a partner's key was changed (often because it leaked). The document's
// id is the key's text form, its body the partner's name.
const RetiredKeyDoc = "retired-key"

// RetiredKeys are the keys partners no longer use, by text form, with
// the partner's name.
type RetiredKeys map[string]string

// RetiredKeysIn returns the retired keys tx's store holds.
func RetiredKeysIn(ctx context.Context, tx Tx) (RetiredKeys, error) {
	ds, err := tx.Docs(ctx, RetiredKeyDoc, "", 0)
	if err != nil {
		return nil, err
	}
	r := make(RetiredKeys, len(ds))
	for _, d := range ds {
		r[d.ID] = string(d.Body)
	}
	return r, nil
}

// Quarantine quarantines v as foreign when a retired key signed it or is
// the origin it names: a retired key speaks for no one any more, on any
// path an object arrives by (a partner, a local tool, a feed). Calling it
// again on v adds nothing.
func (r RetiredKeys) Quarantine(v *ObjectVersion) {
	for _, k := range []PublicKey{v.Signer, v.OriginKey()} {
		if len(k) == 0 {
			continue
		}
		who, ok := r[k.String()]
		if !ok {
			continue
		}
		detail := "signed with " + who + "'s retired key"
		if !k.Equal(v.Signer) {
			detail = "originated by " + who + "'s retired key"
		}
		if !strings.Contains(v.Quarantine, detail) {
			v.AddQuarantine(QuarantineForeign, detail)
		}
		return
	}
}

// QuarantineRetired applies the store's retired keys to each of vs
// (RetiredKeys.Quarantine).
func QuarantineRetired(ctx context.Context, tx Tx, vs []*ObjectVersion) error {
	r, err := RetiredKeysIn(ctx, tx)
	if err != nil || len(r) == 0 {
		return err
	}
	for _, v := range vs {
		r.Quarantine(v)
	}
	return nil
}

// OriginatorOf returns the name this node gives the originator whose key
// is origin: OriginSelf for its own key, a partner's name for a
// partner's, "" for a key it does not know.
func OriginatorOf(origin, self PublicKey, partners []*Partner) string {
	if origin.Equal(self) {
		return OriginSelf
	}
	for _, p := range partners {
		if p.Key.Equal(origin) {
			return p.Name
		}
	}
	return ""
}

// NameKeys returns text (a quarantine reason, an alert) with the keys it
// names replaced by what people call them: "this node" for self, a
// partner's name for a partner's key, and others[key] for any other key
// the caller knows by name (a feed's origin key: "feed NAME").
func NameKeys(text string, self PublicKey, partners []*Partner, others map[string]string) string {
	if !strings.Contains(text, NodeKeyPrefix) {
		return text
	}
	text = strings.ReplaceAll(text, self.String(), "this node")
	for _, p := range partners {
		text = strings.ReplaceAll(text, p.Key.String(), p.Name)
	}
	for k, name := range others {
		text = strings.ReplaceAll(text, k, name)
	}
	return text
}

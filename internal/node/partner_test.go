package node_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	"detente"
	"detente/internal/node"
)

// addPartner adds a partner with a fresh key to n.
func addPartner(t *testing.T, n *node.Node, name string) detente.PublicKey {
	t.Helper()
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := n.AddPartner(context.Background(), name, detente.PublicKey(pub), "https://"+name+".example"); err != nil {
		t.Fatal(err)
	}
	return detente.PublicKey(pub)
}

// addAgreement parses doc and adds it to n.
func addAgreement(n *node.Node, doc string) (*detente.Agreement, error) {
	a, err := detente.ParseAgreement([]byte(doc))
	if err != nil {
		return nil, err
	}
	return n.AddAgreement(context.Background(), a)
}

// TestAddAgreementRefusesDuplicate: two agreements with the same partners
// and terms make suspending one leave sharing on, so the second is
// refused, naming the first, while the first may still be in force.
func TestAddAgreementRefusesDuplicate(t *testing.T) {
	ctx := context.Background()
	n := newNode(t, "alpha")
	addPartner(t, n, "bravo")
	addPartner(t, n, "charlie")
	const doc = `{"partners": ["bravo", "charlie"], "from": "2026-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z",
		"tlp_ceiling": "amber", "types": ["indicator", "report"], "onward_sharing": "none", "purpose": "counter-terrorism", "note": "first"}`
	first, err := addAgreement(n, doc)
	if err != nil {
		t.Fatal(err)
	}
	// The same terms in another order, with another note: the same agreement.
	same := strings.NewReplacer(`["bravo", "charlie"]`, `["charlie", "bravo"]`, `["indicator", "report"]`, `["report", "indicator"]`, `"first"`, `"again"`).Replace(doc)
	_, err = addAgreement(n, same)
	if detente.ErrorCode(err) != detente.EEXISTS || !strings.Contains(detente.ErrorMessage(err), first.ID) {
		t.Fatalf("second identical agreement: %v; want already_exists naming %s", err, first.ID)
	}
	// Suspended, it can be resumed: a copy would be in force when it is.
	if _, err := n.SetAgreementState(ctx, first.ID, detente.AgreementSuspended, "review"); err != nil {
		t.Fatal(err)
	}
	if _, err := addAgreement(n, same); detente.ErrorCode(err) != detente.EEXISTS || !strings.Contains(detente.ErrorMessage(err), "suspended") {
		t.Fatalf("copy of a suspended agreement: %v", err)
	}
	// Different terms are another agreement.
	for _, other := range []string{
		strings.Replace(doc, `"amber"`, `"green"`, 1),
		strings.Replace(doc, `2099-01-01`, `2098-01-01`, 1),
		strings.Replace(doc, `["bravo", "charlie"]`, `["bravo"]`, 1),
		strings.Replace(doc, `"purpose"`, `"match": {"evaluations": 10, "period": "720h", "max_set_size": 10, "modes": ["query"]}, "purpose"`, 1),
	} {
		if _, err := addAgreement(n, other); err != nil {
			t.Errorf("agreement with other terms: %v", err)
		}
	}
	// Once the first has ended, the same terms may be agreed again.
	if _, err := n.SetAgreementState(ctx, first.ID, detente.AgreementEnded, "renegotiated"); err != nil {
		t.Fatal(err)
	}
	if _, err := addAgreement(n, same); err != nil {
		t.Errorf("same terms after the first ended: %v", err)
	}
}

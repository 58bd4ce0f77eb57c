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

func TestUpdatePartner(t *testing.T) {
	ctx := context.Background()
	n := newNode(t, "alpha")
	old := addPartner(t, n, "bravo")
	charlie := addPartner(t, n, "charlie")
	url := "https://bravo.example:9443"
	p, err := n.UpdatePartner(ctx, "bravo", node.PartnerChange{URL: &url}, "moved")
	if err != nil || p.URL != url || !p.Key.Equal(old) {
		t.Fatalf("new URL: %+v, %v", p, err)
	}
	// What this node witnessed of bravo's log under the old key.
	if err := n.Store.Update(ctx, func(tx detente.Tx) error { return tx.SetMeta(ctx, "witness/bravo", "old checkpoint") }); err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	key := detente.PublicKey(pub)
	if p, err = n.UpdatePartner(ctx, "bravo", node.PartnerChange{Key: key}, "key rotated"); err != nil || !p.Key.Equal(key) || p.URL != url {
		t.Fatalf("new key: %+v, %v", p, err)
	}
	var witnessed string
	if err := n.Store.View(ctx, func(tx detente.Tx) (err error) { witnessed, err = tx.Meta(ctx, "witness/bravo"); return }); err != nil || witnessed != "" {
		t.Errorf("witnessed checkpoint after a key change: %q, %v; want none", witnessed, err)
	}
	// Re-pinned: the new key is bravo's, the old one no one's.
	err = n.Store.View(ctx, func(tx detente.Tx) error {
		if q, err := tx.PartnerByKey(ctx, key); err != nil || q.Name != "bravo" {
			t.Errorf("PartnerByKey(new) = %v, %v", q, err)
		}
		if _, err := tx.PartnerByKey(ctx, old); detente.ErrorCode(err) != detente.ENOTFOUND {
			t.Errorf("PartnerByKey(old): %v, want not found", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	evs := partnerEvents(t, n, "bravo")
	last := evs[len(evs)-1]
	if last.Type != detente.EventPartnerChanged || !strings.Contains(string(last.Body), key.String()) ||
		!strings.Contains(string(last.Body), old.String()) || !strings.Contains(string(last.Body), "key rotated") {
		t.Errorf("key change logged as %s %s", last.Type, last.Body)
	}
	bad := "http://bravo.example"
	for name, c := range map[string]struct {
		name   string
		change node.PartnerChange
		reason string
		code   string
	}{
		"no reason":       {"bravo", node.PartnerChange{URL: &url}, "", detente.EINVALID},
		"nothing":         {"bravo", node.PartnerChange{}, "why", detente.EINVALID},
		"unchanged":       {"bravo", node.PartnerChange{URL: &url, Key: key}, "why", detente.ECONFLICT},
		"plain http":      {"bravo", node.PartnerChange{URL: &bad}, "why", detente.EINVALID},
		"own key":         {"bravo", node.PartnerChange{Key: n.PublicKey()}, "why", detente.EINVALID},
		"another's key":   {"bravo", node.PartnerChange{Key: charlie}, "why", detente.EEXISTS},
		"unknown partner": {"zulu", node.PartnerChange{URL: &url}, "why", detente.ENOTFOUND},
	} {
		if _, err := n.UpdatePartner(ctx, c.name, c.change, c.reason); detente.ErrorCode(err) != c.code {
			t.Errorf("%s: %v, want %s", name, err, c.code)
		}
	}
}

// TestRemovePartner: a removed partner is ended for good — not served,
// not synced, its agreements ended — while its history stays.
func TestRemovePartner(t *testing.T) {
	ctx := context.Background()
	n := newNode(t, "alpha")
	key := addPartner(t, n, "bravo")
	addPartner(t, n, "charlie")
	solo, err := addAgreement(n, `{"partner": "bravo", "from": "2026-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z",
		"tlp_ceiling": "amber", "types": ["indicator"], "onward_sharing": "none", "purpose": "counter-terrorism"}`)
	if err != nil {
		t.Fatal(err)
	}
	circle, err := addAgreement(n, `{"partners": ["bravo", "charlie"], "from": "2026-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z",
		"tlp_ceiling": "green", "types": ["indicator"], "onward_sharing": "none", "purpose": "counter-terrorism"}`)
	if err != nil {
		t.Fatal(err)
	}
	other, err := addAgreement(n, `{"partner": "charlie", "from": "2026-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z",
		"tlp_ceiling": "green", "types": ["indicator"], "onward_sharing": "none", "purpose": "counter-terrorism"}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Ingest(ctx, bundle(indicator(indID, detente.MarkingGreen, "2026-01-10T10:00:00.000Z")), node.IngestOptions{}); err != nil {
		t.Fatal(err)
	}

	if _, _, err := n.RemovePartner(ctx, "bravo", ""); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("no reason: %v", err)
	}
	p, ended, err := n.RemovePartner(ctx, "bravo", "programme closed")
	if err != nil {
		t.Fatal(err)
	}
	if p.State != detente.PartnerRemoved || p.StateReason != "programme closed" || len(ended) != 2 {
		t.Fatalf("removed %+v, ended %d agreements", p, len(ended))
	}
	// Its agreements have ended, the circle's too (its terms were agreed
	// with bravo in it); charlie's own stays in force.
	for _, id := range []string{solo.ID, circle.ID, other.ID} {
		var a *detente.Agreement
		if err := n.Store.View(ctx, func(tx detente.Tx) (err error) { a, err = tx.Agreement(ctx, id); return }); err != nil {
			t.Fatal(err)
		}
		want := detente.AgreementEnded
		if id == other.ID {
			want = detente.AgreementActive
		}
		if a.State != want {
			t.Errorf("agreement %s is %s, want %s", id, a.State, want)
		}
	}
	// Nothing is released to it; nothing about it changes again.
	if d, err := n.CheckRelease(ctx, indID, "bravo"); err != nil || d.Allowed {
		t.Errorf("release to a removed partner: %+v, %v", d, err)
	}
	if _, err := n.SetPartnerState(ctx, "bravo", detente.PartnerActive, "oops"); detente.ErrorCode(err) != detente.ECONFLICT {
		t.Errorf("resume a removed partner: %v", err)
	}
	url := "https://bravo.example:9443"
	if _, err := n.UpdatePartner(ctx, "bravo", node.PartnerChange{URL: &url}, "moved"); detente.ErrorCode(err) != detente.ECONFLICT {
		t.Errorf("update a removed partner: %v", err)
	}
	if _, _, err := n.RemovePartner(ctx, "bravo", "again"); detente.ErrorCode(err) != detente.ECONFLICT {
		t.Errorf("remove twice: %v", err)
	}
	if _, err := addAgreement(n, `{"partner": "bravo", "from": "2026-01-01T00:00:00Z", "until": "2099-01-01T00:00:00Z",
		"tlp_ceiling": "red", "types": ["indicator"], "onward_sharing": "none", "purpose": "counter-terrorism"}`); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("agreement with a removed partner: %v", err)
	}
	if _, err := n.Federation.Sync(ctx, "bravo", nil); err == nil {
		t.Error("synced from a removed partner")
	}
	// Its name and key stay with its history.
	if _, err := n.AddPartner(ctx, "bravo", key, ""); detente.ErrorCode(err) != detente.EEXISTS {
		t.Errorf("re-add under its name: %v", err)
	}
	if _, err := n.AddPartner(ctx, "bravo2", key, ""); detente.ErrorCode(err) != detente.EEXISTS || !strings.Contains(detente.ErrorMessage(err), "bravo") {
		t.Errorf("re-add its key: %v", err)
	}
	evs := partnerEvents(t, n, "bravo")
	if len(evs) < 2 || !strings.Contains(string(evs[len(evs)-1].Body), "removed") {
		t.Errorf("removal not logged: %+v", evs)
	}
}

// partnerEvents returns the log events about partner, oldest first.
func partnerEvents(t *testing.T, n *node.Node, partner string) []*detente.Event {
	t.Helper()
	ctx := context.Background()
	var evs []*detente.Event
	err := n.Store.View(ctx, func(tx detente.Tx) (err error) {
		evs, err = tx.Events(ctx, detente.EventFilter{Partner: partner})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

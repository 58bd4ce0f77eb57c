package federation_test

// The federation between running nodes (sync, witnessing, gossip, receipts,
// consents passed on) is tested end to end in internal/server, over
// loopback TLS: TestThreeNodes, TestWitnessing, TestSplitView,
// TestWitnessRollback, TestResumeAfterRestart, TestPartnerAuthentication.
// The tests here are what one node decides alone.

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"detente"
	"detente/internal/federation"
	"detente/internal/node"
	"detente/internal/nodetest"
	"detente/internal/peer"
	"detente/internal/translog"
)

const (
	green = "indicator--00000000-0000-4000-8000-000000000001"
	amber = "indicator--00000000-0000-4000-8000-000000000002"
)

func indicator(id, marking string) map[string]any {
	return map[string]any{"type": "indicator", "spec_version": "2.1", "id": id, "created": "2026-01-10T10:00:00.000Z",
		"modified": "2026-01-10T10:00:00.000Z", "name": "x", "pattern": "[user-account:account_login = 'x']",
		"pattern_type": "stix", "valid_from": "2026-01-10T10:00:00Z", "object_marking_refs": []string{marking}}
}

// alphaWithBravo returns node alpha with partner bravo (key bravoKey)
// under a GREEN agreement, holding a GREEN and an AMBER indicator of its
// own.
func alphaWithBravo(t *testing.T) (n *node.Node, bravoKey ed25519.PrivateKey) {
	t.Helper()
	ctx := context.Background()
	n = nodetest.New(t, "alpha")
	_, bravoKey, _ = ed25519.GenerateKey(nil)
	if _, err := n.AddPartner(ctx, "bravo", detente.PublicKey(bravoKey.Public().(ed25519.PublicKey)), "https://bravo.example:8443"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	doc, _ := json.Marshal(map[string]any{"partner": "bravo", "from": now.Add(-time.Hour), "until": now.Add(24 * time.Hour),
		"tlp_ceiling": "green", "types": []string{"indicator"}, "onward_sharing": detente.OnwardThirdPartyRule, "purpose": "counter-terrorism"})
	ag, err := detente.ParseAgreement(doc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.AddAgreement(ctx, ag); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
		"objects": []any{indicator(green, detente.MarkingGreen), indicator(amber, detente.MarkingAmber)}})
	if _, err := n.Ingest(ctx, b, node.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	return n, bravoKey
}

// TestConsents: only the originator issues and revokes; a partner learns
// of a consent only for what was released to it; a consent from a node
// that is not a partner is refused, and one received again revoked
// records the revocation.
func TestConsents(t *testing.T) {
	ctx := context.Background()
	n, bravoKey := alphaWithBravo(t)
	f := n.Federation

	if _, err := f.IssueConsent(ctx, green, "charlie", detente.ConsentObject, time.Time{}); detente.ErrorCode(err) != detente.ENOTFOUND {
		t.Errorf("consent for an unknown recipient: %v", err)
	}
	if _, err := f.IssueConsent(ctx, green, "bravo", detente.ConsentReport, time.Time{}); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("report-scope consent for an indicator: %v", err)
	}
	c, err := f.IssueConsent(ctx, strings.ToUpper(green[:9])+green[9:], "bravo", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Object != green || c.Scope != detente.ConsentObject || !strings.HasPrefix(c.ID, "consent--") || c.Verify() != nil {
		t.Errorf("issued consent: %+v (verify: %v)", c, c.Verify())
	}

	// Not released to bravo yet: bravo must not learn of it.
	if cs, err := f.ConsentsFor(ctx, "bravo"); err != nil || len(cs) != 0 {
		t.Errorf("ConsentsFor before any release = %+v, %v", cs, err)
	}
	if res, err := n.Release(ctx, green, "bravo"); err != nil || !res.Decision.Allowed {
		t.Fatalf("release: %+v, %v", res, err)
	}
	if cs, err := f.ConsentsFor(ctx, "bravo"); err != nil || len(cs) != 1 || cs[0].Consent.ID != c.ID || cs[0].Revoked {
		t.Errorf("ConsentsFor after the release = %+v, %v", cs, err)
	}

	if err := f.RevokeConsent(ctx, c.ID, ""); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("revocation without a reason: %v", err)
	}
	if err := f.RevokeConsent(ctx, "consent--nope", "why"); detente.ErrorCode(err) != detente.ENOTFOUND {
		t.Errorf("revocation of an unknown consent: %v", err)
	}
	if err := f.RevokeConsent(ctx, c.ID, "operation compromised"); err != nil {
		t.Fatal(err)
	}
	if cs, _ := f.ConsentsFor(ctx, "bravo"); len(cs) != 1 || !cs[0].Revoked || cs[0].RevokedReason != "operation compromised" {
		t.Errorf("ConsentsFor after the revocation = %+v", cs)
	}

	// bravo's own consent for one of its objects: alpha stores it, and
	// cannot revoke it.
	theirs := &detente.Consent{ID: "consent--00000000-0000-4000-8000-0000000000b1", Originator: detente.PublicKey(bravoKey.Public().(ed25519.PublicKey)),
		Recipient: n.PublicKey(), Object: "indicator--00000000-0000-4000-8000-0000000000b2", Scope: detente.ConsentObject, Issued: time.Now().UTC().Truncate(time.Second)}
	theirs.Sign(bravoKey)
	if err := f.AddConsent(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	if err := f.RevokeConsent(ctx, theirs.ID, "not mine"); detente.ErrorCode(err) != detente.EFORBIDDEN {
		t.Errorf("revocation of a partner's consent: %v", err)
	}
	again := *theirs
	again.Revoked, again.RevokedReason = true, "withdrawn"
	if err := f.AddConsent(ctx, &again); err != nil {
		t.Fatal(err)
	}
	all, err := f.Consents(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("Consents = %d, %v; want 2", len(all), err)
	}
	for _, x := range all {
		if x.ID == theirs.ID && (!x.Revoked || x.RevokedReason != "withdrawn") {
			t.Errorf("bravo's consent received again revoked: %+v", x)
		}
	}

	// Signed by a node that is not a partner.
	_, mallory, _ := ed25519.GenerateKey(nil)
	forged := *theirs
	forged.ID, forged.Originator = "consent--00000000-0000-4000-8000-0000000000c1", detente.PublicKey(mallory.Public().(ed25519.PublicKey))
	forged.Sign(mallory)
	if err := f.AddConsent(ctx, &forged); detente.ErrorCode(err) != detente.EINVALID {
		t.Errorf("consent from a stranger: %v", err)
	}

	events := eventsOf(t, n, "")
	var added, revoked int
	for _, e := range events {
		switch e.Type {
		case detente.EventConsentAdded:
			added++
		case detente.EventConsentRevoked:
			revoked++
		}
	}
	if added != 2 || revoked != 2 {
		t.Errorf("logged %d consent.added and %d consent.revoked, want 2 and 2", added, revoked)
	}
}

func eventsOf(t *testing.T, n *node.Node, typ string) []*detente.Event {
	t.Helper()
	ctx := context.Background()
	var es []*detente.Event
	err := n.Store.View(ctx, func(tx detente.Tx) (err error) { es, err = tx.Events(ctx, detente.EventFilter{Type: typ}); return })
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestSyncRefusals: what Sync refuses before reaching the partner.
func TestSyncRefusals(t *testing.T) {
	ctx := context.Background()
	n, _ := alphaWithBravo(t)
	f := n.Federation
	_, key, _ := ed25519.GenerateKey(nil)
	pub := detente.PublicKey(key.Public().(ed25519.PublicKey))
	if _, err := n.AddPartner(ctx, "charlie", pub, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := n.SetPartnerState(ctx, "bravo", detente.PartnerSuspended, "review"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		partner, code string
	}{
		{"zulu", detente.ENOTFOUND},
		{"bravo", detente.EDENIED},
		{"charlie", detente.EINVALID},
	}
	for _, tt := range tests {
		r, err := f.Sync(ctx, tt.partner, nil)
		if detente.ErrorCode(err) != tt.code || r == nil || r.Partner != tt.partner || r.Pages != 0 {
			t.Errorf("Sync(%s) = %+v, %v; want %s", tt.partner, r, err, tt.code)
		}
	}
	// None of them is an active partner with a URL.
	if rs, err := f.SyncAll(ctx, nil); err != nil || len(rs) != 0 {
		t.Errorf("SyncAll = %+v, %v; want nothing to sync", rs, err)
	}
	states, err := f.SyncStates(ctx)
	if err != nil || len(states) != 2 {
		t.Fatalf("SyncStates = %+v, %v; want bravo's and charlie's", states, err)
	}
	for _, s := range states {
		if !s.LastAttempt.IsZero() {
			t.Errorf("a refused sync counted as an attempt: %+v", s)
		}
	}
}

// TestRunSyncBackoff: a partner that cannot be reached is retried after
// 2, 4, 8 … intervals, never more than maxBackoff apart, and every failed
// pass is recorded in its sync state.
func TestRunSyncBackoff(t *testing.T) {
	n, _ := alphaWithBravo(t)
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		f := federation.New(federation.Config{Store: n.Store, Name: n.Name, Key: n.Key, Log: n,
			Peer: func(p *detente.Partner) (*peer.Client, error) {
				calls.Add(1)
				return nil, errors.New("bravo is down")
			}})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { f.RunSync(ctx, time.Second, 8*time.Second); close(done) }()
		// Attempts at 0s, then after 2s, 4s, 8s, 8s: 0, 2, 6, 14, 22.
		time.Sleep(23 * time.Second)
		synctest.Wait()
		cancel()
		<-done
		if got := calls.Load(); got != 5 {
			t.Errorf("%d attempts in 23s, want 5 (at 0, 2, 6, 14 and 22s)", got)
		}
	})
	states, err := n.Federation.SyncStates(context.Background())
	if err != nil || len(states) != 1 || states[0].Errors != 5 || !strings.Contains(states[0].LastError, "bravo is down") {
		t.Errorf("sync state: %+v, %v", states, err)
	}
}

// TestStalledPartnerDelaysNoOther: a partner whose pull hangs (the red
// team's server that never ends its pages, or one that never answers)
// holds up no other partner's pulls: bravo is tried on its own schedule
// while charlie's pull is stuck.
func TestStalledPartnerDelaysNoOther(t *testing.T) {
	n, _ := alphaWithBravo(t)
	_, charlieKey, _ := ed25519.GenerateKey(nil)
	if _, err := n.AddPartner(context.Background(), "charlie", detente.PublicKey(charlieKey.Public().(ed25519.PublicKey)), "https://charlie.example:8443"); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		var bravo, charlie atomic.Int32
		f := federation.New(federation.Config{Store: n.Store, Name: n.Name, Key: n.Key, Log: n.Log,
			Peer: func(p *detente.Partner) (*peer.Client, error) {
				if p.Name == "charlie" {
					charlie.Add(1)
					time.Sleep(time.Hour)
					return nil, errors.New("charlie hung for an hour")
				}
				bravo.Add(1)
				return nil, errors.New("bravo is down")
			}})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { f.RunSync(ctx, time.Second, 8*time.Second); close(done) }()
		time.Sleep(23 * time.Second)
		synctest.Wait()
		if got := bravo.Load(); got != 5 {
			t.Errorf("bravo tried %d times in 23s while charlie hung, want 5 (at 0, 2, 6, 14 and 22s)", got)
		}
		if got := charlie.Load(); got != 1 {
			t.Errorf("charlie's hung pull was started %d times, want 1 (never twice at once)", got)
		}
		cancel()
		<-done
	})
}

// TestCosignatureBinding: a partner's cosignature is stored only under a
// witness name bound to the partner's own key, and only if it verifies.
func TestCosignatureBinding(t *testing.T) {
	ctx := context.Background()
	n, bravoKey := alphaWithBravo(t)
	bravoPub := detente.PublicKey(bravoKey.Public().(ed25519.PublicKey))
	bravo := &detente.Partner{Name: "bravo", Key: bravoPub, State: detente.PartnerActive}
	cp, err := n.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	witness := translog.Origin("bravo", ed25519.PublicKey(bravoPub)) + "/witness"
	line, err := translog.Cosign(cp.Note, witness, bravoKey, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, other, _ := ed25519.GenerateKey(nil)
	forged, _ := translog.Cosign(cp.Note, witness, other, time.Now())
	tests := []struct {
		name string
		c    peer.Cosignature
		code string
	}{
		{"another's witness name", peer.Cosignature{Witness: translog.Origin("bravo", other.Public().(ed25519.PublicKey)) + "/witness", Size: cp.Size, Line: string(line)}, detente.EINVALID},
		{"not a witness name", peer.Cosignature{Witness: strings.TrimSuffix(witness, "/witness"), Size: cp.Size, Line: string(line)}, detente.EINVALID},
		{"signed by another key", peer.Cosignature{Witness: witness, Size: cp.Size, Line: string(forged)}, detente.EINVALID},
		{"no checkpoint of that size", peer.Cosignature{Witness: witness, Size: cp.Size + 7, Line: string(line)}, detente.ENOTFOUND},
		{"good", peer.Cosignature{Witness: witness, Size: cp.Size, Line: string(line)}, ""},
	}
	for _, tt := range tests {
		if err := n.Federation.AddCosignature(ctx, bravo, tt.c); detente.ErrorCode(err) != tt.code {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.code)
		}
	}
	note, err := n.Federation.SignedCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := translog.VerifyCosignature(note, witness, ed25519.PublicKey(bravoPub)); err != nil {
		t.Errorf("published checkpoint lacks bravo's cosignature: %v\n%s", err, note)
	}
}

// TestWitnessedCheckpoint: a node answers, for a log origin bound to one
// of its partners' keys, the checkpoint it last accepted; nothing for any
// other origin.
func TestWitnessedCheckpoint(t *testing.T) {
	ctx := context.Background()
	n, bravoKey := alphaWithBravo(t)
	origin := translog.Origin("bravo", bravoKey.Public().(ed25519.PublicKey))
	if note, err := n.Federation.WitnessedCheckpoint(ctx, origin); err != nil || note != nil {
		t.Errorf("before witnessing: %q, %v", note, err)
	}
	if err := n.Store.Update(ctx, func(tx detente.Tx) error { return tx.SetMeta(ctx, "witness/bravo", "bravo's note\n") }); err != nil {
		t.Fatal(err)
	}
	if note, err := n.Federation.WitnessedCheckpoint(ctx, origin); err != nil || string(note) != "bravo's note\n" {
		t.Errorf("after witnessing: %q, %v", note, err)
	}
	_, other, _ := ed25519.GenerateKey(nil)
	for _, o := range []string{translog.Origin("bravo", other.Public().(ed25519.PublicKey)), "detente/bravo", "", n.Origin()} {
		if note, err := n.Federation.WitnessedCheckpoint(ctx, o); err != nil || note != nil {
			t.Errorf("origin %q: %q, %v", o, note, err)
		}
	}
}

// TestReleaseReceipts: the receipts for a partner are its release
// entries — what was released to it, never a refusal — each with an
// inclusion proof that checks against the node's checkpoint; only sizes of
// the log are accepted.
func TestReleaseReceipts(t *testing.T) {
	ctx := context.Background()
	n, _ := alphaWithBravo(t)
	for _, id := range []string{green, amber, green, green} {
		res, err := n.Release(ctx, id, "bravo")
		if err != nil {
			t.Fatal(err)
		}
		if id == amber && res.Decision.Allowed {
			t.Fatal("the amber indicator goes to bravo: the test needs a refusal")
		}
	}
	cp, err := n.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := translog.ParseCheckpoint(cp.Note, n.Origin(), ed25519.PublicKey(n.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := n.Federation.ReleaseReceipts(ctx, "bravo", -1, cp.Size)
	if err != nil || len(rs) != 3 {
		t.Fatalf("ReleaseReceipts = %d, %v; want 3 (the refusal left out)", len(rs), err)
	}
	for _, r := range rs {
		if r.Event.Type != detente.EventRelease || r.Size != cp.Size || !strings.Contains(string(r.Event.Body), `"allowed":true`) {
			t.Errorf("receipt %+v", r)
		}
		if err := parsed.VerifyInclusion(r.Event.Seq, translog.LeafHash(r.Event), r.Proof); err != nil {
			t.Errorf("receipt %d: %v", r.Event.Seq, err)
		}
	}
	if later, err := n.Federation.ReleaseReceipts(ctx, "bravo", rs[1].Event.Seq, cp.Size); err != nil || len(later) != 1 || later[0].Event.Seq != rs[2].Event.Seq {
		t.Errorf("receipts after %d: %+v, %v", rs[1].Event.Seq, later, err)
	}
	if none, err := n.Federation.ReleaseReceipts(ctx, "charlie", -1, cp.Size); err != nil || none == nil || len(none) != 0 {
		t.Errorf("receipts for another partner: %+v, %v; want an empty list", none, err)
	}
	for _, size := range []int64{0, cp.Size + 1} {
		if _, err := n.Federation.ReleaseReceipts(ctx, "bravo", -1, size); detente.ErrorCode(err) != detente.EINVALID {
			t.Errorf("receipts in a tree of size %d: %v", size, err)
		}
	}
	if w := n.Federation.WitnessName(); w != n.Origin()+"/witness" {
		t.Errorf("WitnessName = %s", w)
	}
}

package demo_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"strings"
	"testing"

	"detente"
	"detente/internal/demo"
	"detente/internal/node"
	"detente/internal/nodetest"
	"detente/internal/stix"
	"detente/internal/taxii"
)

// oasisTLP2 are the OASIS TLP 2.0 marking-definitions, as published with
// the tlp-2.0 extension-definition, in canonical JSON.
var oasisTLP2 = map[string]string{
	detente.MarkingClear:       `{"created":"2022-10-01T00:00:00.000Z","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"clear"}},"id":"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487","name":"TLP:CLEAR","spec_version":"2.1","type":"marking-definition"}`,
	detente.MarkingGreen:       `{"created":"2022-10-01T00:00:00.000Z","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"green"}},"id":"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb","name":"TLP:GREEN","spec_version":"2.1","type":"marking-definition"}`,
	detente.MarkingAmber:       `{"created":"2022-10-01T00:00:00.000Z","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber"}},"id":"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421","name":"TLP:AMBER","spec_version":"2.1","type":"marking-definition"}`,
	detente.MarkingAmberStrict: `{"created":"2022-10-01T00:00:00.000Z","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber+strict"}},"id":"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003","name":"TLP:AMBER+STRICT","spec_version":"2.1","type":"marking-definition"}`,
	detente.MarkingRed:         `{"created":"2022-10-01T00:00:00.000Z","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"red"}},"id":"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1","name":"TLP:RED","spec_version":"2.1","type":"marking-definition"}`,
}

// TestDemoViewsSelfDescribing walks every view of the demo nodes over
// TAXII, each partner's and the local one: no object in a view references
// an object (marking, extension-definition, creator, …) that is not in the
// same view, and the TLP 2.0 definitions served are OASIS's, byte for byte
// in canonical JSON.
func TestDemoViewsSelfDescribing(t *testing.T) {
	ctx := context.Background()
	d, err := demo.Start(ctx, demo.Options{Dir: t.TempDir(), SyncInterval: -1, Init: nodetest.Init, Open: nodetest.Open})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for range 2 {
		for _, a := range d.Agencies {
			if _, err := a.Node.Federation.SyncAll(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	local := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	views := 0
	for _, owner := range d.Agencies {
		base := owner.Server.URL() + "/taxii2/api/"
		held := map[string]bool{} // partners the owner's reciprocity terms hold: their view is the definitions alone
		hs, err := owner.Node.Ledger.Holds(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			held[h.Partner] = true
		}
		check := func(name string, c *taxii.Client, collection string) {
			t.Helper()
			views++
			byID := map[string][]byte{}
			var objs []*stix.Object
			err := c.Walk(ctx, collection, taxii.Filter{Versions: []string{"all"}, Limit: 7}, func(p taxii.Page) error {
				for _, raw := range p.Objects {
					o, err := stix.ParseObject(raw)
					if err != nil {
						t.Errorf("%s: served an invalid object: %v", name, err)
						continue
					}
					byID[o.ID] = o.Raw
					objs = append(objs, o)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(objs) <= len(stix.Definitions()) && !held[strings.TrimPrefix(name, owner.Name+"→")] {
				t.Errorf("%s: %d objects, only the definitions", name, len(objs))
			}
			for _, o := range objs {
				refs := o.ToVersion().RefIDs()
				refs = append(refs, o.ToVersion().Markings...)
				if exts, ok := o.Fields["extensions"].(map[string]any); ok {
					for k := range exts {
						if strings.HasPrefix(k, "extension-definition--") && k != detente.TLP2ExtensionID {
							refs = append(refs, k)
						}
					}
				}
				for _, r := range refs {
					if _, ok := byID[detente.NormalID(r)]; !ok {
						t.Errorf("%s: %s references %s, which is not in the view", name, o.ID, r)
					}
				}
			}
			for id, want := range oasisTLP2 {
				if got := string(byID[id]); got != want {
					t.Errorf("%s: %s is\n%s\nwant OASIS's\n%s", name, id, got, want)
				}
			}
		}
		check(owner.Name+"/local", &taxii.Client{HTTP: local, BaseURL: base, Token: owner.Token}, node.CollectionLocal)
		for _, p := range d.Agencies {
			if p == owner {
				continue
			}
			hc, err := p.Node.PartnerClient(&detente.Partner{Name: owner.Name, Key: owner.Node.PublicKey()})
			if err != nil {
				t.Fatal(err)
			}
			check(owner.Name+"→"+p.Name, &taxii.Client{HTTP: hc, BaseURL: base}, node.CollectionShared)
		}
	}
	if views != 9 {
		t.Errorf("%d views walked, want 9", views)
	}

	// Release bundles describe themselves too: every reference of every
	// object in a bundle alpha releases is in the bundle (the interop
	// check found release export without its TLP definitions, and with a
	// releasable-to caveat left dangling).
	alpha := d.Agencies[0]
	objs, err := alpha.Node.FindObjects(ctx, detente.ObjectFilter{})
	if err != nil {
		t.Fatal(err)
	}
	bundles := 0
	for _, o := range objs {
		if o.Originator != detente.OriginSelf || o.Type == "marking-definition" {
			continue
		}
		for _, p := range d.Agencies[1:] {
			res, err := alpha.Node.Release(ctx, o.ID, p.Name)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Decision.Allowed {
				continue
			}
			bundles++
			in, err := stix.ParseBundle(res.Bundle)
			if err != nil {
				t.Fatalf("release of %s to %s: %v", o.ID, p.Name, err)
			}
			held := map[string]bool{}
			for _, x := range in {
				held[x.ID] = true
			}
			for _, x := range in {
				refs := append(x.ToVersion().RefIDs(), x.ToVersion().Markings...)
				for _, r := range refs {
					if !held[detente.NormalID(r)] {
						t.Errorf("release of %s to %s: %s references %s, not in the bundle", o.ID, p.Name, x.ID, r)
					}
				}
			}
		}
	}
	if bundles == 0 {
		t.Error("no release allowed: nothing checked")
	}
}

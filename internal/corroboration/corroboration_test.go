package corroboration

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"detente"
)

func TestExtract(t *testing.T) {
	for _, c := range []struct {
		typ    string
		fields map[string]any
		want   []Assertion
	}{
		{"ipv4-addr", map[string]any{"value": "198.51.100.7"}, []Assertion{{KindIPv4, "198.51.100.7"}}},
		{"ipv4-addr", map[string]any{"value": "198.51.100.7/24"}, []Assertion{{KindIPv4, "198.51.100.0/24"}}},
		{"ipv6-addr", map[string]any{"value": "2001:DB8:0:0::1"}, []Assertion{{KindIPv6, "2001:db8::1"}}},
		{"ipv4-addr", map[string]any{"value": "not an address"}, nil},
		{"domain-name", map[string]any{"value": "Evil.Example."}, []Assertion{{KindDomain, "evil.example"}}},
		{"url", map[string]any{"value": "HTTPS://Evil.Example:443/a/../b"}, []Assertion{{KindURL, "//evil.example/b"}}},
		{"file", map[string]any{"hashes": map[string]any{"MD5": "D41D8CD98F00B204E9800998ECF8427E"}}, []Assertion{{KindFileHash, "md5:d41d8cd98f00b204e9800998ecf8427e"}}},
		{"email-addr", map[string]any{"value": "Courier@Mail.Example"}, []Assertion{{KindEmail, "courier@mail.example"}}},
		{"indicator", map[string]any{"pattern_type": "stix", "pattern": "[ipv4-addr:value = '203.0.113.9'] OR [domain-name:value = 'X.example']"},
			[]Assertion{{KindIPv4, "203.0.113.9"}, {KindDomain, "x.example"}}},
		{"indicator", map[string]any{"pattern_type": "stix", "pattern": "[network-traffic:dst_ref.value = '203.0.113.9']"},
			[]Assertion{{KindPattern + "network-traffic:dst_ref.value", "203.0.113.9"}}},
		{"indicator", map[string]any{"pattern_type": "sigma", "pattern": "title: x"}, nil},
		{"threat-actor", map[string]any{"name": "Front  Populaire", "aliases": []any{"front-populaire", "FP"}},
			[]Assertion{{KindName, "front populaire"}, {KindName, "fp"}}},
		{"report", map[string]any{"name": "Weekly"}, nil},
	} {
		got := Extract(c.typ, c.fields)
		if len(got) != len(c.want) {
			t.Errorf("%s %v: got %v, want %v", c.typ, c.fields, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s %v: got %v, want %v", c.typ, c.fields, got, c.want)
			}
		}
	}
}

// TestGroundTruth checks the index against synthetic exchanges whose
// truth is known: equal assertions of different originators are linked
// (at least 99 %), different values never are, and relayed copies and
// repeated versions never count as independent sources.
func TestGroundTruth(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		ex := genExchange(seed, 6, 4000)
		ix := NewIndex()
		for i, v := range ex.versions {
			ix.Add(v, ex.fields[i])
		}
		// The same versions read back from their JSON, as a rebuild from
		// the store reads them, index alike.
		stored := NewIndex()
		for i, v := range ex.versions {
			w := *v
			w.Raw, _ = json.Marshal(ex.fields[i])
			ex.versions[i] = &w
		}
		addPage(stored, ex.versions)
		for _, v := range ex.versions {
			if a, b := ix.Of(v, nil), stored.Of(v, nil); !reflect.DeepEqual(a, b) {
				t.Fatalf("seed %d: %s: fed %+v, rebuilt %+v", seed, v.Key(), a, b)
			}
		}
		if ex.relays == 0 || ex.dups == 0 {
			t.Fatalf("seed %d: the generator made no relays (%d) or duplicates (%d)", seed, ex.relays, ex.dups)
		}
		want, linked, wrong := 0, 0, 0
		for i, v := range ex.versions {
			c := ix.Of(v, nil)
			as := Extract(v.Type, ex.fields[i])
			if len(as) != 1 {
				t.Fatalf("seed %d: %s asserts %v, want one value", seed, v.ID, as)
			}
			truth := ex.truth[as[0]]
			if truth == nil {
				t.Fatalf("seed %d: %s asserts %v, which the generator never made (canonicalisation differs)", seed, v.ID, as[0])
			}
			got := map[string]bool{}
			for _, s := range c.IndependentSources {
				got[s] = true
			}
			own := v.OriginKey().String()
			for o := range truth {
				if o == own {
					continue
				}
				want++
				if got[ix.nameOf(o)] {
					linked++
				}
			}
			for s := range got {
				if s == v.Originator {
					t.Errorf("seed %d: %s counts its own originator %s as independent", seed, v.Key(), s)
				}
				ok := false
				for o := range truth {
					ok = ok || ix.nameOf(o) == s
				}
				if !ok {
					wrong++
					t.Errorf("seed %d: %s (%v) linked to %s, which never originated that value (a relay or another value)", seed, v.Key(), as[0], s)
				}
			}
			if c.SingleSource != (len(truth) == 1) {
				t.Errorf("seed %d: %s single_source %v, truth has %d originators", seed, v.Key(), c.SingleSource, len(truth))
			}
		}
		rate := float64(linked) / float64(want)
		t.Logf("seed %d: %d versions (%d relayed, %d repeated), %d links expected, %d found (%.2f %%), %d wrong",
			seed, len(ex.versions), ex.relays, ex.dups, want, linked, 100*rate, wrong)
		if rate < 0.99 {
			t.Errorf("seed %d: linked %.2f %% of equal assertions, want at least 99 %%", seed, 100*rate)
		}
	}
}

// TestRelayIsNotIndependent: a value only A originated, relayed by B,
// stays single-source, however many copies.
func TestRelayIsNotIndependent(t *testing.T) {
	a, b := key(1), key(2)
	ix := NewIndex()
	f := map[string]any{"value": "203.0.113.5"}
	ix.Add(&detente.ObjectVersion{Seq: 1, ID: "ipv4-addr--1", Type: "ipv4-addr", Signer: a, Originator: "a"}, f)
	relayed := &detente.ObjectVersion{Seq: 2, ID: "ipv4-addr--1", Type: "ipv4-addr", Signer: b, Origin: a, Originator: "a"}
	ix.Add(relayed, f)
	if c := ix.Of(relayed, nil); !c.SingleSource || len(c.IndependentSources) != 0 {
		t.Errorf("relayed copy: %+v, want single-source", c)
	}
	own := &detente.ObjectVersion{Seq: 3, ID: "indicator--2", Type: "indicator", Signer: b, Originator: "b"}
	ix.Add(own, map[string]any{"pattern": "[ipv4-addr:value = '203.0.113.5']", "pattern_type": "stix"})
	if c := ix.Of(relayed, nil); c.SingleSource || len(c.IndependentSources) != 1 || c.IndependentSources[0] != "b" {
		t.Errorf("once b asserts it itself: %+v, want corroborated by b", c)
	}
}

func key(i byte) detente.PublicKey {
	k := make(detente.PublicKey, 32)
	k[0] = i
	return k
}

// TestNamesThroughMatcher: names of actors link across scripts and
// spellings through the screening name matcher, and different names do
// not.
func TestNamesThroughMatcher(t *testing.T) {
	ix := NewIndex()
	seq := int64(0)
	put := func(origin byte, typ, name string) *detente.ObjectVersion {
		seq++
		v := &detente.ObjectVersion{Seq: seq, ID: fmt.Sprintf("%s--%d", typ, seq), Type: typ, Signer: key(origin), Originator: fmt.Sprintf("o%d", origin)}
		ix.Add(v, map[string]any{"name": name})
		return v
	}
	lavrov := put(1, "identity", "Sergei Lavrov")
	put(2, "identity", "Сергей Лавров")
	karimov := put(1, "threat-actor", "Yusuf Karimov")
	put(3, "threat-actor", "Jusuf Karimow")
	front := put(1, "threat-actor", "Black Meridian Front")
	put(2, "threat-actor", "Sons of the Tide")
	put(3, "intrusion-set", "Northern Lights Group")
	for _, c := range []struct {
		v    *detente.ObjectVersion
		want []string
	}{
		{lavrov, []string{"o2"}},
		{karimov, []string{"o3"}},
		{front, []string{}},
	} {
		got := ix.Of(c.v, nil)
		if !reflect.DeepEqual(got.IndependentSources, c.want) {
			t.Errorf("%s: sources %v, want %v (%+v)", c.v.ID, got.IndependentSources, c.want, got.Links)
		}
	}
}

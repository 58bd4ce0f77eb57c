package psi

import (
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
)

// fuzzCanonical checks that a canonicaliser never panics, that its keys are
// tagged with its type, and, when idempotent is set, that canonicalising
// the canonical value gives it back.
func fuzzCanonical(f *testing.F, ty Type, idempotent bool, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		ks, err := Selector{Type: ty, Value: v}.Keys()
		if err != nil {
			return
		}
		if len(ks) == 0 || len(ks) > maxPersonKeys {
			t.Fatalf("%d keys", len(ks))
		}
		for _, k := range ks {
			if !strings.HasPrefix(k.Tag, "detente/psi/"+string(ty)+"/v") {
				t.Fatalf("key %v has a foreign tag", k)
			}
		}
		if !idempotent {
			return
		}
		again, err := Selector{Type: ty, Value: ks[0].Value}.Keys()
		if err != nil {
			t.Fatalf("canonical value %q refused: %v", ks[0].Value, err)
		}
		if again[0] != ks[0] {
			t.Fatalf("not idempotent: %q -> %q -> %q", v, ks[0].Value, again[0].Value)
		}
	})
}

func FuzzPerson(f *testing.F) {
	for _, s := range []string{"Sergei Lavrov|1950-03-21", "Сергей Лавров|21.03.1950", "محمد|1970", "|", "a|1800-02-29"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		ks, err := Selector{Type: TypePerson, Value: v}.Keys()
		if err != nil {
			return
		}
		if len(ks) == 0 || len(ks) > maxPersonKeys || ks[0].Variant() != VariantSkeleton {
			t.Fatalf("keys %v", ks)
		}
		dob := ks[0].Value[strings.LastIndexByte(ks[0].Value, '|'):]
		for _, k := range ks {
			if !strings.HasSuffix(k.Value, dob) || len(dob) < 5 {
				t.Fatalf("key %v lacks the date of birth", k)
			}
		}
	})
}

func FuzzDocument(f *testing.F) {
	fuzzCanonical(f, TypeDocument, true, "UTO:L898902C3", "d<<:c01x 00t4", td3Specimen, td1Specimen, td2Specimen, ":", "A:<")
}

func FuzzPhone(f *testing.F) {
	fuzzCanonical(f, TypePhone, true, "+44 20 7946 0000", "0044 (0)20", "tel:+1.202.555.0123", "+", "00")
}

func FuzzEmail(f *testing.F) {
	fuzzCanonical(f, TypeEmail, true, "John.Doe@Example.COM.", "mailto:a@b", "a@b..", "ü@bücher.de")
}

func FuzzWallet(f *testing.F) {
	fuzzCanonical(f, TypeWallet, true, "eth:0x52908400098527886E0F7030069857D2E4169EE7", "usdt:TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf",
		"btc:BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ", "bch:bitcoincash:QPM2QSZNHKS23Z7629MMS6S4CWEF74VCWVY22GDX6A")
}

func FuzzFileHash(f *testing.F) {
	fuzzCanonical(f, TypeFileHash, true, "SHA-256:"+strings.Repeat("ab", 32), strings.Repeat("0", 40), "md5:")
}

func FuzzAccount(f *testing.F) {
	fuzzCanonical(f, TypeAccount, true, "Twitter:@SomeOne", "tg:x", ":@")
}

func FuzzURL(f *testing.F) {
	for _, s := range []string{"HTTPS://Example.COM:443/a/./b/../c?x=1#frag", "http://[::1]:80/", "ftp://a/b/../", "http://a/%7e%2F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, err := CanonicalURL(v)
		if err != nil {
			return
		}
		// Canonical http(s) forms are scheme-relative: put a scheme back.
		in := c
		if strings.HasPrefix(c, "//") {
			in = "https:" + c
		}
		again, err := CanonicalURL(in)
		if err != nil {
			t.Fatalf("canonical %q refused: %v", c, err)
		}
		if again != c {
			t.Fatalf("not idempotent: %q -> %q -> %q", v, c, again)
		}
	})
}

func FuzzParseMRZ(f *testing.F) {
	for _, s := range []string{td3Specimen, td1Specimen, td2Specimen, longTD1(), strings.Repeat("<", 90)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMRZ(s)
		if err != nil {
			if _, ok := err.(*MRZError); !ok {
				t.Fatalf("error %T is not an *MRZError", err)
			}
			return
		}
		if m.Number == "" || m.IssuingState == "" {
			t.Fatalf("parsed without number or state: %+v", m)
		}
		if _, err := m.Document().Keys(); err != nil {
			t.Fatalf("parsed zone gives a bad selector: %v", err)
		}
	})
}

func FuzzParseWatchlist(f *testing.F) {
	key, _ := NewOwnerKey(rand.Reader)
	w, _ := EncodeWatchlist(key, "e", randomSelectors(0, 5))
	b, _ := w.MarshalBinary()
	f.Add(b)
	f.Add([]byte("DTPSIWL1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := ParseWatchlist(b)
		if err != nil {
			return
		}
		out, _ := w.MarshalBinary()
		if string(out) != string(b) {
			t.Fatal("round trip differs")
		}
	})
}

// FuzzQueryMessages feeds arbitrary JSON to the owner as a request and to
// the querier as a response.
func FuzzQueryMessages(f *testing.F) {
	key, _ := NewOwnerKey(rand.Reader)
	w, _ := EncodeWatchlist(key, "e", randomSelectors(0, 5))
	owner, _ := NewOwner(key, "e")
	_, req, _ := NewQuery(w, randomSelectors(0, 3), QueryOptions{NoPadding: true})
	resp, _ := owner.Evaluate(req)
	rb, _ := json.Marshal(req)
	pb, _ := json.Marshal(resp)
	f.Add(rb)
	f.Add(pb)
	f.Add([]byte(`{"version":2,"epoch":"e","elements":"AAAA"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r QueryRequest
		if json.Unmarshal(b, &r) == nil {
			if resp, err := owner.Evaluate(&r); err == nil && resp.Cost != r.Count() {
				t.Fatalf("cost %d for %d elements", resp.Cost, r.Count())
			}
		}
		var p QueryResponse
		if json.Unmarshal(b, &p) == nil {
			q, _, err := NewQuery(w, randomSelectors(0, 3), QueryOptions{NoPadding: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := q.Finalize(&p); err == nil && string(p.Elements) != string(resp.Elements) {
				// Only the honest evaluation of this query could verify,
				// and the query's blinds are fresh: any success is a bug.
				t.Fatal("forged response accepted")
			}
		}
	})
}

// FuzzBulkMessages feeds arbitrary bytes, in both encodings, to every
// receiving step of a bulk exchange.
func FuzzBulkMessages(f *testing.F) {
	set, _ := NewSet(randomSelectors(0, 12), ModeIntersection)
	p := BulkParams{Session: "fuzz", Mode: ModeIntersection, Learner: LearnerBoth}
	_, hello, _ := NewBulkInitiator(p, set, BulkOptions{NoPadding: true})
	_, reply, _ := RespondBulk(p, set, hello, BulkOptions{NoPadding: true})
	for _, m := range []interface{ MarshalBinary() ([]byte, error) }{hello, reply, &BulkFinish{Version: ProtocolVersion, Session: "fuzz", Tags: make([]byte, 12*12)}} {
		b, _ := m.MarshalBinary()
		f.Add(b)
		j, _ := json.Marshal(m)
		f.Add(j)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		decode := func(m interface{ UnmarshalBinary([]byte) error }) bool {
			return m.UnmarshalBinary(b) == nil || json.Unmarshal(b, m) == nil
		}
		var h BulkHello
		if decode(&h) {
			_, _, _ = RespondBulk(p, set, &h, BulkOptions{NoPadding: true})
		}
		var r BulkReply
		if decode(&r) {
			bi, _, err := NewBulkInitiator(p, set, BulkOptions{NoPadding: true})
			if err != nil {
				t.Fatal(err)
			}
			_, _, _ = bi.HandleReply(&r)
		}
		var fin BulkFinish
		if decode(&fin) {
			_, hello, _ := NewBulkInitiator(p, set, BulkOptions{NoPadding: true})
			br, _, err := RespondBulk(p, set, hello, BulkOptions{NoPadding: true})
			if err != nil {
				t.Fatal(err)
			}
			if res, err := br.HandleFinish(&fin); err == nil && res.Count > set.Len() {
				t.Fatalf("count %d above set size %d", res.Count, set.Len())
			}
		}
	})
}

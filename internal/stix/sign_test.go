package stix

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"detente"
)

// testKey is a fixed key so that failures reproduce.
var testKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

func TestSignVerify(t *testing.T) {
	g := detente.Grading{Reliability: 'B', Credibility: 2}
	signed, err := Sign([]byte(sampleIndicator), testKey, g)
	if err != nil {
		t.Fatal(err)
	}
	pub := detente.PublicKey(testKey.Public().(ed25519.PublicKey))
	o, err := ParseObject(signed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(o.Raw, signed) {
		t.Error("Sign output is not canonical")
	}
	v := o.ToVersion()
	if v.Grading != g || !v.Signer.Equal(pub) || len(v.Signature) != ed25519.SignatureSize {
		t.Errorf("ToVersion grading %v signer %v sig %d bytes", v.Grading, v.Signer, len(v.Signature))
	}

	// The signed message is exactly as documented.
	var m map[string]any
	if err := json.Unmarshal(signed, &m); err != nil {
		t.Fatal(err)
	}
	ext := m["extensions"].(map[string]any)[ExtensionID].(map[string]any)
	sig, _ := base64.StdEncoding.DecodeString(ext["signature"].(string))
	delete(ext, "signature")
	plain, _ := json.Marshal(m)
	canon, err := Canonicalize(plain)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(ed25519.PublicKey(pub), append([]byte("detente-stix/v1\n"), canon...), sig) {
		t.Error("signature is not over prefix + canonical JSON without the signature member")
	}

	// Key order and whitespace do not matter.
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(mod(string(signed), func(map[string]any) {})), "", "   "); err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string][]byte{"canonical": signed, "reindented": pretty.Bytes()} {
		t.Run(name, func(t *testing.T) {
			key, ok, err := Verify(in)
			if err != nil || !ok || !key.Equal(pub) {
				t.Errorf("Verify = %v, %v, %v", key, ok, err)
			}
		})
	}

	// Re-signing replaces the extension.
	again, err := Sign(signed, testKey, detente.Grading{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(again), `"grading"`) {
		t.Error("re-signing with a zero grading kept the old grading")
	}
	if _, ok, err := Verify(again); !ok || err != nil {
		t.Errorf("re-signed: %v %v", ok, err)
	}
}

func TestVerifyFailures(t *testing.T) {
	signed, err := Sign([]byte(sampleIndicator), testKey, detente.Grading{Reliability: 'A', Credibility: 1})
	if err != nil {
		t.Fatal(err)
	}
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	otherKey := detente.PublicKey(other.Public().(ed25519.PublicKey)).String()
	tamper := func(f func(m map[string]any)) []byte { return []byte(mod(string(signed), f)) }
	ext := func(m map[string]any) map[string]any {
		return m["extensions"].(map[string]any)[ExtensionID].(map[string]any)
	}
	tests := []struct {
		name string
		in   []byte
		msg  string
	}{
		{"changed description", tamper(func(m map[string]any) { m["description"] = "benign" }), "signature does not verify"},
		{"changed grading", tamper(func(m map[string]any) { ext(m)["grading"] = "A2" }), "signature does not verify"},
		{"removed grading", tamper(func(m map[string]any) { delete(ext(m), "grading") }), "signature does not verify"},
		{"other signer", tamper(func(m map[string]any) { ext(m)["signer"] = otherKey }), "signature does not verify"},
		{"flipped signature bit", tamper(func(m map[string]any) {
			s, _ := base64.StdEncoding.DecodeString(ext(m)["signature"].(string))
			s[10] ^= 1
			ext(m)["signature"] = base64.StdEncoding.EncodeToString(s)
		}), "signature does not verify"},
		{"short signature", tamper(func(m map[string]any) { ext(m)["signature"] = "AAAA" }), "Ed25519 signature"},
		{"signature removed", tamper(func(m map[string]any) { delete(ext(m), "signature") }), "required property missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Verify(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v, want an error containing %q", err, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: ") {
				t.Errorf("error %q does not name the object", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || detente.ErrorCode(err) != detente.EINVALID {
				t.Errorf("error %v is not a ValidationError with code invalid", err)
			}
		})
	}
}

func TestVerifyUnsigned(t *testing.T) {
	key, ok, err := Verify([]byte(sampleIndicator))
	if key != nil || ok || err != nil {
		t.Errorf("unsigned: %v %v %v", key, ok, err)
	}
	// A grading without a signature is unsigned too.
	graded := mod(sampleIndicator, func(m map[string]any) {
		m["extensions"] = map[string]any{ExtensionID: map[string]any{"extension_type": "property-extension", "grading": "C3"}}
	})
	o, err := ParseObject([]byte(graded))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := o.Verify(); ok || err != nil {
		t.Errorf("graded only: %v %v", ok, err)
	}
	if g := o.Grading(); g.String() != "C3" {
		t.Errorf("grading %v", g)
	}
}

func TestSignRejects(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		key     ed25519.PrivateKey
		grading detente.Grading
	}{
		{"invalid object", `{"type":"indicator"}`, testKey, detente.Grading{}},
		{"short key", sampleIndicator, testKey[:10], detente.Grading{}},
		{"bad grading", sampleIndicator, testKey, detente.Grading{Reliability: 'Z', Credibility: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Sign([]byte(tt.in), tt.key, tt.grading); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestSignEveryKind(t *testing.T) {
	// Objects of every category can carry the extension.
	for _, in := range []string{
		sco("ipv4-addr", "ipv4-addr--"+u5, `"value":"198.51.100.3"`),
		string(NewCaveatMarking(detente.CaveatThirdPartyRule, nil, "", testTime)),
		obj("relationship", "relationship--"+u1, `"relationship_type":"indicates","source_ref":"indicator--`+u2+`","target_ref":"malware--`+u2+`"`),
	} {
		s, err := Sign([]byte(in), testKey, detente.Grading{Reliability: 'F', Credibility: 6})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, err := Verify(s); !ok || err != nil {
			t.Errorf("%s: %v %v", s, ok, err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	o, err := ParseObject([]byte(sampleIndicator))
	if err != nil {
		b.Fatal(err)
	}
	g := detente.Grading{Reliability: 'B', Credibility: 2}
	for b.Loop() {
		if _, err := o.Sign(testKey, g); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	signed, err := Sign([]byte(sampleIndicator), testKey, detente.Grading{Reliability: 'B', Credibility: 2})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, ok, err := Verify(signed); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkIngest measures what the node does per received object before
// the store: parse and validate a bundle, sign every object.
func BenchmarkIngest(b *testing.B) {
	const n = 1000
	in := bundleOf(n)
	g := detente.Grading{Reliability: 'B', Credibility: 2}
	for b.Loop() {
		objs, err := ParseBundle(in)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range objs {
			if _, err := o.Sign(testKey, g); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "objects/s")
}

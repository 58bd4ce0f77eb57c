package psi

import (
	"bufio"
	"bytes"
	"crypto"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/oprf"
	"github.com/cloudflare/circl/zk/dleq"
)

// rfcVector is one test vector of RFC 9497 Appendix A, with the key
// material of its mode.
type rfcVector struct {
	mode string
	name string
	kv   map[string]string
}

// list returns the comma-separated hex values of field f.
func (v rfcVector) list(t *testing.T, f string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, s := range strings.Split(v.kv[f], ",") {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatalf("%s %s: %s: %v", v.mode, v.name, f, err)
		}
		out = append(out, b)
	}
	return out
}

func (v rfcVector) one(t *testing.T, f string) []byte { return v.list(t, f)[0] }

// readRFCVectors parses testdata/rfc9497-ristretto255-sha512.txt, written
// as in the RFC: "Key = value" lines, long values wrapped onto lines
// without " = ", modes under "### ", vectors under "#### ".
func readRFCVectors(t *testing.T) []rfcVector {
	t.Helper()
	f, err := os.Open("testdata/rfc9497-ristretto255-sha512.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out  []rfcVector
		mode string
		keys map[string]string
		cur  map[string]string
		last string
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#### "):
			cur = make(map[string]string)
			for k, v := range keys {
				cur[k] = v
			}
			out = append(out, rfcVector{mode: mode, name: line[5:], kv: cur})
		case strings.HasPrefix(line, "### "):
			mode, keys, cur = line[4:], make(map[string]string), nil
		case strings.Contains(line, " = "):
			k, v, _ := strings.Cut(line, " = ")
			last = k
			if cur != nil {
				cur[k] = v
			} else if keys != nil {
				keys[k] = v
			}
		case line != "" && last != "" && (cur != nil || keys != nil):
			if cur != nil {
				cur[last] += line
			} else {
				keys[last] += line
			}
		default:
			last = ""
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) != 5 {
		t.Fatalf("read %d vectors, want 5", len(out))
	}
	return out
}

func scalars(t *testing.T, bs [][]byte) []group.Scalar {
	t.Helper()
	out := make([]group.Scalar, len(bs))
	for i, b := range bs {
		out[i] = group.Ristretto255.NewScalar()
		if err := out[i].UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func marshalAll(t *testing.T, es []group.Element) [][]byte {
	t.Helper()
	out := make([][]byte, len(es))
	for i, e := range es {
		b, err := e.MarshalBinaryCompress()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

func equalAll(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestRFC9497Vectors checks circl's ristretto255-SHA512 OPRF and VOPRF, as
// this package uses them, against the known answers of RFC 9497.
func TestRFC9497Vectors(t *testing.T) {
	for _, v := range readRFCVectors(t) {
		t.Run(v.mode+"/"+v.name, func(t *testing.T) {
			mode := oprf.BaseMode
			if v.mode == "VOPRF Mode" {
				mode = oprf.VerifiableMode
			}
			sk, err := oprf.DeriveKey(suite, mode, v.one(t, "Seed"), v.one(t, "KeyInfo"))
			if err != nil {
				t.Fatal(err)
			}
			skb, _ := sk.MarshalBinary()
			if !bytes.Equal(skb, v.one(t, "skSm")) {
				t.Fatalf("skSm = %x, want %x", skb, v.one(t, "skSm"))
			}
			inputs := v.list(t, "Input")
			blinds := scalars(t, v.list(t, "Blind"))
			want := func(field string, got [][]byte) {
				t.Helper()
				if !equalAll(got, v.list(t, field)) {
					t.Fatalf("%s = %x, want %x", field, got, v.list(t, field))
				}
			}
			if mode == oprf.BaseMode {
				c := oprf.NewClient(suite)
				fin, req, err := c.DeterministicBlind(inputs, blinds)
				if err != nil {
					t.Fatal(err)
				}
				want("BlindedElement", marshalAll(t, req.Elements))
				ev, err := oprf.NewServer(suite, sk).Evaluate(req)
				if err != nil {
					t.Fatal(err)
				}
				want("EvaluationElement", marshalAll(t, ev.Elements))
				outs, err := c.Finalize(fin, ev)
				if err != nil {
					t.Fatal(err)
				}
				want("Output", outs)
				return
			}
			pkb, _ := sk.Public().MarshalBinary()
			if !bytes.Equal(pkb, v.one(t, "pkSm")) {
				t.Fatalf("pkSm = %x, want %x", pkb, v.one(t, "pkSm"))
			}
			c := oprf.NewVerifiableClient(suite, sk.Public())
			fin, req, err := c.DeterministicBlind(inputs, blinds)
			if err != nil {
				t.Fatal(err)
			}
			want("BlindedElement", marshalAll(t, req.Elements))
			srv := oprf.NewVerifiableServer(suite, sk)
			ev, err := srv.Evaluate(req)
			if err != nil {
				t.Fatal(err)
			}
			want("EvaluationElement", marshalAll(t, ev.Elements))

			// The proof with the RFC's randomness is the RFC's proof.
			k := group.Ristretto255.NewScalar()
			if err := k.UnmarshalBinary(skb); err != nil {
				t.Fatal(err)
			}
			params := dleq.Params{G: group.Ristretto255, H: crypto.SHA512,
				DST: append([]byte("OPRFV1-\x01-"), suite.Identifier()...)}
			pk := group.Ristretto255.NewElement()
			if err := pk.UnmarshalBinary(pkb); err != nil {
				t.Fatal(err)
			}
			proof, err := dleq.Prover{Params: params}.ProveBatchWithRandomnessRFC9497(
				k, pk, req.Elements, ev.Elements, scalars(t, v.list(t, "ProofRandomScalar"))[0])
			if err != nil {
				t.Fatal(err)
			}
			pb, _ := proof.MarshalBinary()
			want("Proof", [][]byte{pb})

			// The client accepts the RFC's proof and computes its output.
			rfcProof := new(dleq.Proof)
			if err := rfcProof.UnmarshalBinary(group.Ristretto255, v.one(t, "Proof")); err != nil {
				t.Fatal(err)
			}
			outs, err := c.Finalize(fin, &oprf.Evaluation{Elements: ev.Elements, Proof: rfcProof})
			if err != nil {
				t.Fatalf("Finalize with the RFC proof: %v", err)
			}
			want("Output", outs)
			// And the server's FullEvaluate, which encodes watchlists,
			// agrees.
			for i, in := range inputs {
				out, err := srv.FullEvaluate(in)
				if err != nil || !bytes.Equal(out, outs[i]) {
					t.Fatalf("FullEvaluate(%x) = %x, %v; want %x", in, out, err, outs[i])
				}
			}
		})
	}
}

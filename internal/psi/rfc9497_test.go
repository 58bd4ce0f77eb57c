package psi

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/gtank/ristretto255"
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

// scalars decodes canonical scalars.
func scalars(t *testing.T, bs [][]byte) []*ristretto255.Scalar {
	t.Helper()
	out := make([]*ristretto255.Scalar, len(bs))
	for i, b := range bs {
		out[i] = ristretto255.NewScalar()
		if err := out[i].Decode(b); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// split cuts concatenated encodings into elements.
func split(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		out = append(out, b[:ElementSize])
		b = b[ElementSize:]
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

// TestRFC9497Vectors checks this package's ristretto255-SHA512 OPRF and
// VOPRF (voprf.go) against the known answers of RFC 9497 Appendix A.1:
// key derivation, blinding, evaluation, the batched DLEQ proof with the
// RFC's nonce, verification of the RFC's proof, and the outputs of both
// Finalize and the server's Evaluate, which encodes watchlists.
func TestRFC9497Vectors(t *testing.T) {
	for _, v := range readRFCVectors(t) {
		t.Run(v.mode+"/"+v.name, func(t *testing.T) {
			var s *voprfSuite
			switch v.mode {
			case "OPRF Mode":
				s = newVOPRFSuite(modeOPRF)
			case "VOPRF Mode":
				s = voprf
			default:
				t.Fatalf("unknown mode %q", v.mode)
			}
			key, err := s.deriveKey(v.one(t, "Seed"), v.one(t, "KeyInfo"))
			if err != nil {
				t.Fatal(err)
			}
			if skb := key.sk.Encode(nil); !bytes.Equal(skb, v.one(t, "skSm")) {
				t.Fatalf("skSm = %x, want %x", skb, v.one(t, "skSm"))
			}
			inputs := v.list(t, "Input")
			want := func(field string, got [][]byte) {
				t.Helper()
				if !equalAll(got, v.list(t, field)) {
					t.Fatalf("%s = %x, want %x", field, got, v.list(t, field))
				}
			}
			st, err := s.blind(inputs, scalars(t, v.list(t, "Blind")))
			if err != nil {
				t.Fatal(err)
			}
			want("BlindedElement", split(st.blinded.enc))
			// The server decodes what the client sent.
			blinded, err := decodeVOPRFBatch(bytes.Join(v.list(t, "BlindedElement"), nil))
			if err != nil {
				t.Fatal(err)
			}
			if s != voprf {
				ev := key.evaluateBatch(blinded)
				want("EvaluationElement", split(ev.enc))
				want("Output", st.unblind(ev))
				return
			}
			want("pkSm", [][]byte{key.pub.enc})

			// The proof with the RFC's nonce is the RFC's proof.
			ev, proof := key.blindEvaluateWithNonce(blinded, scalars(t, v.list(t, "ProofRandomScalar"))[0])
			want("EvaluationElement", split(ev.enc))
			want("Proof", [][]byte{proof})

			// The client accepts the RFC's proof and computes its output.
			pk, err := parseVOPRFPublic(v.one(t, "pkSm"))
			if err != nil {
				t.Fatal(err)
			}
			rfcEv, err := decodeVOPRFBatch(bytes.Join(v.list(t, "EvaluationElement"), nil))
			if err != nil {
				t.Fatal(err)
			}
			outs, err := st.finalize(pk, rfcEv, v.one(t, "Proof"))
			if err != nil {
				t.Fatalf("finalize with the RFC proof: %v", err)
			}
			want("Output", outs)
			// And the server's Evaluate agrees.
			for i, in := range inputs {
				out, err := key.evaluate(in)
				if err != nil || !bytes.Equal(out, outs[i]) {
					t.Fatalf("evaluate(%x) = %x, %v; want %x", in, out, err, outs[i])
				}
			}
		})
	}
}

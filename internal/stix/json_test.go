package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// Known answers from RFC 8785 (section 3.2.2, section 3.2.3 and appendix B),
// written out by hand.
func TestCanonicalizeRFC8785(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{
			name: "section 3.2.2 example",
			in: `{
  "numbers": [333333333.33333329, 1E30, 4.50,
              2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`,
			want: `{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
		},
		{
			name: "section 3.2.3 sorting by UTF-16 code units",
			in: `{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}`,
			want: "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}",
		},
		{name: "nested and whitespace", in: " { \"b\" : [ 1 , { \"d\":1,\"c\":2 } ] , \"a\" : { } } ", want: `{"a":{},"b":[1,{"c":2,"d":1}]}`},
		{name: "escapes kept minimal", in: `"\u0008\u0009\u000a\u000c\u000d\u001f\u007f\u2028"`, want: "\"\\b\\t\\n\\f\\r\\u001f\u007f\u2028\""},
		{name: "minus zero", in: `-0.0`, want: `0`},
		{name: "integers", in: `[0, -1, 100, 1e2, 123456789012345678]`, want: `[0,-1,100,100,123456789012345680]`},
		{name: "empty containers", in: `[{},[],""]`, want: `[{},[],""]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonicalize([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestNumberSerializationRFC8785(t *testing.T) {
	// Appendix B: IEEE 754 bit patterns and their ECMAScript form.
	tests := []struct {
		bits uint64
		want string
	}{
		{0x0000000000000000, "0"},
		{0x8000000000000000, "0"},
		{0x0000000000000001, "5e-324"},
		{0x8000000000000001, "-5e-324"},
		{0x7fefffffffffffff, "1.7976931348623157e+308"},
		{0xffefffffffffffff, "-1.7976931348623157e+308"},
		{0x4340000000000000, "9007199254740992"},
		{0xc340000000000000, "-9007199254740992"},
		{0x4430000000000000, "295147905179352830000"},
		{0x44b52d02c7e14af5, "9.999999999999997e+22"},
		{0x44b52d02c7e14af6, "1e+23"},
		{0x44b52d02c7e14af7, "1.0000000000000001e+23"},
		{0x444b1ae4d6e2ef4e, "999999999999999700000"},
		{0x444b1ae4d6e2ef4f, "999999999999999900000"},
		{0x444b1ae4d6e2ef50, "1e+21"},
		{0x3eb0c6f7a0b5ed8d, "0.000001"},
		{0x3eb0c6f7a0b5ed8e, "0.0000010000000000000002"},
		{0x41b3de4355555553, "333333333.3333332"},
		{0x41b3de4355555554, "333333333.33333325"},
		{0x41b3de4355555555, "333333333.3333333"},
		{0x41b3de4355555556, "333333333.3333334"},
		{0x41b3de4355555557, "333333333.33333343"},
		{0xbecbf647612f3696, "-0.0000033333333333333333"},
		{0x43143ff3c1cb0959, "1424953923781206.2"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			f := math.Float64frombits(tt.bits)
			if got := string(appendNumber(nil, f)); got != tt.want {
				t.Errorf("%016x: got %s, want %s", tt.bits, got, tt.want)
			}
			// The same through the parser, from Go's own rendering.
			in, _ := json.Marshal(f)
			got, err := Canonicalize(in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Canonicalize(%s) = %s, want %s", in, got, tt.want)
			}
		})
	}
}

func TestCanonicalizeErrors(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	tests := []struct {
		name   string
		in     string
		offset int
		msg    string
	}{
		{"empty", ``, 0, "unexpected end of input"},
		{"duplicate key", `{"a":1,"a":2}`, 7, `duplicate object key "a"`},
		{"duplicate key after escape", `{"a":1,"\u0061":2}`, 7, `duplicate object key "a"`},
		{"trailing data", `{} x`, 3, "after the top-level value"},
		{"trailing comma", `[1,]`, 3, "want a value"},
		{"single quotes", `{'a':1}`, 1, "want an object key"},
		{"leading zero", `01`, 1, "leading zero"},
		{"bare minus", `-`, 1, "want a digit"},
		{"bad fraction", `1.`, 2, "after '.'"},
		{"bad exponent", `1e`, 2, "exponent"},
		{"overflow", `1e400`, 0, "out of the IEEE 754 double range"},
		{"lone high surrogate", `"\ud800"`, 1, "lone surrogate"},
		{"lone low surrogate", `"\udc00"`, 1, "lone surrogate"},
		{"invalid utf-8", "\"\xff\"", 1, "invalid UTF-8"},
		{"raw control character", "\"\x01\"", 1, "control character"},
		{"bad escape", `"\x"`, 1, `invalid escape \x`},
		{"unterminated string", `"abc`, 4, "unterminated string"},
		{"bad literal", `tru`, 0, "want true"},
		{"too deep", deep, MaxDepth, "nesting deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Canonicalize([]byte(tt.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *SyntaxError", err)
			}
			if se.Offset != tt.offset || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("got %q at %d, want %q at %d", se.Msg, se.Offset, tt.msg, tt.offset)
			}
		})
	}
}

func TestCompareUTF16(t *testing.T) {
	ordered := []string{"", "\r", "1", "a", "ab", "b", "\u0080", "ö", "\ud7ff", "😀", "😁", "\ue000", "\ufb33", "\uffff"}
	for i := range ordered {
		for j := range ordered {
			got := compareUTF16(ordered[i], ordered[j])
			if (got < 0) != (i < j) || (got == 0) != (i == j) {
				t.Errorf("compareUTF16(%q, %q) = %d", ordered[i], ordered[j], got)
			}
		}
	}
}

func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{
		`{"b":1,"a":[true,false,null,"x\n"]}`, `1.5e300`, `"\ud83d\ude00"`, `{"\u20ac":1,"\r":2}`,
		`[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001]`, `-0`, `{"a":{"a":{}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c1, err := Canonicalize(in)
		if err != nil {
			return
		}
		c2, err := Canonicalize(c1)
		if err != nil {
			t.Fatalf("canonical output %q does not parse: %v", c1, err)
		}
		if !bytes.Equal(c1, c2) {
			t.Fatalf("not a fixpoint:\n%q\n%q", c1, c2)
		}
		var v1, v2 any
		if err := json.Unmarshal(in, &v1); err != nil {
			t.Fatalf("encoding/json rejects input we accepted: %v", err)
		}
		if err := json.Unmarshal(c1, &v2); err != nil {
			t.Fatalf("encoding/json rejects canonical output %q: %v", c1, err)
		}
		if !reflect.DeepEqual(v1, v2) {
			t.Fatalf("canonical form decodes differently:\n%#v\n%#v", v1, v2)
		}
	})
}

func BenchmarkCanonicalize(b *testing.B) {
	in := []byte(sampleIndicator)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Canonicalize(in); err != nil {
			b.Fatal(err)
		}
	}
}

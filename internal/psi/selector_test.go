package psi

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCanonical(t *testing.T) {
	tests := []struct {
		sel  Selector
		want string // "" when an error is expected
	}{
		{Document("uto", "l898902c3"), "UTO:L898902C3"},
		{Document("D<<", "C01X 00T4-7"), "D:C01X00T47"},
		{Selector{TypeDocument, "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"}, "UTO:L898902C3"},
		{Document("UTOPIA", "1"), ""},
		{Document("UTO", "L89*"), ""},
		{Selector{TypeDocument, "L898902C3"}, ""},

		{Selector{TypePhone, "+44 20 7946 0000"}, "+442079460000"},
		{Selector{TypePhone, "0044 (0)20-7946-0000"}, "+442079460000"},
		{Selector{TypePhone, "tel:+1.202.555.0123"}, "+12025550123"},
		{Selector{TypePhone, "020 7946 0000"}, ""},
		{Selector{TypePhone, "+0 123 4567"}, ""},
		{Selector{TypePhone, "+1234567890123456"}, ""},
		{Selector{TypePhone, "+44 20 7946 0000 ext 5"}, ""},

		{Selector{TypeEmail, " Mailto:John.Doe@Example.COM. "}, "john.doe@example.com"},
		{Selector{TypeEmail, "x+tag@mail.example"}, "x+tag@mail.example"},
		{Selector{TypeEmail, "@example.com"}, ""},
		{Selector{TypeEmail, "a b@example.com"}, ""},
		{Selector{TypeEmail, "a@-example.com"}, ""},

		{Wallet("ETH", "0x52908400098527886E0F7030069857D2E4169EE7"), "evm:0x52908400098527886e0f7030069857d2e4169ee7"},
		{Wallet("bsc", "0x52908400098527886e0f7030069857d2e4169ee7"), "evm:0x52908400098527886e0f7030069857d2e4169ee7"},
		{Wallet("USDT", "0x52908400098527886e0f7030069857d2e4169ee7"), "evm:0x52908400098527886e0f7030069857d2e4169ee7"},
		{Wallet("usdt", "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf"), "trx:TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf"},
		{Wallet("bitcoin", "BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ"), "btc:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"},
		{Wallet("btc", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"), "btc:1BoatSLRHtKNngkdXEeobR76b53LETtpyT"},
		{Wallet("eth", "0x1234"), ""},
		{Wallet("usdt", "xyz"), ""},
		{Selector{TypeWallet, "0x52908400098527886e0f7030069857d2e4169ee7"}, ""},

		{FileHash("SHA-256", strings.Repeat("AB", 32)), "sha256:" + strings.Repeat("ab", 32)},
		{Selector{TypeFileHash, strings.Repeat("0", 40)}, "sha1:" + strings.Repeat("0", 40)},
		{FileHash("md5", strings.Repeat("a", 31)), ""},
		{FileHash("crc32", "deadbeef"), ""},
		{Selector{TypeFileHash, strings.Repeat("g", 32)}, ""},

		{Account("Twitter", "@SomeOne"), "x:someone"},
		{Account("TG", "channel_name"), "telegram:channel_name"},
		{Account("telegram", "two words"), ""},
		{Account("", "x"), ""},

		{Selector{TypeURL, "HTTPS://Example.COM:443/a/./b/../c?x=1#frag"}, "//example.com/a/c?x=1"},
		{Selector{TypeURL, "http://example.com"}, "//example.com/"},
		{Selector{TypeURL, "http://user:pw@example.com.:8080/%7Euser/"}, "//example.com:8080/~user/"},
		{Selector{TypeURL, "ftp://Files.Example/x"}, "ftp://files.example/x"},
		{Selector{TypeURL, "/relative/path"}, ""},

		{Person("Sergei Lavrov", "1950-03-21"), "lavrav sargY|1950-03-21"},
		{Person("Sergei Lavrov", "21.03.1950"), "lavrav sargY|1950-03-21"},
		{Person("Sergei Lavrov", "1950"), "lavrav sargY|1950"},
		{Person("Sergei Lavrov", ""), ""},
		{Person("Sergei Lavrov", "1950-02-30"), ""},
		{Person("", "1950-03-21"), ""},
		{Selector{TypePerson, "Sergei Lavrov"}, ""},
		{Selector{"colour", "red"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.sel.String(), func(t *testing.T) {
			got, err := tt.sel.Canonical()
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Canonical() = %q, want an error", got)
				}
				if !errors.Is(err, ErrSelector) {
					t.Fatalf("error %v does not wrap ErrSelector", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Canonical(): %v", err)
			}
			if got != tt.want {
				t.Fatalf("Canonical() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPersonKeys checks that spellings of one name across scripts and
// romanisations share a key, always combined with the date of birth.
func TestPersonKeys(t *testing.T) {
	const dob = "1950-03-21"
	keysOf := func(name, dob string) map[Key]bool {
		ks, err := Person(name, dob).Keys()
		if err != nil {
			t.Fatalf("Keys(%q): %v", name, err)
		}
		m := make(map[Key]bool)
		for _, k := range ks {
			if !strings.HasSuffix(k.Value, "|"+dob) {
				t.Errorf("key %v lacks the date of birth", k)
			}
			m[k] = true
		}
		return m
	}
	shares := func(a, b map[Key]bool, variant string) bool {
		for k := range a {
			if b[k] && k.Variant() == variant {
				return true
			}
		}
		return false
	}
	cyr := keysOf("Сергей Лавров", dob)
	if len(cyr) < 4 {
		t.Errorf("Cyrillic name yields %d keys, want spellings of several systems", len(cyr))
	}
	for _, name := range []string{"Sergei Lavrov", "Sergey Lavrov", "Sergej Lawrow", "LAVROV, Sergey", "Sergueï Lavrov"} {
		lat := keysOf(name, dob)
		if !shares(cyr, lat, VariantSkeleton) {
			t.Errorf("%q and Сергей Лавров share no skeleton key", name)
		}
	}
	for _, name := range []string{"Sergey Lavrov", "Sergej Lawrow", "Sergei Lavrov"} {
		if !shares(cyr, keysOf(name, dob), VariantSpelling) {
			t.Errorf("%q and Сергей Лавров share no spelling key", name)
		}
	}
	if shares(keysOf("Sergei Lavrov", dob), keysOf("Sergei Lavrov", "1950-03-22"), VariantSkeleton) {
		t.Error("different dates of birth share a key")
	}
	if shares(keysOf("Sergei Lavrov", dob), keysOf("Sergei Ivanov", dob), VariantSkeleton) {
		t.Error("different surnames share a key")
	}
}

// TestTagsSeparate checks that the same canonical text under two types or
// two versions gives different PRF inputs.
func TestTagsSeparate(t *testing.T) {
	seen := make(map[string]string)
	for _, ty := range Types {
		for v := 1; v <= 2; v++ {
			for _, variant := range []string{VariantCanonical, VariantSpelling, VariantSkeleton} {
				tag := Tag(ty, v, variant)
				in := string(Key{Tag: tag, Value: "same"}.Input())
				if prev, ok := seen[in]; ok {
					t.Fatalf("%s and %s give the same input", tag, prev)
				}
				seen[in] = tag
			}
		}
	}
	// The length prefix keeps tag and value apart.
	a := Key{Tag: "detente/psi/x/v1/canonical", Value: "ab"}.Input()
	b := Key{Tag: "detente/psi/x/v1/canonicala", Value: "b"}.Input()
	if string(a) == string(b) {
		t.Fatal("tag/value boundary is ambiguous")
	}
	ks, err := Selector{TypeEmail, "a@example.com"}.Keys()
	if err != nil || len(ks) != 1 || ks[0].Tag != "detente/psi/email/v1/canonical" {
		t.Fatalf("email keys = %v, %v", ks, err)
	}
}

func TestBucket(t *testing.T) {
	tests := []struct{ n, want int }{
		{0, 16}, {1, 16}, {16, 16}, {17, 20}, {20, 20}, {21, 24}, {29, 32},
		{33, 40}, {1000, 1024}, {1025, 1280}, {65536, 65536}, {65537, 81920},
	}
	for _, tt := range tests {
		if got := Bucket(tt.n); got != tt.want {
			t.Errorf("Bucket(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
	for n := 1; n < 5000; n++ {
		b := Bucket(n)
		if b < n || (n > 16 && 4*b > 5*n+20) {
			t.Fatalf("Bucket(%d) = %d", n, b)
		}
	}
	if got := slices.Sorted(slices.Values(shuffle(10))); !slices.Equal(got, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Fatalf("shuffle is not a permutation: %v", got)
	}
}

package screen

import (
	"errors"
	"testing"
)

func TestIdentifierCanonical(t *testing.T) {
	tests := []struct {
		id   Identifier
		want string // "" for an error
	}{
		// ISO 13616 examples.
		{Identifier{Type: IDIBAN, Value: "GB82 WEST 1234 5698 7654 32"}, "iban::GB82WEST12345698765432"},
		{Identifier{Type: IDIBAN, Value: "de89370400440532013000"}, "iban::DE89370400440532013000"},
		{Identifier{Type: IDIBAN, Value: "GB82 WEST 1234 5698 7654 33"}, ""},
		{Identifier{Type: IDIBAN, Value: "DE8937040044053201300"}, ""},
		{Identifier{Type: IDBIC, Value: "deutdeff"}, "bic::DEUTDEFF"},
		{Identifier{Type: IDBIC, Value: "DEUTDEFFXXX"}, "bic::DEUTDEFF"},
		{Identifier{Type: IDBIC, Value: "DEUTDEFF500"}, "bic::DEUTDEFF500"},
		{Identifier{Type: IDBIC, Value: "DEUT1EFF"}, ""},
		{Identifier{Type: IDIMO, Value: "IMO 9074729"}, "imo::9074729"},
		{Identifier{Type: IDIMO, Value: "9074728"}, ""},
		{Identifier{Type: IDAircraft, Value: "ep-iaa"}, "aircraft::EPIAA"},
		{Identifier{Type: IDAircraft, Value: "4X-ABC"}, "aircraft::4XABC"},
		{Identifier{Type: IDPassport, Value: "c01x 00t47", Country: "DE"}, "passport:DEU:C01X00T47"},
		{Identifier{Type: IDPassport, Value: "C01X00T47", Country: "D<<"}, "passport:DEU:C01X00T47"},
		{Identifier{Type: IDPassport, Value: "C01X00T47", Country: "deu"}, "passport:DEU:C01X00T47"},
		{Identifier{Type: IDPassport, Value: "C01X00T47"}, ""},
		{Identifier{Type: IDNationalID, Value: "123-45-678", Country: "IQ"}, "national-id:IRQ:12345678"},
		// Wallets: EIP-55 case dropped, every EVM chain one key.
		{Identifier{Type: IDWallet, Chain: "ETH", Value: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}, "wallet:evm:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"},
		{Identifier{Type: IDWallet, Chain: "BSC", Value: "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"}, "wallet:evm:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"},
		{Identifier{Type: IDWallet, Chain: "USDT", Value: "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"}, "wallet:evm:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"},
		{Identifier{Type: IDWallet, Chain: "ETH", Value: "0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea"}, ""},
		// Base58Check, case kept.
		{Identifier{Type: IDWallet, Chain: "XBT", Value: "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"}, "wallet:btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"},
		{Identifier{Type: IDWallet, Chain: "BTC", Value: "1a1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"}, ""},
		{Identifier{Type: IDWallet, Chain: "USDT", Value: "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"}, "wallet:trx:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"},
		// Bech32 (BIP 173 test vector), one case.
		{Identifier{Type: IDWallet, Chain: "BTC", Value: "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"}, "wallet:btc:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"},
		{Identifier{Type: IDWallet, Chain: "BTC", Value: "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"}, ""},
		{Identifier{Type: IDWallet, Chain: "BTC", Value: "bc1qw508d6qejxtdg4y5r3zarvary0C5xw7kv8f3t4"}, ""},
		{Identifier{Type: IDWallet, Value: "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"}, ""},
		// Tether on the Omni layer: a Bitcoin address.
		{Identifier{Type: IDWallet, Chain: "USDT", Value: "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"}, "wallet:btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"},
		{Identifier{Type: IDIMOCompany, Value: "IMO 5993381"}, "imo-company::5993381"},
		{Identifier{Type: "phone", Value: "+4930123456"}, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.id.Type)+"/"+tt.id.Value, func(t *testing.T) {
			got, err := tt.id.Canonical()
			if tt.want == "" {
				if err == nil || !errors.Is(err, ErrIdentifier) {
					t.Errorf("Canonical() = %q, %v; want an ErrIdentifier", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Canonical() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestIdentifierIndex(t *testing.T) {
	x := NewIdentifierIndex()
	add := func(d string, id Identifier) {
		t.Helper()
		if err := x.Add(d, id); err != nil {
			t.Fatal(err)
		}
	}
	add("ofac/1", Identifier{Type: IDWallet, Chain: "ETH", Value: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"})
	add("ofac/2", Identifier{Type: IDBIC, Value: "DEUTDEFF"})
	add("un/QDe.1", Identifier{Type: IDIMO, Value: "9074729"})
	add("eu/II.B/3", Identifier{Type: IDPassport, Value: "C01X00T47", Country: "DEU"})
	// Messy list data is indexed as written.
	add("ofac/3", Identifier{Type: IDIMO, Value: "IMO 9074728"})
	add("ofac/4", Identifier{Type: IDIMOCompany, Value: "5993381"})
	add("ofac/5", Identifier{Type: IDNationalID, Value: "D489833(9)"})
	add("ofac/6", Identifier{Type: IDWallet, Chain: "XBT", Value: "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"})
	if err := x.Add("ofac/7", Identifier{Type: IDPassport, Value: "--"}); !errors.Is(err, ErrIdentifier) {
		t.Errorf("an empty document number was indexed: %v", err)
	}
	if x.Len() != 8 {
		t.Errorf("Len = %d, want 8", x.Len())
	}
	tests := []struct {
		q      Identifier
		want   string
		branch bool
	}{
		{Identifier{Type: IDWallet, Chain: "polygon", Value: "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"}, "ofac/1", false},
		{Identifier{Type: IDBIC, Value: "DEUTDEFF500"}, "ofac/2", true},
		{Identifier{Type: IDBIC, Value: "deutdeffxxx"}, "ofac/2", false},
		{Identifier{Type: IDIMO, Value: "IMO9074729"}, "un/QDe.1", false},
		{Identifier{Type: IDPassport, Value: "c01x00t47", Country: "D"}, "eu/II.B/3", false},
		{Identifier{Type: IDPassport, Value: "C01X00T47", Country: "AT"}, "", false},
		{Identifier{Type: IDNationalID, Value: "C01X00T47", Country: "DE"}, "", false},
		{Identifier{Type: IDDocument, Value: "C01X-00T47", Country: "DEU"}, "eu/II.B/3", false},
		{Identifier{Type: IDIMO, Value: "9074728"}, "ofac/3", false},
		{Identifier{Type: IDIMO, Value: "5993381"}, "ofac/4", false},
		{Identifier{Type: IDWallet, Chain: "BTC", Value: "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"}, "ofac/6", false},
	}
	for _, tt := range tests {
		hits, err := x.ScreenIdentifier(tt.q)
		if err != nil {
			t.Fatal(err)
		}
		if tt.want == "" {
			if len(hits) != 0 {
				t.Errorf("%+v: hits %+v, want none", tt.q, hits)
			}
			continue
		}
		if len(hits) != 1 || hits[0].Designation != tt.want || hits[0].Branch != tt.branch {
			t.Errorf("%+v: hits %+v, want %s (branch %v)", tt.q, hits, tt.want, tt.branch)
		}
	}
	flags := func(q Identifier) (n int, unconfirmed, asWritten bool) {
		hits, err := x.ScreenIdentifier(q)
		if err != nil || len(hits) == 0 {
			return 0, false, false
		}
		return len(hits), hits[0].StateUnconfirmed, hits[0].AsWritten
	}
	if n, u, _ := flags(Identifier{Type: IDDocument, Value: "D4898339", Country: "HK"}); n != 1 || !u {
		t.Errorf("a listed document without its state: %d hits, state unconfirmed %v; want 1, true", n, u)
	}
	if n, u, _ := flags(Identifier{Type: IDDocument, Value: "C01X00T47"}); n != 1 || !u {
		t.Errorf("a query without a state: %d hits, state unconfirmed %v; want 1, true", n, u)
	}
	if n, _, w := flags(Identifier{Type: IDIMO, Value: "9074728"}); n != 1 || !w {
		t.Errorf("an IMO number failing its check digit: %d hits, as written %v; want 1, true", n, w)
	}
	if n, _, w := flags(Identifier{Type: IDWallet, Chain: "BTC", Value: "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"}); n != 1 || !w {
		t.Errorf("a wallet failing its checksum: %d hits, as written %v; want 1, true", n, w)
	}
	if _, err := x.ScreenIdentifier(Identifier{Type: IDWallet, Chain: "BTC", Value: "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNc"}); !errors.Is(err, ErrIdentifier) {
		t.Errorf("a bad wallet nobody lists screened without error: %v", err)
	}
	if _, err := x.ScreenIdentifier(Identifier{Type: IDIBAN, Value: "GB00"}); !errors.Is(err, ErrIdentifier) {
		t.Errorf("a bad IBAN screened without error: %v", err)
	}
}

func FuzzIdentifierCanonical(f *testing.F) {
	for _, s := range []string{"GB82 WEST 1234 5698 7654 32", "IMO 9074729", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "DEUTDEFF"} {
		f.Add(s, "BTC", "DE")
	}
	f.Fuzz(func(t *testing.T, v, chain, country string) {
		for _, typ := range []IdentifierType{IDWallet, IDPassport, IDNationalID, IDIBAN, IDBIC, IDIMO, IDAircraft} {
			id := Identifier{Type: typ, Value: v, Chain: chain, Country: country}
			k, err := id.Canonical()
			if err != nil {
				continue
			}
			// Canonical keys are stable: a key's value part
			// canonicalises to itself.
			k2, err := id.Canonical()
			if err != nil || k2 != k {
				t.Fatalf("%+v: %q then %q, %v", id, k, k2, err)
			}
		}
	})
}

// FuzzIdentifierIndex checks that whatever a list gives and the index
// accepts is found again by the same identifier (a document by its number
// alone), and that a user's query is parsed without panicking.
func FuzzIdentifierIndex(f *testing.F) {
	for _, s := range []string{"IMO 9074728", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "D489833(9)", "DEUTDEFF", "EP-GOM"} {
		f.Add(s, "XBT", "HK")
	}
	f.Fuzz(func(t *testing.T, v, chain, country string) {
		for _, typ := range []IdentifierType{IDWallet, IDPassport, IDNationalID, IDIBAN, IDBIC, IDIMO, IDIMOCompany, IDAircraft} {
			x := NewIdentifierIndex()
			id := Identifier{Type: typ, Value: v, Chain: chain, Country: country}
			if err := x.Add("d", id); err != nil {
				continue
			}
			q := id
			if typ == IDPassport || typ == IDNationalID {
				q.Country = ""
			}
			hits, err := x.ScreenIdentifier(q)
			if err != nil || len(hits) != 1 || hits[0].Designation != "d" {
				t.Fatalf("%+v indexed but not found: %+v, %v", id, hits, err)
			}
		}
		for _, k := range QueryKinds {
			ParseQuery(k.Name, v)
		}
	})
}

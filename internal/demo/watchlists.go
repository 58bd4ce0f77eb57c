package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"detente"
	"detente/internal/matching"
	"detente/internal/psi"
)

// demoWatchlist is one of a demo agency's watchlists: invented selectors
// (UK drama phone numbers, ICAO's fictitious state Utopia, made-up
// wallets), in a file's format (persons as name,dob CSV lines).
type demoWatchlist struct {
	name    string
	typ     psi.Type
	marking detente.TLP
	lines   []string
}

// watchlistsOf returns a demo agency's watchlists. They partly overlap, as
// the agencies' designations do: alpha and bravo share two phones, a
// passport, the Karimov brothers' donation wallet and Yusuf Karimov (spelt
// in Cyrillic by bravo); charlie shares one phone and one passport with
// alpha. Try, once the demo runs:
//
//	detente match --dir DEMO/alpha --partner bravo --type phone FILE
func watchlistsOf(name string) []demoWatchlist {
	switch name {
	case "alpha":
		return []demoWatchlist{
			{"bmf-phones", psi.TypePhone, detente.TLPAmber, []string{"+44 20 7946 0100", "+44 20 7946 0101", "+44 20 7946 0102", "+44 20 7946 0103", "+44 113 496 0500"}},
			{"bmf-passports", psi.TypeDocument, detente.TLPAmber, []string{"UTO:BMF100001", "UTO:BMF100002", "UTO:BMF100003"}},
			{"bmf-wallets", psi.TypeWallet, detente.TLPAmber, []string{"btc:bc1qdemo0meridian0donations0not0real", "eth:0x00000000000000000000000000000000000b3f01"}},
			{"bmf-persons", psi.TypePerson, detente.TLPAmber, []string{"Yusuf Karimov,1984-07-12", "Abu Tariq al-Meridiani,1979", "Anna Eriksson,1974-08-12"}},
		}
	case "bravo":
		return []demoWatchlist{
			{"tide-phones", psi.TypePhone, detente.TLPAmber, []string{"0044 20 7946 0102", "+44 (0)20 7946 0103", "+44 20 7946 0200", "+44 20 7946 0201"}},
			{"tide-passports", psi.TypeDocument, detente.TLPAmber, []string{"UTO:BMF 100002", "UTO:TIDE00007"}},
			{"tide-wallets", psi.TypeWallet, detente.TLPAmber, []string{"polygon:0x00000000000000000000000000000000000B3F01", "trx:TDemoTideCourierNotARealAddress7"}},
			{"tide-persons", psi.TypePerson, detente.TLPAmber, []string{"Юсуф Каримов,1984-07-12", "Marek Tidewater,1990-02-02"}},
		}
	default:
		return []demoWatchlist{
			{"valdoria-phones", psi.TypePhone, detente.TLPGreen, []string{"+44 20 7946 0101", "+44 20 7946 0300"}},
			{"valdoria-passports", psi.TypeDocument, detente.TLPGreen, []string{"UTO:BMF100003", "UTO:VAL000044"}},
		}
	}
}

// MatchExample is the file, in the demo's directory, of selectors the
// printout suggests alpha match against bravo's watchlists: the phones of
// alpha's own watchlist, one a line.
const MatchExample = "alpha-phones.txt"

// writeMatchExample writes MatchExample into dir.
func writeMatchExample(dir string) error {
	for _, w := range watchlistsOf("alpha") {
		if w.typ == psi.TypePhone {
			return os.WriteFile(filepath.Join(dir, MatchExample), []byte(strings.Join(w.lines, "\n")+"\n"), 0o600)
		}
	}
	return nil
}

// loadWatchlists stores a demo agency's watchlists in its node.
func loadWatchlists(ctx context.Context, a *Agency) error {
	for _, w := range watchlistsOf(a.Name) {
		sels, bad := matching.ParseSelectorFile(w.typ, []byte(strings.Join(w.lines, "\n")))
		if len(bad) > 0 {
			return fmt.Errorf("demo: watchlist %s of %s: %v", w.name, a.Name, bad)
		}
		if _, err := a.Node.Matching.AddToWatchlist(ctx, w.name, w.typ, w.marking, sels); err != nil {
			return fmt.Errorf("demo: watchlist %s of %s: %w", w.name, a.Name, err)
		}
	}
	return nil
}

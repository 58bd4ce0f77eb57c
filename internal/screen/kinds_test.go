package screen

import (
	"testing"

	"detente"
)

// TestErrorKinds holds examples, written for detente and none taken from
// names/pairs.csv, of each kind of error the screening issue names.
func TestErrorKinds(t *testing.T) {
	person, org := detente.EntityPerson, detente.EntityOrganization
	tests := []struct {
		kind  string
		a, b  string
		typ   detente.EntityType
		match bool
	}{
		// Organisations: a distinctive or industry word that differs.
		{"org word differs", "Petrovan Oil Company", "Petrovan Gas Company", org, false},
		{"org word differs", "Kaveh Petromechanical Industries", "Kaveh Petrochemical Industries", org, false},
		{"org word differs", "Hamrah Constructors Ltd", "Hamrah Construction Ltd", org, false},
		{"org word differs", "Sorena Shipping Agency", "Sorena Trading Agency", org, false},
		// Organisations: a series marker, country or brand added.
		{"org marker added", "Tellurian Trading SA", "Tellurian Trading Mexico SA", org, false},
		{"org marker added", "Andes Mining Fund", "Andes Mining Fund II", org, false},
		{"org marker added", "Norwind Logistics", "Norwind Aurora Logistics", org, false},
		// Organisations: a differing number, fund series or vintage.
		{"org series differs", "Meridian Capital Partners III LP", "Meridian Capital Partners IV LP", org, true},
		{"org series differs", "Harbour Mortgage Trust 2006-1", "Harbour Mortgage Trust 2006-2", org, true},
		{"org series differs", "Orchid Growth Fund 2019", "Orchid Growth Fund 2021", org, true},
		// Organisations: a brand alone against the full company name.
		{"org brand alone", "Zentrova", "Zentrova Pharmaceuticals Europe GmbH", org, true},
		{"org brand alone", "Kalvex", "KALVEX HOLDING LIMITED", org, true},
		{"org brand alone", "Kalvex", "Kalvex Marin Holding Ltd", org, false},
		// Organisations: an acronym in parentheses beside the name; a
		// country in parentheses still tells subsidiaries apart.
		{"org acronym", "Kestrel Shipping Lines (KSL)", "Kestrel Shipping Lines", org, true},
		{"org acronym", "Orvande Defence Works (ODW)", "ORVANDE DEFENSE WORKS", org, true},
		{"org marker added", "Kestrel Shipping (France) SARL", "Kestrel Shipping (Spain) SL", org, false},
		// Organisations: spelling of common words.
		{"org spelling", "Northern Relief Organisation", "Northern Relief Organization", org, true},
		{"org abbreviation", "Falcon Int'l Trading", "Falcon International Trading", org, true},
		// Persons: a short name inside a longer listed one.
		{"person subset", "Juan Lopez", "GARCIA LOPEZ, Juan Carlos", person, false},
		{"person subset", "Juan Carlos", "GARCIA LOPEZ, Juan Carlos", person, false},
		{"person subset", "Garcia Lopez", "GARCIA LOPEZ, Juan Carlos", person, false},
		{"person subset", "Juan Garcia", "GARCIA LOPEZ, Juan Carlos", person, true},
		{"person subset", "Juan Carlos Garcia", "GARCIA LOPEZ, Juan Carlos", person, true},
		// Persons: typos in short words, at the start, letters swapped.
		{"person typo", "Rmai Haddad", "Rami Haddad", person, true},
		{"person typo", "Ivan Petorv", "Ivan Petrov", person, true},
		{"person typo", "Fernando Vomez", "Fernando Gomez", person, true},
		{"person typo", "Jhon Okafor", "John Okafor", person, true},
		{"person typo", "Yusuf Kamra", "Yusuf Kamara", person, true},
		{"person typo", "Daniel Okafor", "Donald Okafor", person, false},
		// Persons: digits for letters.
		{"person digits", "V1adimir Petr0v", "Vladimir Petrov", person, true},
		{"person digits", "Ig0r Sech1n", "Igor Sechin", person, true},
		{"person digits", "Mu5tafa Ha11d", "Mustafa Halid", person, true},
		// Persons: reversed or split words.
		{"person reversed", "Sergei Vorval", "Sergei Lavrov", person, true},
		{"person split", "Hassan Nasral Lah", "Hassan Nasrallah", person, true},
		{"person split", "Abdel Rah Man Saleh", "Abdelrahman Saleh", person, true},
		// Persons: nicknames and given-name forms.
		{"person nickname", "Ben Carter", "Benjamin Carter", person, true},
		{"person nickname", "Bill Hartley", "William Hartley", person, true},
		{"person nickname", "Sasha Volkov", "Aleksandr Volkov", person, true},
		{"person nickname", "Pepe Ortega", "José Ortega", person, true},
		{"person nickname", "Mohd Rizal", "Mohammed Rizal", person, true},
		{"person name form", "Alexandros Kallis", "Alexander Kallis", person, true},
		{"person name form", "Yusuf Mahdi", "Joseph Mahdi", person, true},
		{"person nickname", "Ben Ali Mansour", "Ben Ali Mansour", person, true},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.a+"~"+tt.b, func(t *testing.T) {
			r := Compare(Query{Name: tt.a, Type: tt.typ}, Query{Name: tt.b, Type: tt.typ})
			if r.Match != tt.match {
				t.Errorf("match = %v, want %v: %s", r.Match, tt.match, r.Explanation)
			}
		})
	}
}

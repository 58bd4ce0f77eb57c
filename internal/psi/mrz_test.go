package psi

import (
	"errors"
	"strings"
	"testing"
)

// Specimens of ICAO Doc 9303 (Parts 4, 5 and 6).
const (
	td3Specimen = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n" +
		"L898902C36UTO7408122F1204159ZE184226B<<<<<10"
	td1Specimen = "I<UTOD231458907<<<<<<<<<<<<<<<\n" +
		"7408122F1204159UTO<<<<<<<<<<<6\n" +
		"ERIKSSON<<ANNA<MARIA<<<<<<<<<<"
	td2Specimen = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\n" +
		"D231458907UTO7408122F1204159<<<<<<<6"
)

func TestParseMRZ(t *testing.T) {
	tests := []struct {
		name, zone string
		want       MRZ
	}{
		{"TD3", td3Specimen, MRZ{Format: TD3, DocumentCode: "P", IssuingState: "UTO", Number: "L898902C3",
			Surname: "ERIKSSON", GivenNames: "ANNA MARIA", Nationality: "UTO", BirthDate: "740812",
			Sex: "F", ExpiryDate: "120415", Optional: "ZE184226B"}},
		{"TD1", td1Specimen, MRZ{Format: TD1, DocumentCode: "I", IssuingState: "UTO", Number: "D23145890",
			Surname: "ERIKSSON", GivenNames: "ANNA MARIA", Nationality: "UTO", BirthDate: "740812",
			Sex: "F", ExpiryDate: "120415"}},
		{"TD2", td2Specimen, MRZ{Format: TD2, DocumentCode: "I", IssuingState: "UTO", Number: "D23145890",
			Surname: "ERIKSSON", GivenNames: "ANNA MARIA", Nationality: "UTO", BirthDate: "740812",
			Sex: "F", ExpiryDate: "120415"}},
		{"TD3 lower case, spaces", strings.ToLower(strings.ReplaceAll(td3Specimen, "\n", "  \r\n")), MRZ{Format: TD3,
			DocumentCode: "P", IssuingState: "UTO", Number: "L898902C3", Surname: "ERIKSSON", GivenNames: "ANNA MARIA",
			Nationality: "UTO", BirthDate: "740812", Sex: "F", ExpiryDate: "120415", Optional: "ZE184226B"}},
		{"TD1 long document number", longTD1(), MRZ{Format: TD1, DocumentCode: "I", IssuingState: "UTO",
			Number: "D23145890734", Surname: "ERIKSSON", GivenNames: "ANNA MARIA", Nationality: "UTO",
			BirthDate: "740812", Sex: "F", ExpiryDate: "120415"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMRZ(tt.zone)
			if err != nil {
				t.Fatalf("ParseMRZ: %v", err)
			}
			if *m != tt.want {
				t.Fatalf("ParseMRZ =\n%+v, want\n%+v", *m, tt.want)
			}
		})
	}
}

// longTD1 builds a TD1 zone with a 12-character document number, whose
// check digit follows the continuation in the optional data (Doc 9303
// Part 5, 4.2.2).
func longTD1() string {
	num := "D23145890734"
	cd := byte('0' + CheckDigit(num))
	l1 := "I<UTO" + num[:9] + "<" + num[9:] + string(cd)
	l1 += strings.Repeat("<", 30-len(l1))
	l2 := "7408122F1204159UTO<<<<<<<<<<<"
	comp := CheckDigit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
	l2 += string(rune('0' + comp))
	return l1 + "\n" + l2 + "\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
}

// TestParseMRZErrors checks that each corrupted field is named.
func TestParseMRZErrors(t *testing.T) {
	set := func(zone string, i int, c byte) string {
		b := []byte(strings.ReplaceAll(zone, "\n", ""))
		b[i] = c
		return string(b)
	}
	tests := []struct {
		name, zone, field string
	}{
		{"TD3 number", set(td3Specimen, 44+9, '7'), "document number"},
		{"TD3 number altered", set(td3Specimen, 44+0, 'M'), "document number"},
		{"TD3 birth", set(td3Specimen, 44+19, '3'), "date of birth"},
		{"TD3 birth month", set(set(td3Specimen, 44+15, '1'), 44+16, '3'), "date of birth"},
		{"TD3 expiry", set(td3Specimen, 44+27, '0'), "date of expiry"},
		{"TD3 personal number", set(td3Specimen, 44+42, '5'), "personal number"},
		{"TD3 composite", set(td3Specimen, 44+43, '1'), "composite"},
		{"TD3 sex", set(td3Specimen, 44+20, 'Q'), "sex"},
		{"TD3 state", set(td3Specimen, 2, '1'), "issuing state"},
		{"TD1 number", set(td1Specimen, 14, '1'), "document number"},
		{"TD1 composite", set(td1Specimen, 59, '1'), "composite"},
		{"TD1 optional data altered", set(td1Specimen, 20, 'X'), "composite"},
		{"TD2 composite", set(td2Specimen, 36+35, '1'), "composite"},
		{"TD2 birth", set(td2Specimen, 36+19, '1'), "date of birth"},
		{"length", td3Specimen[:80], "length"},
		{"characters", set(td3Specimen, 50, '#'), "characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMRZ(tt.zone)
			var me *MRZError
			if !errors.As(err, &me) {
				t.Fatalf("ParseMRZ error = %v, want *MRZError", err)
			}
			if me.Field != tt.field {
				t.Fatalf("failing field %q (%v), want %q", me.Field, err, tt.field)
			}
			if !errors.Is(err, ErrMRZ) || !errors.Is(err, ErrSelector) {
				t.Fatalf("%v does not wrap ErrMRZ and ErrSelector", err)
			}
		})
	}
	// A document selector with a corrupted zone names the field too.
	_, err := Selector{TypeDocument, set(td3Specimen, 44+9, '7')}.Keys()
	if err == nil || !strings.Contains(err.Error(), "document number") {
		t.Fatalf("document selector error = %v", err)
	}
}

func TestCheckDigit(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"L898902C3", 6}, {"740812", 2}, {"120415", 9}, {"ZE184226B<<<<<", 1},
		{"D23145890", 7}, {"<<<", 0}, {"a", -1},
	}
	for _, tt := range tests {
		if got := CheckDigit(tt.s); got != tt.want {
			t.Errorf("CheckDigit(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}

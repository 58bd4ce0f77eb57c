package psi

import (
	"errors"
	"fmt"
	"strings"
)

// MRZ formats of ICAO Doc 9303.
const (
	TD1 = "TD1" // identity cards: 3 lines of 30 characters (Part 5)
	TD2 = "TD2" // 2 lines of 36 characters (Part 6)
	TD3 = "TD3" // passports: 2 lines of 44 characters (Part 4)
)

// MRZ is a parsed ICAO 9303 machine-readable zone whose check digits have
// been verified. Fillers ('<') are removed from every field.
type MRZ struct {
	Format       string `json:"format"`        // TD1, TD2 or TD3
	DocumentCode string `json:"document_code"` // "P", "I", "ID", "AC", …
	IssuingState string `json:"issuing_state"` // ICAO code: "UTO", "D"
	Number       string `json:"number"`        // document number, long numbers included
	Surname      string `json:"surname"`
	GivenNames   string `json:"given_names"` // separated by spaces
	Nationality  string `json:"nationality"`
	BirthDate    string `json:"birth_date"` // YYMMDD as written; the century is not recorded
	Sex          string `json:"sex"`        // "M", "F" or "" (unspecified)
	ExpiryDate   string `json:"expiry_date"`
	Optional     string `json:"optional,omitempty"`  // personal number (TD3), optional data
	Optional2    string `json:"optional2,omitempty"` // TD1 line 2 optional data
}

// ErrMRZ is wrapped by every error about a machine-readable zone.
var ErrMRZ = errors.New("invalid machine-readable zone")

// MRZError reports the field of a machine-readable zone that failed.
type MRZError struct {
	Field string // "document number", "date of birth", "composite", …
	Msg   string
}

// Error returns "invalid machine-readable zone: FIELD: MSG".
func (e *MRZError) Error() string { return ErrMRZ.Error() + ": " + e.Field + ": " + e.Msg }

// Unwrap returns ErrMRZ and ErrSelector, so that a bad zone in a document
// selector is a bad selector.
func (e *MRZError) Unwrap() []error { return []error{ErrMRZ, ErrSelector} }

func mrzErr(field, format string, args ...any) error {
	return &MRZError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// mrzClean removes whitespace and upper-cases s.
func mrzClean(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case ' ', '\t', '\r', '\n':
			continue
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// looksLikeMRZ reports whether s is shaped like a whole zone.
func looksLikeMRZ(s string) bool {
	if !strings.Contains(s, "<") {
		return false
	}
	switch len(mrzClean(s)) {
	case 90, 72, 88:
		return true
	}
	return false
}

// mrzValue is the value of one MRZ character in check-digit computation.
func mrzValue(c byte) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10, true
	case c == '<':
		return 0, true
	}
	return 0, false
}

// CheckDigit returns the ICAO 9303 check digit of s (weights 7, 3, 1; '<'
// counts 0, letters A–Z count 10–35). It returns -1 if s holds a character
// not allowed in a zone.
func CheckDigit(s string) int {
	w := [3]int{7, 3, 1}
	sum := 0
	for i := 0; i < len(s); i++ {
		v, ok := mrzValue(s[i])
		if !ok {
			return -1
		}
		sum += v * w[i%3]
	}
	return sum % 10
}

// verify checks the check digit cd (a byte of the zone) over data.
func verify(field, data string, cd byte) error {
	if cd < '0' || cd > '9' {
		return mrzErr(field, "check digit %q is not a digit", cd)
	}
	if got := CheckDigit(data); got != int(cd-'0') {
		return mrzErr(field, "check digit %c, computed %d", cd, got)
	}
	return nil
}

// ParseMRZ parses a TD1, TD2 or TD3 machine-readable zone, its lines
// separated by newlines or run together, and verifies every check digit. An
// error is an *MRZError naming the failing field.
func ParseMRZ(s string) (*MRZ, error) {
	z := mrzClean(s)
	for i := 0; i < len(z); i++ {
		if _, ok := mrzValue(z[i]); !ok {
			return nil, mrzErr("characters", "invalid character %q at %d", z[i], i)
		}
	}
	switch len(z) {
	case 90:
		return parseTD1(z[:30], z[30:60], z[60:])
	case 72:
		return parseTD23(TD2, z[:36], z[36:])
	case 88:
		return parseTD23(TD3, z[:44], z[44:])
	}
	return nil, mrzErr("length", "%d characters: want 90 (TD1), 72 (TD2) or 88 (TD3)", len(z))
}

// trimFill removes trailing fillers and turns inner fillers into spaces.
func trimFill(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(strings.TrimRight(s, "<"), "<", " "))
}

// names splits the name field: primary identifier, "<<", secondary.
func names(f string) (surname, given string) {
	f = strings.TrimRight(f, "<")
	sur, giv, _ := strings.Cut(f, "<<")
	return trimFill(sur), trimFill(giv)
}

func header(m *MRZ, line string) error {
	m.DocumentCode = strings.TrimRight(line[:2], "<")
	if m.DocumentCode == "" || m.DocumentCode[0] < 'A' || m.DocumentCode[0] > 'Z' {
		return mrzErr("document code", "%q does not start with a letter", line[:2])
	}
	st, err := canonicalState(line[2:5])
	if err != nil {
		return mrzErr("issuing state", "%q is not an ICAO code", line[2:5])
	}
	m.IssuingState = st
	return nil
}

// dates fills and checks birth date, sex and expiry from the 15 characters
// at p: YYMMDD, check digit, sex, YYMMDD, check digit.
func dates(m *MRZ, p string) error {
	if err := checkYYMMDD("date of birth", p[:6]); err != nil {
		return err
	}
	if err := verify("date of birth", p[:6], p[6]); err != nil {
		return err
	}
	switch p[7] {
	case 'M', 'F':
		m.Sex = string(p[7])
	case '<', 'X':
	default:
		return mrzErr("sex", "%q: want M, F, X or <", p[7])
	}
	if err := checkYYMMDD("date of expiry", p[8:14]); err != nil {
		return err
	}
	if err := verify("date of expiry", p[8:14], p[14]); err != nil {
		return err
	}
	m.BirthDate, m.ExpiryDate = p[:6], p[8:14]
	return nil
}

// checkYYMMDD accepts a date or, as Doc 9303 allows for unknown parts,
// fillers in place of the month and day.
func checkYYMMDD(field, d string) error {
	for i := 0; i < 6; i++ {
		if (d[i] < '0' || d[i] > '9') && !(i >= 2 && d[i] == '<') {
			return mrzErr(field, "%q: want YYMMDD", d)
		}
	}
	if d[2] != '<' {
		if mm := int(d[2]-'0')*10 + int(d[3]-'0'); mm < 1 || mm > 12 {
			return mrzErr(field, "%q: month out of range", d)
		}
	}
	if d[4] != '<' {
		if dd := int(d[4]-'0')*10 + int(d[5]-'0'); dd < 1 || dd > 31 {
			return mrzErr(field, "%q: day out of range", d)
		}
	}
	return nil
}

// number reads a document number of nine characters and its check digit;
// when the check digit is '<', the number continues in optional (ICAO 9303
// long document numbers) up to the first filler, the last character there
// being the check digit. It returns the number and what is left of
// optional.
func number(nine string, cd byte, optional string) (num, rest string, err error) {
	if cd == '<' {
		end := strings.IndexByte(optional, '<')
		if end < 0 {
			end = len(optional)
		}
		if end < 2 {
			return "", "", mrzErr("document number", "long number: missing continuation")
		}
		full := nine + optional[:end-1]
		if err := verify("document number", full, optional[end-1]); err != nil {
			return "", "", err
		}
		return strings.ReplaceAll(full, "<", ""), optional[end:], nil
	}
	if err := verify("document number", nine, cd); err != nil {
		return "", "", err
	}
	n := strings.ReplaceAll(nine, "<", "")
	if n == "" {
		return "", "", mrzErr("document number", "empty")
	}
	return n, optional, nil
}

func parseTD1(l1, l2, l3 string) (*MRZ, error) {
	m := &MRZ{Format: TD1}
	if err := header(m, l1); err != nil {
		return nil, err
	}
	num, opt, err := number(l1[5:14], l1[14], l1[15:30])
	if err != nil {
		return nil, err
	}
	m.Number, m.Optional = num, trimFill(opt)
	if err := dates(m, l2[:15]); err != nil {
		return nil, err
	}
	m.Nationality = strings.TrimRight(l2[15:18], "<")
	m.Optional2 = trimFill(l2[18:29])
	if err := verify("composite", l1[5:30]+l2[0:7]+l2[8:15]+l2[18:29], l2[29]); err != nil {
		return nil, err
	}
	m.Surname, m.GivenNames = names(l3)
	return m, nil
}

func parseTD23(format, l1, l2 string) (*MRZ, error) {
	m := &MRZ{Format: format}
	if err := header(m, l1); err != nil {
		return nil, err
	}
	m.Surname, m.GivenNames = names(l1[5:])
	w := len(l2) // 36 or 44
	optEnd := w - 1
	if format == TD3 {
		optEnd = 42
	}
	num, opt, err := number(l2[:9], l2[9], l2[28:optEnd])
	if format == TD3 && l2[9] == '<' {
		return nil, mrzErr("document number", "check digit '<' is not a digit")
	}
	if err != nil {
		return nil, err
	}
	m.Number = num
	m.Nationality = strings.TrimRight(l2[10:13], "<")
	if err := dates(m, l2[13:28]); err != nil {
		return nil, err
	}
	m.Optional = trimFill(opt)
	if format == TD3 {
		pn := l2[28:42]
		if l2[42] == '<' {
			if strings.Trim(pn, "<") != "" {
				return nil, mrzErr("personal number", "check digit '<' with a number present")
			}
		} else if err := verify("personal number", pn, l2[42]); err != nil {
			return nil, err
		}
		if err := verify("composite", l2[0:10]+l2[13:20]+l2[21:43], l2[43]); err != nil {
			return nil, err
		}
		return m, nil
	}
	if err := verify("composite", l2[0:10]+l2[13:20]+l2[21:35], l2[35]); err != nil {
		return nil, err
	}
	return m, nil
}

// Document returns the document selector of m.
func (m *MRZ) Document() Selector { return Document(m.IssuingState, m.Number) }

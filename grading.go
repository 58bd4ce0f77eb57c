package detente

import "fmt"

// Grading is the Admiralty (NATO) grading of an assertion: the reliability
// of its source, A (completely reliable) to F (cannot be judged), and the
// credibility of the information, 1 (confirmed) to 6 (cannot be judged).
// Its text form is the two characters together, e.g. "B2".
type Grading struct {
	Reliability byte // 'A'…'F'
	Credibility byte // 1…6
}

// String returns the text form, e.g. "B2", or "" for the zero Grading.
func (g Grading) String() string {
	if g.IsZero() {
		return ""
	}
	return fmt.Sprintf("%c%d", g.Reliability, g.Credibility)
}

// IsZero reports whether g is unset.
func (g Grading) IsZero() bool { return g.Reliability == 0 && g.Credibility == 0 }

// ParseGrading parses a grading such as "B2" (case-insensitive letter).
func ParseGrading(s string) (Grading, error) {
	if len(s) != 2 {
		return Grading{}, Errorf(EINVALID, "grading %q must be a letter A-F and a digit 1-6, e.g. B2", s)
	}
	r, c := s[0], s[1]
	if r >= 'a' && r <= 'f' {
		r -= 'a' - 'A'
	}
	if r < 'A' || r > 'F' || c < '1' || c > '6' {
		return Grading{}, Errorf(EINVALID, "grading %q must be a letter A-F and a digit 1-6, e.g. B2", s)
	}
	return Grading{Reliability: r, Credibility: c - '0'}, nil
}

// MarshalText implements encoding.TextMarshaler.
func (g Grading) MarshalText() ([]byte, error) { return []byte(g.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. An empty text is the
// zero Grading.
func (g *Grading) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*g = Grading{}
		return nil
	}
	v, err := ParseGrading(string(b))
	if err != nil {
		return err
	}
	*g = v
	return nil
}

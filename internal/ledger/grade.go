package ledger

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"detente"
)

// Grade is this node's own assessment, as a receiver, of a partner as a
// source (Reliability, A–F) or of one assertion (Credibility, 1–6, about
// one object version). It is kept beside the originator's grading, which
// it never changes, signed with the node key and logged; grading the same
// subject again replaces the node's earlier grade, and both stay in the
// log.
type Grade struct {
	// Subject is "partner/NAME" or "object/ID@MODIFIED".
	Subject     string            `json:"subject"`
	Partner     string            `json:"partner,omitempty"`
	Object      string            `json:"object,omitempty"`
	Modified    time.Time         `json:"modified,omitzero"`
	Reliability string            `json:"reliability,omitempty"` // "A"…"F", for a partner
	Credibility int               `json:"credibility,omitempty"` // 1…6, for an assertion
	Note        string            `json:"note,omitempty"`
	By          string            `json:"by,omitempty"`
	Time        time.Time         `json:"time"`
	Signer      detente.PublicKey `json:"signer"`
	Signature   []byte            `json:"signature,omitempty"`
}

// gradeTag separates the signatures of grades from every other signature
// of the node key.
const gradeTag = "detente/grade/v1\n"

func (g *Grade) signedBytes() []byte {
	c := *g
	c.Signature = nil
	b, _ := json.Marshal(&c) // plain fields: cannot fail
	return append([]byte(gradeTag), b...)
}

// Verify checks g's signature against its Signer.
func (g *Grade) Verify() error {
	if len(g.Signer) != ed25519.PublicKeySize || !ed25519.Verify(ed25519.PublicKey(g.Signer), g.signedBytes(), g.Signature) {
		return detente.Errorf(detente.EINVALID, "grade %s: signature does not verify", g.Subject)
	}
	return nil
}

// Store document kind of grades, by Subject.
const docGrade = "ledger.grade"

// GradePartner records this node's grading of partner as a source:
// reliability A (completely reliable) to F (cannot be judged).
func (s *Service) GradePartner(ctx context.Context, partner, reliability, note, by string) (*Grade, error) {
	r := strings.ToUpper(strings.TrimSpace(reliability))
	if len(r) != 1 || r[0] < 'A' || r[0] > 'F' {
		return nil, detente.Errorf(detente.EINVALID, "reliability %q must be a letter A (completely reliable) to F (cannot be judged)", reliability)
	}
	g := &Grade{Subject: "partner/" + partner, Partner: partner, Reliability: r, Note: note, By: by}
	err := s.store.Update(ctx, func(tx detente.Tx) error {
		p, err := tx.Partner(ctx, partner)
		if err != nil {
			return err
		}
		if p.State == detente.PartnerRemoved {
			return detente.Errorf(detente.EINVALID, "partner %s was removed", partner)
		}
		return s.putGrade(ctx, tx, g)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// GradeObject records this node's grading of the assertion the newest
// version of object makes: credibility 1 (confirmed by other sources) to
// 6 (cannot be judged).
func (s *Service) GradeObject(ctx context.Context, object string, credibility int, note, by string) (*Grade, error) {
	if credibility < 1 || credibility > 6 {
		return nil, detente.Errorf(detente.EINVALID, "credibility %d must be 1 (confirmed) to 6 (cannot be judged)", credibility)
	}
	var g *Grade
	err := s.store.Update(ctx, func(tx detente.Tx) error {
		o, err := tx.Object(ctx, detente.NormalID(object))
		if err != nil {
			return err
		}
		g = &Grade{Subject: "object/" + o.Key(), Object: o.ID, Modified: o.Modified, Credibility: credibility, Note: note, By: by}
		return s.putGrade(ctx, tx, g)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

func (s *Service) putGrade(ctx context.Context, tx detente.Tx, g *Grade) error {
	if len(g.Note) > 2000 {
		return detente.Errorf(detente.EINVALID, "a grade's note is at most 2000 bytes")
	}
	if len(s.key) != ed25519.PrivateKeySize {
		return detente.Errorf(detente.EINTERNAL, "grading needs the node key")
	}
	g.Time = s.now().UTC()
	g.Signer = detente.PublicKey(s.key.Public().(ed25519.PublicKey))
	g.Signature = ed25519.Sign(s.key, g.signedBytes())
	raw, _ := json.Marshal(g)
	if err := tx.PutDoc(ctx, docGrade, g.Subject, raw, false); err != nil {
		return err
	}
	// The note may say why a partner is doubted: the log commits to it.
	sum := sha256.Sum256(raw)
	body := map[string]any{"subject": g.Subject, "signature": g.Signature, "grade_sha256": hex.EncodeToString(sum[:])}
	if g.Reliability != "" {
		body["reliability"] = g.Reliability
	} else {
		body["credibility"] = g.Credibility
	}
	e, err := detente.NewEvent(g.Time, detente.EventGrade, g.Partner, body)
	if err != nil {
		return err
	}
	return tx.AppendEvent(ctx, e)
}

// Grades returns this node's grades, partners first then objects, by
// subject.
func (s *Service) Grades(ctx context.Context) ([]*Grade, error) {
	var out []*Grade
	err := s.store.View(ctx, func(tx detente.Tx) error {
		docs, err := tx.Docs(ctx, docGrade, "", 0)
		if err != nil {
			return err
		}
		for _, d := range docs {
			g := new(Grade)
			if err := json.Unmarshal(d.Body, g); err != nil {
				return fmt.Errorf("decode grade %s: %w", d.ID, err)
			}
			out = append(out, g)
		}
		return nil
	})
	return out, err
}

// PartnerGrade returns this node's grade of partner as a source, nil when
// it has none.
func (s *Service) PartnerGrade(ctx context.Context, partner string) (*Grade, error) {
	var g *Grade
	err := s.store.View(ctx, func(tx detente.Tx) error {
		raw, err := tx.Doc(ctx, docGrade, "partner/"+partner)
		if detente.ErrorCode(err) == detente.ENOTFOUND {
			return nil
		}
		if err != nil {
			return err
		}
		g = new(Grade)
		return json.Unmarshal(raw, g)
	})
	return g, err
}

// Assessment is an object version's grading, side by side: the
// originator's, signed into the object, and this node's own.
type Assessment struct {
	Object     string    `json:"object"`
	Modified   time.Time `json:"modified,omitzero"`
	Originator string    `json:"originator"`
	// OriginatorGrading is the Admiralty grading the originator signed,
	// e.g. "B2"; "" when it gave none.
	OriginatorGrading string `json:"originator_grading"`
	// Source is this node's grade of the originator as a source, when the
	// originator is a partner it graded.
	Source *Grade `json:"source,omitempty"`
	// Assertion is this node's grade of this version's assertion.
	Assertion *Grade `json:"assertion,omitempty"`
	// OwnGrading combines them, e.g. "C3", with "?" for a half not graded
	// ("C?"); "" when this node graded neither.
	OwnGrading string `json:"own_grading"`
}

// Assess returns the gradings of the newest version of object, side by
// side.
func (s *Service) Assess(ctx context.Context, object string) (*Assessment, error) {
	var a *Assessment
	err := s.store.View(ctx, func(tx detente.Tx) error {
		o, err := tx.Object(ctx, detente.NormalID(object))
		if err != nil {
			return err
		}
		a, err = AssessVersion(ctx, tx, o)
		return err
	})
	return a, err
}

// AssessVersion returns the gradings of version o, side by side, within
// tx.
func AssessVersion(ctx context.Context, tx detente.Tx, o *detente.ObjectVersion) (*Assessment, error) {
	a := &Assessment{Object: o.ID, Modified: o.Modified, Originator: o.Originator, OriginatorGrading: o.Grading.String()}
	read := func(subject string) (*Grade, error) {
		raw, err := tx.Doc(ctx, docGrade, subject)
		if detente.ErrorCode(err) == detente.ENOTFOUND {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		g := new(Grade)
		return g, json.Unmarshal(raw, g)
	}
	var err error
	if o.Originator != "" && o.Originator != detente.OriginSelf {
		if a.Source, err = read("partner/" + o.Originator); err != nil {
			return nil, err
		}
	}
	if a.Assertion, err = read("object/" + o.Key()); err != nil {
		return nil, err
	}
	if a.Source != nil || a.Assertion != nil {
		r, c := "?", "?"
		if a.Source != nil {
			r = a.Source.Reliability
		}
		if a.Assertion != nil {
			c = fmt.Sprint(a.Assertion.Credibility)
		}
		a.OwnGrading = r + c
	}
	return a, nil
}

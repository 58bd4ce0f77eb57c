package trace

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/stix"
	"detente/internal/translog"
)

// evidenceCase is a node that released a fingerprinted report to five
// partners, logged the releases, and traced a leak.
type evidenceCase struct {
	s        *Scheme
	priv     ed25519.PrivateKey
	pub      ed25519.PublicKey
	parts    []string
	copies   []*Copy
	res      *Result
	openings map[Commitment][]byte
	bundle   *translog.Bundle // the release events of parts[2]
	ev       *Evidence
	data     []byte
}

func newEvidenceCase(t testing.TB) *evidenceCase {
	t.Helper()
	ctx := context.Background()
	c := &evidenceCase{s: testScheme(t), parts: recipients(5), openings: map[Commitment][]byte{}}
	c.priv = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	c.pub = c.priv.Public().(ed25519.PublicKey)
	obj := testReport("report--33333333-4444-4555-8666-777777777777", 60, true, 8)
	tpl := mustParse(t, obj)
	copies, recs := release(t, c.s, tpl, c.parts...)
	c.copies = copies
	// The log: some other events, then one release event per partner
	// carrying the commitment of its copy.
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var events []*detente.Event
	for i := range 3 {
		e, _ := detente.NewEvent(t0, detente.EventPartnerAdded, fmt.Sprintf("p%d", i), map[string]any{"i": i})
		events = append(events, e)
	}
	var mine []*detente.Event
	for i, cp := range copies {
		c.openings[cp.Commitment] = cp.Opening
		e, err := detente.NewEvent(t0.Add(time.Duration(i)*time.Minute), detente.EventRelease, fmt.Sprintf("partner-%d", i),
			map[string]any{"allowed": true, "object": tpl.ID(), EventField: []Commitment{cp.Commitment}})
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
		if i == 2 {
			mine = append(mine, e)
		}
	}
	for i, e := range events {
		e.Seq = int64(i)
	}
	hs := translog.NewMemStore()
	if err := translog.Append(ctx, hs, 0, events...); err != nil {
		t.Fatal(err)
	}
	size := int64(len(events))
	root, err := translog.TreeHash(ctx, hs, size)
	if err != nil {
		t.Fatal(err)
	}
	origin := translog.Origin("alpha", c.pub)
	note, err := translog.Sign(origin, size, root, c.priv)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := translog.ParseCheckpoint(note, origin, c.pub)
	if err != nil {
		t.Fatal(err)
	}
	if c.bundle, err = translog.ExportProofs(ctx, hs, cp, mine); err != nil {
		t.Fatal(err)
	}
	// The leak: partner 2's description, pasted.
	leak := []byte(pasted(copies[2].Object["description"].(string)))
	if c.res, err = c.s.Trace([]Candidate{{tpl, recs}}, leak); err != nil {
		t.Fatal(err)
	}
	if got := accused(c.res); !slices.Equal(got, []string{c.parts[2]}) {
		t.Fatalf("accused %q", got)
	}
	c.ev, err = c.res.Evidence([]string{c.parts[2]}, c.lookup, c.bundle, c.priv)
	if err != nil {
		t.Fatal(err)
	}
	if c.data, err = c.ev.Marshal(); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *evidenceCase) lookup(cm Commitment) ([]byte, error) {
	if o, ok := c.openings[cm]; ok {
		return o, nil
	}
	return nil, errors.New("no such opening")
}

func TestEvidence(t *testing.T) {
	c := newEvidenceCase(t)
	rep, err := VerifyEvidence(c.data, c.pub)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Suspects) != 1 || rep.Suspects[0].Recipient != c.parts[2] || rep.Suspects[0].Partner != "partner-2" ||
		!rep.Suspects[0].Accused || rep.Releases != 1 || rep.Observed < 60 {
		t.Fatalf("report %+v", rep)
	}
	if got, want := rep.Suspects[0].Score.Score, c.res.Suspects[0].Score; math.Abs(got-want) > 1e-9*want {
		t.Errorf("verified score %v, traced %v", got, want)
	}
	t.Logf("evidence of %d bytes: %d releases, %d positions, %d observed; %s named with bound 10^%.1f",
		len(c.data), rep.Releases, rep.Positions, rep.Observed, rep.Suspects[0].Partner, rep.Suspects[0].Log10Bound)
	if strings.Contains(string(c.data), string(testKey)) {
		t.Error("the evidence holds the node secret")
	}
	// Another partner's copy is not in it.
	for i, cp := range c.copies {
		if i != 2 && bytes.Contains(c.data, []byte(cp.Commitment.String())) {
			t.Errorf("the evidence reveals partner %d's release", i)
		}
	}
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32)).Public().(ed25519.PublicKey)
	if _, err := VerifyEvidence(c.data, other); err == nil {
		t.Error("verified with another node's key")
	}
}

// TestEvidenceEdited edits each field of the evidence in turn (one leaf
// per distinct path, list indices aside) and expects verification to fail.
func TestEvidenceEdited(t *testing.T) {
	c := newEvidenceCase(t)
	var doc any
	if err := json.Unmarshal(c.data, &doc); err != nil {
		t.Fatal(err)
	}
	index := regexp.MustCompile(`\[\d+\]`)
	tried := map[string]bool{}
	var walk func(v any, path string, set func(any))
	walk = func(v any, path string, set func(any)) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(x) {
				walk(x[k], path+"."+k, func(n any) { x[k] = n })
			}
			return
		case []any:
			for i := range x {
				walk(x[i], fmt.Sprintf("%s[%d]", path, i), func(n any) { x[i] = n })
			}
			return
		}
		pattern := index.ReplaceAllString(path, "[]")
		if tried[pattern] {
			return
		}
		tried[pattern] = true
		var edited any
		switch x := v.(type) {
		case string:
			edited = editString(x)
		case float64:
			edited = x + 1
		case bool:
			edited = !x
		case nil:
			edited = "x"
		}
		set(edited)
		data, err := json.Marshal(doc)
		set(v)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := VerifyEvidence(data, c.pub); err == nil {
			t.Errorf("%s edited (%v → %v): still verifies", path, v, edited)
		}
	}
	walk(doc, "", nil)
	t.Logf("%d fields edited", len(tried))
}

// editString changes s while keeping it of the same form where it has
// one (base64, hex, a number), so that the edit is not merely rejected
// by the parser.
func editString(s string) string {
	if s == "" {
		return "x"
	}
	b := []byte(s)
	for i := len(b) - 1; i >= 0; i-- {
		switch c := b[i]; {
		case c >= 'a' && c < 'f', c >= 'A' && c < 'Z', c >= '0' && c < '9':
			b[i]++
			return string(b)
		case c == 'f' || c == '9':
			b[i]--
			return string(b)
		}
	}
	return s + "x"
}

// TestEvidenceForged edits evidence and signs it again with the node
// key, as a node trying to frame a partner after the fact would: each
// edit is caught by the recomputation or the log.
func TestEvidenceForged(t *testing.T) {
	c := newEvidenceCase(t)
	forge := func(name string, edit func(ev *Evidence)) {
		t.Run(name, func(t *testing.T) {
			ev, err := ParseEvidence(c.data)
			if err != nil {
				t.Fatal(err)
			}
			edit(ev)
			if err := ev.sign(c.priv); err != nil {
				t.Fatal(err)
			}
			data, err := ev.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			_, err = VerifyEvidence(data, c.pub)
			if !errors.Is(err, ErrEvidence) {
				t.Fatalf("err = %v, want ErrEvidence", err)
			}
			t.Log(err)
		})
	}
	forge("an observed symbol", func(ev *Evidence) {
		o := &ev.Observed[0]
		o.Symbol = 1 - o.Symbol
	})
	forge("a score", func(ev *Evidence) { ev.Suspects[0].Score.Score += 5 })
	forge("a bound", func(ev *Evidence) { ev.Suspects[0].Log10Bound -= 3 })
	forge("the number of recipients", func(ev *Evidence) { ev.Recipients = 2 })
	forge("the partner named", func(ev *Evidence) { ev.Suspects[0].Partner, ev.Releases[0].Partner = "partner-3", "partner-3" })
	forge("another partner's copy as the leak", func(ev *Evidence) {
		ev.Leaked[0].Text = pasted(c.copies[3].Object["description"].(string))
	})
	forge("the opening's symbols, with its commitment", func(ev *Evidence) {
		o, _ := ParseOpening(ev.Releases[0].Opening)
		for i := range o.Marks {
			if o.Marks[i].Kind == KindWording {
				o.Marks[i].Symbol = 1 - o.Marks[i].Symbol
			}
		}
		raw, _ := json.Marshal(o)
		ev.Releases[0].Opening = raw
		ev.Releases[0].Commitment, _ = commitmentOf(raw)
	})
	forge("the release event's body", func(ev *Evidence) {
		var b bytes.Buffer
		if err := json.Compact(&b, ev.Log.Entries[0].Body); err != nil {
			t.Fatal(err)
		}
		edited := strings.Replace(b.String(), `"allowed":true`, `"allowed":false`, 1)
		if edited == b.String() {
			t.Fatalf("body %s not edited", b.String())
		}
		ev.Log.Entries[0].Body = json.RawMessage(edited)
	})
	forge("no release", func(ev *Evidence) { ev.Releases = nil })
	forge("no suspects", func(ev *Evidence) { ev.Suspects = nil })
}

func TestEvidenceBuildErrors(t *testing.T) {
	c := newEvidenceCase(t)
	none := func(Commitment) ([]byte, error) { return nil, errors.New("lost") }
	if _, err := c.res.Evidence([]string{c.parts[2]}, none, c.bundle, c.priv); err == nil {
		t.Error("no opening: no error")
	}
	wrong := func(Commitment) ([]byte, error) { return c.copies[1].Opening, nil }
	if _, err := c.res.Evidence([]string{c.parts[2]}, wrong, c.bundle, c.priv); err == nil {
		t.Error("another release's opening: no error")
	}
	if _, err := c.res.Evidence([]string{c.parts[1]}, c.lookup, c.bundle, c.priv); err == nil {
		t.Error("a release that is not in the log bundle: no error")
	}
	if _, err := c.res.Evidence([]string{"nobody"}, c.lookup, c.bundle, c.priv); err == nil {
		t.Error("a recipient that was not scored: no error")
	}
}

// TestOpeningCanonical: the openings Fingerprint writes from parts are the
// canonical JSON of the opening, byte for byte, and open their
// commitments.
func TestOpeningCanonical(t *testing.T) {
	s := testScheme(t)
	tpl := mustParse(t, testReport("report--5e0c4a55-0c8f-4b4e-9a0e-7f3a3b1c2d4e", 30, true, 3))
	for _, r := range append(recipients(5), `detente-node:"quoted"\u00e9`) {
		c, err := s.Fingerprint(tpl, r)
		if err != nil {
			t.Fatal(err)
		}
		o, err := ParseOpening(c.Opening)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(o)
		want, err := stix.Canonicalize(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c.Opening, want) {
			t.Fatalf("opening for %s:\n got %s\nwant %s", r, c.Opening, want)
		}
		if got, err := commitmentOf(c.Opening); err != nil || got != c.Commitment {
			t.Fatalf("the opening does not open its commitment: %v", err)
		}
	}
}

// TestReopen: the opening rebuilt from the template, the record and the
// nonce is the one Fingerprint wrote; another nonce or symbol does not
// open the commitment.
func TestReopen(t *testing.T) {
	s := testScheme(t)
	tpl := mustParse(t, testReport("report--5e0c4a55-0c8f-4b4e-9a0e-7f3a3b1c2d4e", 30, true, 3))
	c, err := s.Fingerprint(tpl, "detente-node:bravo")
	if err != nil {
		t.Fatal(err)
	}
	o, err := ParseOpening(c.Opening)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Reopen(tpl, c.Record, o.Nonce)
	if err != nil || !bytes.Equal(got, c.Opening) {
		t.Fatalf("reopened %s (%v), want %s", got, err, c.Opening)
	}
	other := bytes.Clone(o.Nonce)
	other[0] ^= 1
	if _, err := s.Reopen(tpl, c.Record, other); err == nil {
		t.Error("another nonce opens the commitment")
	}
	rec := *c.Record
	rec.Symbols = bytes.Clone(rec.Symbols)
	rec.Symbols[0] ^= 1
	if _, err := s.Reopen(tpl, &rec, o.Nonce); err == nil {
		t.Error("another symbol opens the commitment")
	}
}

// Package demo runs three fictitious partner agencies' nodes on loopback,
// each with its own data directory, partners, agreements and sample
// intelligence, so a newcomer can see the node work with one command.
// Everything in it is invented for the demo.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"detente"
	"detente/internal/datadir"
	"detente/internal/lists"
	"detente/internal/node"
	"detente/internal/screening"
	"detente/internal/server"
)

// Agency is one demo partner.
type Agency struct {
	Name    string // node name
	Title   string // the fictitious agency
	Node    *node.Node
	Server  *server.Server
	Token   string // an admin token
	Analyst string // an analyst token
	Dir     string
	// WebFingerprint is the SHA-256 fingerprint of the certificate the
	// node's listener shows browsers.
	WebFingerprint string
	sample         func(now time.Time) []map[string]any
	reportID       string
}

// Demo is the running demo.
type Demo struct {
	Agencies []*Agency
	Dir      string
	tempDir  bool
	// syncInterval is how often the nodes pull from each other.
	syncInterval time.Duration
	// realLists names the official lists loaded into alpha.
	realLists []string
	// markedID is alpha's fingerprinted report.
	markedID string
}

// Options configures Start.
type Options struct {
	// Dir keeps the nodes' data; empty means a new temporary directory,
	// removed by Close.
	Dir string
	// Logger receives the nodes' logs.
	Logger *slog.Logger
	// Insecure serves plain HTTP instead of HTTPS (and so no federation).
	Insecure bool
	// Shared is the shared data directory; when it holds the UN, OFAC and
	// EU lists, alpha loads them too. "" loads none.
	Shared string
	// SyncInterval is how often the nodes pull from each other; 0 means
	// DefaultSyncInterval, negative means never (tests sync by hand).
	SyncInterval time.Duration
	// Init creates a node called name in the data directory dir, and Open
	// opens it: the wiring (cmd/detente) chooses the store, embedded
	// SQLite for the demo. Both are required.
	Init func(ctx context.Context, dir, name string) (detente.PublicKey, error)
	Open func(ctx context.Context, dir string, logger *slog.Logger) (*node.Node, error)
}

// DefaultSyncInterval is how often demo nodes pull from each other.
const DefaultSyncInterval = 2 * time.Second

// Start creates and starts the demo nodes.
func Start(ctx context.Context, opts Options) (*Demo, error) {
	d := &Demo{Dir: opts.Dir}
	if d.Dir == "" {
		dir, err := os.MkdirTemp("", "detente-demo-")
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		d.Dir, d.tempDir = dir, true
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SyncInterval == 0 {
		opts.SyncInterval = DefaultSyncInterval
	}
	d.Agencies = agencies()
	d.syncInterval = opts.SyncInterval
	if err := d.setup(ctx, opts); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *Demo) setup(ctx context.Context, opts Options) error {
	keys := map[string]detente.PublicKey{}
	for _, a := range d.Agencies {
		a.Dir = filepath.Join(d.Dir, a.Name)
		key, err := opts.Init(ctx, a.Dir, a.Name)
		if err != nil {
			return fmt.Errorf("demo: init %s: %w", a.Name, err)
		}
		keys[a.Name] = key
		if a.Node, err = opts.Open(ctx, a.Dir, opts.Logger.With("node", a.Name)); err != nil {
			return fmt.Errorf("demo: open %s: %w", a.Name, err)
		}
		web, err := datadir.WebCertificate(a.Dir, a.Name, []string{"127.0.0.1", "localhost", "::1"}, time.Now())
		if err != nil {
			return fmt.Errorf("demo: %s: %w", a.Name, err)
		}
		a.WebFingerprint = datadir.Fingerprint(web)
		a.Server = server.New(a.Node, opts.Logger.With("node", a.Name), server.Options{Insecure: opts.Insecure, SyncInterval: max(opts.SyncInterval, 0),
			WebCert: &web})
		if err := a.Server.Listen("127.0.0.1:0"); err != nil {
			return fmt.Errorf("demo: %s: %w", a.Name, err)
		}
		if _, a.Token, err = a.Node.CreateToken(ctx, detente.RoleAdmin, "demo admin"); err != nil {
			return err
		}
		if _, a.Analyst, err = a.Node.CreateToken(ctx, detente.RoleAnalyst, "demo analyst"); err != nil {
			return err
		}
	}
	now := time.Now().UTC()
	for _, a := range d.Agencies {
		for _, p := range d.Agencies {
			if p == a {
				continue
			}
			if _, err := a.Node.AddPartner(ctx, p.Name, keys[p.Name], p.Server.URL()); err != nil {
				return fmt.Errorf("demo: %s adds %s: %w", a.Name, p.Name, err)
			}
		}
		for _, terms := range agreementsOf(a.Name, now) {
			doc, _ := json.Marshal(terms)
			ag, err := detente.ParseAgreement(doc)
			if err != nil {
				return fmt.Errorf("demo: agreement of %s: %w", a.Name, err)
			}
			if _, err := a.Node.AddAgreement(ctx, ag); err != nil {
				return fmt.Errorf("demo: agreement of %s: %w", a.Name, err)
			}
		}
		objs := a.sample(now)
		for _, o := range objs {
			if o["type"] == "report" && a.reportID == "" {
				a.reportID = o["id"].(string)
			}
		}
		bundle, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuid(a.Name, 0), "objects": objs})
		if _, err := a.Node.Ingest(ctx, bundle, node.IngestOptions{Grading: detente.Grading{Reliability: 'B', Credibility: 2}}); err != nil {
			return fmt.Errorf("demo: sample intelligence of %s: %w", a.Name, err)
		}
		if err := loadWatchlists(ctx, a); err != nil {
			return err
		}
		// Each agency's own designations, and (so the divergence view has
		// something to compare them with) its partners' published lists.
		for _, b := range d.Agencies {
			if _, err := a.Node.Screening.LoadList(ctx, b.Name, designationsOf(b.Name), screening.ListLoadOptions{}); err != nil {
				return fmt.Errorf("demo: designations of %s at %s: %w", b.Name, a.Name, err)
			}
		}
	}
	if err := d.fingerprint(ctx); err != nil {
		return err
	}
	if err := writeMatchExample(d.Dir); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := d.openChannels(ctx, opts); err != nil {
		return err
	}
	if err := d.holdCharlie(ctx); err != nil {
		return err
	}
	if opts.Shared != "" {
		if err := d.loadRealLists(ctx, opts.Shared); err != nil {
			return err
		}
	}
	return nil
}

// loadRealLists loads the UN, OFAC and EU fixtures into alpha's node.
func (d *Demo) loadRealLists(ctx context.Context, shared string) error {
	dir := filepath.Join(shared, "testdata", "lists")
	if _, err := os.Stat(dir); err != nil {
		return nil // no shared data: the demo runs on its own data alone
	}
	sets := []struct {
		authority string
		files     []string
	}{
		{lists.AuthorityUN, []string{"un/consolidated.xml"}},
		{lists.AuthorityOFAC, []string{"ofac/sdn.csv", "ofac/add.csv", "ofac/alt.csv", "ofac/sdn_comments.csv"}},
		{lists.AuthorityEU, []string{"eu/32001R2580.csv"}},
	}
	for _, s := range sets {
		var rs []io.Reader
		for _, f := range s.files {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			rs = append(rs, bytes.NewReader(b))
		}
		ds, err := lists.Load(s.authority, rs...)
		if err != nil {
			return fmt.Errorf("demo: %s list: %w", s.authority, err)
		}
		if _, err := d.Agencies[0].Node.Screening.LoadList(ctx, s.authority, ds, screening.ListLoadOptions{}); err != nil {
			return fmt.Errorf("demo: %s list: %w", s.authority, err)
		}
		d.realLists = append(d.realLists, s.authority)
	}
	return nil
}

// Close stops the servers, closes the stores, and removes a temporary
// data directory.
func (d *Demo) Close() error {
	var errs []error
	for _, a := range d.Agencies {
		if a.Server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			errs = append(errs, a.Server.Shutdown(ctx))
			cancel()
		}
		if a.Node != nil {
			errs = append(errs, a.Node.Close())
		}
	}
	if d.tempDir {
		errs = append(errs, os.RemoveAll(d.Dir))
	}
	return errors.Join(errs...)
}

// PrintSummary writes each node's URL, tokens and a few things to try.
func (d *Demo) PrintSummary(w io.Writer) {
	fmt.Fprintf(w, "detente demo: %d partner nodes on loopback (data in %s)\n", len(d.Agencies), d.Dir)
	for _, a := range d.Agencies {
		fmt.Fprintf(w, "\n%s — %s\n  URL:           %s\n  key:           %s\n  TLS SHA-256:   %s\n  admin token:   %s\n  analyst token: %s\n  data dir:      %s\n",
			a.Name, a.Title, a.Server.URL(), a.Node.PublicKey(), a.WebFingerprint, a.Token, a.Analyst, a.Dir)
	}
	a := d.Agencies[0]
	fmt.Fprintf(w, `
The nodes pull from each other every %[5]s over mutual TLS. alpha shares up to
TLP:AMBER with bravo and TLP:GREEN with charlie; within a few seconds bravo
holds alpha's AMBER report and the indicator marked releasable to bravo only,
charlie holds only alpha's GREEN items, and alpha's TLP:RED indicator (and the
report that cites it) reaches no one. Watch it with:
  go run ./cmd/detente partner status --dir %[6]s
  go run ./cmd/detente object list --dir %[6]s

Each agency holds its own designations and its partners' published ones,
which partly disagree (who lists the Black Meridian Front whole, who only its
armed wing; Yusuf/Youssef/Jusuf Karimov spelt three ways):
  go run ./cmd/detente lists compare --dir %[6]s
  go run ./cmd/detente screen --dir %[6]s "Юсуф Каримов"%[7]s

A partner's curation report says what it shares and what nobody else backs:
charlie lists a cultural league and a students' union that no other
authority lists, flagged single-source:
  go run ./cmd/detente partner report --dir %[4]s charlie

Private matching: alpha learns which of the phones on its watchlist are on
bravo's watchlists (however bravo spells them), and bravo learns nothing:
  go run ./cmd/detente match --dir %[4]s --partner bravo --type phone %[8]s

Open any node's URL in a browser for the web console (accept its self-signed
certificate) and log in with one of its tokens above.

Try (the certificates are self-signed: partners pin keys, not CAs, hence -k):
  curl -k -H 'Authorization: Bearer %[1]s' %[2]s/api/v1/objects
  curl -k -H 'Authorization: Bearer %[1]s' '%[2]s/api/v1/releases/check?object=%[3]s&partner=bravo'
  curl -k -H 'Authorization: Bearer %[1]s' '%[2]s/api/v1/releases/check?object=%[3]s&partner=charlie'
  go run ./cmd/detente release check --dir %[4]s --object %[3]s --to charlie
`, a.Analyst, a.Server.URL(), a.reportID, a.Dir, d.syncInterval, d.Agencies[1].Dir, d.realListsHint(), filepath.Join(d.Dir, MatchExample))
	d.printLeak(w)
	d.printChannels(w)
	d.printReciprocity(w)
}

func (d *Demo) realListsHint() string {
	if len(d.realLists) == 0 {
		return ""
	}
	return fmt.Sprintf("\nalpha also holds the real %s lists (from ../shared):\n  go run ./cmd/detente screen --dir %s \"Усама бен Ладен\"\n  go run ./cmd/detente lists compare --dir %s %s",
		strings.Join(d.realLists, ", "), d.Agencies[0].Dir, d.Agencies[0].Dir, strings.Join(d.realLists, " "))
}

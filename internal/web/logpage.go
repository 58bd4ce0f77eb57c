package web

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"detente"
	"detente/internal/params"
	"detente/internal/translog"
)

// eventTypes are offered in the log's type filter.
var eventTypes = []string{
	detente.EventNodeInit, detente.EventObjectIngested, detente.EventObjectReceived, detente.EventObjectQuarantined,
	detente.EventRelease, detente.EventPartnerAdded, detente.EventPartnerChanged, detente.EventAgreementAdded,
	detente.EventAgreementChanged, detente.EventConsentAdded, detente.EventConsentRevoked, detente.EventTokenCreated,
	detente.EventTokenRevoked, detente.EventDesignation, detente.EventMatchQuery, detente.EventChannel,
}

// eventRow is a log entry in a list.
type eventRow struct {
	*detente.Event
	Summary string
}

// logPage is the data of the log.
type logPage struct {
	Type, Partner string
	// From is set when browsing forwards from an entry; otherwise the
	// newest entries come first, those before entry Before when it is set.
	From     int64
	Forward  bool
	Before   int64
	Size     int64
	Events   []eventRow
	Types    []string
	Partners []*detente.Partner
	// Next is the address of the next page: later entries when browsing
	// forwards, older ones when newest first. Newer is the address of the
	// page of newer entries, newest first ("" on the newest page).
	Next, Newer string
}

const logPerPage = 50

func compactBody(b []byte) string {
	var c bytes.Buffer
	if json.Compact(&c, b) == nil {
		return c.String()
	}
	return string(b)
}

func (h *Handler) logPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	q, err := params.Parse(r.URL.RawQuery, params.Text("type"), params.Text("partner"), params.Int("from", 0, math.MaxInt64),
		params.Int("before", 1, math.MaxInt64), params.IgnoreOthers)
	if err != nil {
		return err
	}
	p := logPage{Type: q.Text("type"), Partner: q.Text("partner"), Types: eventTypes}
	if q.Has("from") {
		p.From, p.Forward = q.Int("from", 0), true
	} else {
		p.Before = q.Int("before", 0)
	}
	if p.Partners, err = h.node.Partners(ctx); err != nil {
		return err
	}
	if p.Size, err = h.node.LogSize(ctx); err != nil {
		return err
	}
	f := detente.EventFilter{Type: p.Type, Partner: p.Partner, Limit: logPerPage + 1, FromSeq: p.From, BeforeSeq: p.Before, Newest: !p.Forward}
	es, err := h.node.Events(ctx, f)
	if err != nil {
		return err
	}
	link := func(key string, seq int64) string {
		nq := url.Values{}
		if key != "" {
			nq.Set(key, strconv.FormatInt(seq, 10))
		}
		if p.Type != "" {
			nq.Set("type", p.Type)
		}
		if p.Partner != "" {
			nq.Set("partner", p.Partner)
		}
		if len(nq) == 0 {
			return "/log"
		}
		return "/log?" + nq.Encode()
	}
	if len(es) > logPerPage {
		if p.Forward {
			p.Next = link("from", es[logPerPage].Seq)
		} else {
			p.Next = link("before", es[logPerPage-1].Seq)
		}
		es = es[:logPerPage]
	}
	if !p.Forward && p.Before > 0 {
		// The page of newer entries ends with the logPerPage entries
		// that follow this page's first.
		from := p.Before
		if len(es) > 0 {
			from = es[0].Seq + 1
		}
		newer, err := h.node.Events(ctx, detente.EventFilter{Type: p.Type, Partner: p.Partner, FromSeq: from, Limit: logPerPage})
		if err != nil {
			return err
		}
		switch {
		case len(newer) == logPerPage:
			p.Newer = link("before", newer[len(newer)-1].Seq+1)
		default:
			p.Newer = link("", 0) // the newest page
		}
	}
	for _, e := range es {
		p.Events = append(p.Events, eventRow{Event: e, Summary: compactBody(e.Body)})
	}
	h.render(w, r, v, http.StatusOK, "log", "Log", "log", p)
	return nil
}

// logEntryPage is the data of one log entry's page.
type logEntryPage struct {
	Event      *detente.Event
	Body       string
	LeafHash   string // recomputed from the entry
	StoredLeaf string // as the store recorded it
	LeafOK     bool
	Checkpoint *checkpointView
	Proof      []string
	// Verified reports that the recomputed leaf is proven included in the
	// tree the signed checkpoint commits to.
	Verified bool
	Problem  string
	Size     int64
}

func (h *Handler) logEntry(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 0 {
		return detente.Errorf(detente.ENOTFOUND, "there is no log entry %q", r.PathValue("seq"))
	}
	var p logEntryPage
	size, entries, err := h.node.LogEntries(ctx, seq, seq+1)
	if err != nil {
		return err
	}
	if len(entries) == 0 || entries[0].Event.Seq != seq {
		return detente.Errorf(detente.ENOTFOUND, "there is no log entry %d", seq)
	}
	p.Event, p.Size = entries[0].Event, size
	p.StoredLeaf = base64.StdEncoding.EncodeToString(entries[0].LeafHash[:])
	partners, err := h.node.Partners(ctx)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if json.Indent(&b, p.Event.Body, "", "  ") == nil {
		p.Body = b.String()
	} else {
		p.Body = string(p.Event.Body)
	}
	leaf := translog.LeafHash(p.Event)
	p.LeafHash = base64.StdEncoding.EncodeToString(leaf[:])
	p.LeafOK = p.LeafHash == p.StoredLeaf
	// Prove against a checkpoint of the whole log, signed now if the log
	// grew since the last one (as the API does).
	if _, err := h.node.Checkpoint(ctx); err != nil {
		return err
	}
	note, cp, err := h.node.LatestCheckpoint(ctx)
	if err != nil {
		return err
	}
	if p.Checkpoint, err = h.viewCheckpoint(note, cp, partners); err != nil {
		return err
	}
	proof, err := h.node.InclusionProof(ctx, seq, cp.Size)
	if err != nil {
		return err
	}
	for _, x := range proof {
		p.Proof = append(p.Proof, base64.StdEncoding.EncodeToString(x[:]))
	}
	parsed, err := translog.ParseCheckpoint(note, h.node.Origin(), ed25519.PublicKey(h.node.PublicKey()))
	if err != nil {
		return err
	}
	if err := parsed.VerifyInclusion(seq, leaf, proof); err != nil {
		p.Problem = err.Error()
	} else {
		p.Verified = true
	}
	h.render(w, r, v, http.StatusOK, "logentry", "Log entry "+strconv.FormatInt(seq, 10), "log", p)
	return nil
}

package feed

import (
	"context"
	"net/http"

	"detente"
	"detente/internal/taxii"
)

// taxiiSource walks a TAXII 2.1 collection by next and added_after.
type taxiiSource struct {
	c          *taxii.Client
	collection string
	limit      int
	name       string
	resumed    bool     // the first request of the pull has been made
	versions   []string // match[version]: all, unless the server refuses it
}

func newTAXIISource(c *Config, hc *http.Client, cr credentials) (*taxiiSource, error) {
	root, id, err := taxii.ParseCollectionURL(c.URL)
	if err != nil {
		return nil, detente.Errorf(detente.EINVALID, "feed %s: %v", c.Name, err)
	}
	return &taxiiSource{
		c:          &taxii.Client{HTTP: hc, BaseURL: root, Username: cr.username, Password: cr.password, Token: cr.token},
		collection: id,
		limit:      c.pageSize(),
		name:       c.Name,
		versions:   []string{"all"},
	}, nil
}

// fetch gets the page after cur. Within a walk it follows next with the
// walk's filter unchanged, as servers bind next to the filter; a server
// that sets more without next is followed by added_after set to the page's
// X-TAXII-Date-Added-Last (TAXII 2.1 section 3.4.2). When the walk ends,
// the cursor's added_after becomes the last date_added stored, so the next
// pull asks only for what was added since (added_after is exclusive).
//
// A next stored by an earlier pull that the server no longer accepts (400,
// 404, 410: restarted, expired) is dropped for added_after = the last
// date_added stored, or, when the server never sent one, the start of the
// walk: the Sink then sees objects it already holds again, which the store
// keeps once.
//
// Every version of each object is asked for (match[version]=all: the node
// keeps them all); a server that refuses the parameter on the first request
// (400) is asked again without it, and serves its default, the latest
// version.
func (s *taxiiSource) fetch(ctx context.Context, cur Cursor) (*batch, error) {
	first := !s.resumed
	s.resumed = true
	f := taxii.Filter{Versions: s.versions, AddedAfter: cur.AddedAfter, Limit: s.limit}
	p, err := s.c.Objects(ctx, s.collection, f, cur.Next)
	if err != nil && first && cur.Next != "" && (taxii.IsStatus(err, 400) || taxii.IsStatus(err, 404) || taxii.IsStatus(err, 410)) {
		cur.Next = ""
		if !cur.Last.IsZero() {
			cur.AddedAfter = cur.Last
		}
		f.AddedAfter = cur.AddedAfter
		p, err = s.c.Objects(ctx, s.collection, f, "")
	}
	if err != nil && first && cur.Next == "" && taxii.IsStatus(err, 400) {
		s.versions, f.Versions = nil, nil
		p, err = s.c.Objects(ctx, s.collection, f, "")
	}
	if err != nil {
		return nil, err
	}
	b := &batch{raws: p.Objects, dateAddedLast: p.DateAddedLast, next: cur.clone()}
	if !p.DateAddedLast.IsZero() && p.DateAddedLast.After(b.next.Last) {
		b.next.Last = p.DateAddedLast
	}
	switch {
	case !p.More:
		b.next.Next = ""
		if b.next.Last.After(b.next.AddedAfter) {
			b.next.AddedAfter = b.next.Last
		}
	case p.Next != "":
		if p.Next == cur.Next && len(p.Objects) == 0 {
			b.stop = detente.Errorf(detente.EUNAVAILABLE, "feed %s: the server repeats its next value without serving anything", s.name)
			break
		}
		b.next.Next, b.more = p.Next, true
	case !p.DateAddedLast.IsZero() && p.DateAddedLast.After(cur.AddedAfter):
		b.next.AddedAfter, b.next.Next, b.more = p.DateAddedLast, "", true
	default:
		b.next.Next = ""
		b.stop = detente.Errorf(detente.EUNAVAILABLE, "feed %s: the server reports more objects but gives neither next nor a later %s", s.name, taxii.HeaderDateAddedLast)
	}
	return b, nil
}

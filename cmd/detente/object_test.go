package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"detente"
	"detente/internal/node"
)

// TestNewestObjects: the newest objects of a type, however few of them
// among many others and however many versions each has, are those the
// whole listing ends with, newest first.
func TestNewestObjects(t *testing.T) {
	ctx := context.Background()
	dir := setupNode(t)
	n, err := openNodeDir(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	const ind = `{"type": "indicator", "spec_version": "2.1", "id": "indicator--00000000-0000-4000-8000-%012d",
		"created": "2026-01-10T10:00:00.000Z", "modified": "2026-01-%02dT10:00:00.000Z", "name": "n", "pattern": "[url:value = 'x']",
		"pattern_type": "stix", "valid_from": "2026-01-10T10:00:00Z"}`
	const dom = `{"type": "domain-name", "spec_version": "2.1", "id": "domain-name--00000000-0000-4000-8000-%012d", "value": "d%d.example"}`
	var objs []string
	for i := range 60 {
		switch {
		case i%20 == 0: // a few indicators, each in two versions
			objs = append(objs, fmt.Sprintf(ind, i, 10), fmt.Sprintf(ind, i, 11))
		default:
			objs = append(objs, fmt.Sprintf(dom, i, i))
		}
	}
	for _, o := range objs { // one ingest each: one Seq each, in order
		if _, err := n.Ingest(ctx, []byte(o), node.IngestOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, types := range [][]string{nil, {"indicator"}, {"domain-name"}} {
		f := detente.ObjectFilter{LatestOnly: true, Types: types}
		var all []*detente.ObjectVersion
		if err := n.Store.View(ctx, func(tx detente.Tx) (err error) { all, err = tx.Objects(ctx, f); return }); err != nil {
			t.Fatal(err)
		}
		slices.Reverse(all)
		for _, limit := range []int{0, 1, 2, 3, 5, 100} {
			got, err := n.NewestObjects(ctx, f, limit)
			if err != nil {
				t.Fatal(err)
			}
			want := all
			if limit > 0 && len(want) > limit {
				want = want[:limit]
			}
			if ids(got) != ids(want) {
				t.Errorf("types %v, limit %d:\n got %s\nwant %s", types, limit, ids(got), ids(want))
			}
		}
	}
}

func ids(objs []*detente.ObjectVersion) string {
	var s []string
	for _, o := range objs {
		s = append(s, o.ID+"@"+o.Modified.Format("02"))
	}
	return strings.Join(s, " ")
}

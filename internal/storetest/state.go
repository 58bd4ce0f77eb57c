package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"detente"
)

func testSyncState(t *testing.T, s detente.Store) {
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		st, err := tx.SyncState(ctx, "bravo")
		if err != nil || st.Partner != "bravo" || !st.Cursor.IsZero() || st.Received != 0 {
			t.Errorf("fresh state = %+v, %v", st, err)
		}
		return nil
	})
	want := &detente.SyncState{Partner: "bravo", Cursor: t0.Add(1500 * time.Microsecond), LastAttempt: t0, LastSuccess: t0,
		Received: 10, Quarantined: 2, Rejected: 1, Errors: 3, LastError: "connection refused"}
	update(t, s, func(ctx context.Context, tx detente.Tx) error { return tx.PutSyncState(ctx, want) })
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		got, err := tx.SyncState(ctx, "bravo")
		if err != nil || !got.Cursor.Equal(want.Cursor) || got.Received != 10 || got.Quarantined != 2 || got.Rejected != 1 ||
			got.Errors != 3 || got.LastError != want.LastError || !got.LastSuccess.Equal(t0) {
			t.Errorf("state = %+v, %v", got, err)
		}
		return nil
	})
}

func testDesignations(t *testing.T, s detente.Store) {
	ds := []*detente.Designation{
		{Authority: "un", EntityID: "QDi.001", Type: detente.EntityPerson, Names: []detente.DesignationName{{Name: "Сергей Лавров", Kind: detente.NameKindOriginalScript, Script: "Cyrl"}}, DatesOfBirth: []string{"1950-03-21"},
			Identifiers: []detente.DesignationIdentifier{{Type: detente.IdentifierPassport, Value: "C01X00T47", Country: "DE"},
				{Type: detente.IdentifierWallet, Value: "0x7F367cC41522cE07553e823bf3be79A889DEbe1B", Chain: "ETH"}}},
		{Authority: "un", EntityID: "QDe.002", Type: detente.EntityOrganization, Names: []detente.DesignationName{{Name: "Black Meridian Front", Kind: detente.NameKindPrimary}}},
		{Authority: "eu", EntityID: "E1", Type: detente.EntityOrganization, Names: []detente.DesignationName{{Name: "Meridian Front (armed wing)", Kind: detente.NameKindPrimary}}},
	}
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		for _, d := range ds {
			if err := tx.PutDesignation(ctx, d); err != nil {
				return err
			}
		}
		delisted := *ds[1]
		delisted.DelistedOn = "2026-02-01"
		return tx.PutDesignation(ctx, &delisted)
	})
	ctx := context.Background()
	wantCode(t, s.Update(ctx, func(tx detente.Tx) error { return tx.PutDesignation(ctx, &detente.Designation{Authority: "un"}) }), detente.EINVALID)
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		un, err := tx.Designations(ctx, "un", false)
		if err != nil || len(un) != 1 || un[0].EntityID != "QDi.001" || un[0].Names[0].Name != "Сергей Лавров" || un[0].DatesOfBirth[0] != "1950-03-21" ||
			!slices.Equal(un[0].Identifiers, ds[0].Identifiers) {
			t.Errorf("active UN designations = %+v, %v", un, err)
		}
		all, err := tx.Designations(ctx, "", true)
		if err != nil || len(all) != 3 || all[0].Authority != "eu" {
			t.Errorf("all designations = %d, %v", len(all), err)
		}
		for _, d := range all {
			if d.EntityID == "QDe.002" && d.DelistedOn != "2026-02-01" {
				t.Errorf("delisting not kept: %+v", d)
			}
		}
		return nil
	})
}

func testDocs(t *testing.T, s detente.Store) {
	ctx := context.Background()
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		return errors.Join(
			tx.PutDoc(ctx, "channel", "c/1", []byte(`{"a":1}`), true),
			tx.PutDoc(ctx, "channel", "c/2", []byte(`{"a":2}`), false),
			tx.PutDoc(ctx, "channel", "c%_3", []byte(`{"a":3}`), false),
			tx.PutDoc(ctx, "message", "c/1", []byte(`{"m":1}`), true),
		)
	})
	wantCode(t, s.Update(ctx, func(tx detente.Tx) error { return tx.PutDoc(ctx, "channel", "c/1", []byte(`{}`), true) }), detente.EEXISTS)
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		return tx.PutDoc(ctx, "channel", "c/2", []byte(`{"a":22}`), false)
	})
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		b, err := tx.Doc(ctx, "channel", "c/1")
		if err != nil || string(b) != `{"a":1}` {
			t.Errorf("Doc = %s, %v (insert-if-absent must not replace)", b, err)
		}
		_, err = tx.Doc(ctx, "channel", "c/9")
		wantCode(t, err, detente.ENOTFOUND)
		ds, err := tx.Docs(ctx, "channel", "c/", 0)
		if err != nil || len(ds) != 2 || ds[0].ID != "c/1" || string(ds[1].Body) != `{"a":22}` {
			t.Errorf("Docs(c/) = %+v, %v", ds, err)
		}
		ds, _ = tx.Docs(ctx, "channel", "c%", 0)
		if len(ds) != 1 || ds[0].ID != "c%_3" {
			t.Errorf("Docs(c%%) = %+v: the prefix must be literal", ds)
		}
		ds, _ = tx.Docs(ctx, "channel", "", 1)
		if len(ds) != 1 {
			t.Errorf("limit not honoured: %d", len(ds))
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx detente.Tx) error {
		return errors.Join(tx.DeleteDoc(ctx, "channel", "c/1"), tx.DeleteDoc(ctx, "channel", "missing"))
	})
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		_, err := tx.Doc(ctx, "channel", "c/1")
		wantCode(t, err, detente.ENOTFOUND)
		return nil
	})
	// CreateDocs: created once, never replacing; a repeat within one call
	// is created by its first occurrence; more ids than one statement of
	// a driver may carry.
	ids := []string{"c/2", "n/1", "n/2", "n/1", "c/1"}
	for i := range 1200 {
		ids = append(ids, fmt.Sprintf("bulk/%04d", i))
	}
	ids = append(ids, "bulk/0000")
	var created []bool
	update(t, s, func(ctx context.Context, tx detente.Tx) (err error) {
		created, err = tx.CreateDocs(ctx, "channel", ids)
		return
	})
	want := []bool{false, true, true, false, true}
	for range 1200 {
		want = append(want, true)
	}
	want = append(want, false)
	if !slices.Equal(created, want) {
		t.Errorf("CreateDocs = %d answers %v…, want %d %v…", len(created), created[:min(6, len(created))], len(want), want[:6])
	}
	update(t, s, func(ctx context.Context, tx detente.Tx) (err error) {
		created, err = tx.CreateDocs(ctx, "channel", []string{"n/2", "n/3"})
		return
	})
	if !slices.Equal(created, []bool{false, true}) {
		t.Errorf("CreateDocs again = %v, want [false true]", created)
	}
	view(t, s, func(ctx context.Context, tx detente.Tx) error {
		b, err := tx.Doc(ctx, "channel", "c/2")
		if err != nil || string(b) != `{"a":22}` {
			t.Errorf("Doc(c/2) after CreateDocs = %s, %v: an existing document must stay", b, err)
		}
		ds, err := tx.Docs(ctx, "channel", "bulk/", 0)
		if err != nil || len(ds) != 1200 {
			t.Errorf("Docs(bulk/) = %d, %v, want 1200", len(ds), err)
		}
		return nil
	})
}

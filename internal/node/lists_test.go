package node_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"detente"
	"detente/internal/node"
	"detente/internal/screening"
)

// issue returns the designations with ids first..last of a fictitious
// authority's list.
func issue(first, last int) []detente.Designation {
	var ds []detente.Designation
	for i := first; i <= last; i++ {
		ds = append(ds, detente.Designation{EntityID: fmt.Sprintf("P-%02d", i), Type: detente.EntityPerson,
			Names: []detente.DesignationName{{Name: fmt.Sprintf("Person Number %d", i), Kind: detente.NameKindPrimary}}, ListedOn: "2025-01-10"})
	}
	return ds
}

// designations counts the active and delisted designations of authority.
func designations(t *testing.T, n *node.Node, authority string) (active, delisted int) {
	t.Helper()
	ls, err := n.Screening.Lists(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.Authority == authority {
			return l.Active, l.Delisted
		}
	}
	return 0, 0
}

func TestLoadListMassDelisting(t *testing.T) {
	ctx := context.Background()
	n := newNode(t, "alpha")
	// The first issue of an authority delists nothing, whatever its size.
	if _, err := n.Screening.LoadList(ctx, "bravo", issue(1, 10), screening.ListLoadOptions{}); err != nil {
		t.Fatalf("first load: %v", err)
	}
	_, events := count(t, n)

	// 3 of 10 (30 %) is refused, and changes nothing.
	_, err := n.Screening.LoadList(ctx, "bravo", issue(1, 7), screening.ListLoadOptions{})
	if detente.ErrorCode(err) != detente.ECONFLICT || !strings.Contains(detente.ErrorMessage(err), "would delist 3 of its 10 active entries (30.0 %)") ||
		!strings.Contains(detente.ErrorMessage(err), "--allow-mass-delisting") {
		t.Fatalf("30 %% delisting: %v", err)
	}
	if _, after := count(t, n); after != events {
		t.Errorf("the refusal logged %d events", after-events)
	}
	if a, d := designations(t, n, "bravo"); a != 10 || d != 0 {
		t.Errorf("after the refusal: %d active, %d delisted; want 10 and 0", a, d)
	}

	// Entries that gain a delisting date count too; additions do not
	// offset delistings.
	gone := issue(1, 13)
	for i := range 3 {
		gone[i].DelistedOn = "2026-01-01"
	}
	if _, err := n.Screening.LoadList(ctx, "bravo", gone, screening.ListLoadOptions{}); detente.ErrorCode(err) != detente.ECONFLICT {
		t.Errorf("3 of 10 newly delisted: %v", err)
	}

	// 2 of 10 (20 %) is not more than 20 %.
	res, err := n.Screening.LoadList(ctx, "bravo", issue(1, 8), screening.ListLoadOptions{})
	if err != nil || res.Removed != 2 {
		t.Fatalf("20 %% delisting: %+v, %v", res, err)
	}
	// 3 of 8 with the option.
	res, err = n.Screening.LoadList(ctx, "bravo", issue(1, 5), screening.ListLoadOptions{AllowMassDelisting: true})
	if err != nil || res.Removed != 3 {
		t.Fatalf("allowed mass delisting: %+v, %v", res, err)
	}
	if a, d := designations(t, n, "bravo"); a != 5 || d != 5 {
		t.Errorf("%d active, %d delisted; want 5 and 5", a, d)
	}
	// Another authority's load is judged against its own entries only.
	if _, err := n.Screening.LoadList(ctx, "charlie", issue(1, 1), screening.ListLoadOptions{}); err != nil {
		t.Errorf("first load of another authority: %v", err)
	}
}

func TestLoadListRefusesInvalidDesignations(t *testing.T) {
	ctx := context.Background()
	n := newNode(t, "alpha")
	tests := []struct {
		name string
		edit func(ds []detente.Designation)
		want string
	}{
		{"invalid date of birth", func(ds []detente.Designation) { ds[1].DatesOfBirth = []string{"2099-13-45"} }, "designation 2 (P-02): date of birth \"2099-13-45\" is not a valid date"},
		{"5 MB name", func(ds []detente.Designation) { ds[0].Names[0].Name = strings.Repeat("A", 5<<20) }, "name 1 is 5242880 bytes, over the 1000-byte limit"},
		{"no entity id", func(ds []detente.Designation) { ds[2].EntityID = "" }, "no entity id"},
		{"no name", func(ds []detente.Designation) { ds[2].Names = nil }, "no name"},
		{"twice the same id", func(ds []detente.Designation) { ds[2].EntityID = "P-01" }, "entity id P-01 appears twice"},
	}
	_, events := count(t, n)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := issue(1, 3)
			tt.edit(ds)
			_, err := n.Screening.LoadList(ctx, "bravo", ds, screening.ListLoadOptions{})
			if detente.ErrorCode(err) != detente.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if _, after := count(t, n); after != events {
		t.Errorf("refused loads logged %d events", after-events)
	}
	if a, _ := designations(t, n, "bravo"); a != 0 {
		t.Errorf("refused loads stored %d designations", a)
	}
}

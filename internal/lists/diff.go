package lists

import (
	"slices"
	"sort"

	"detente"
)

// Diff compares two issues of one authority's list, matched by entity id,
// and returns the entries added, removed (or newly delisted) and changed, in
// the order of the new issue then the removals. A change lists the fields
// that differ.
func Diff(old, next []detente.Designation) []detente.DesignationDiff {
	oldBy := make(map[string]*detente.Designation, len(old))
	for i := range old {
		oldBy[old[i].Key()] = &old[i]
	}
	var out []detente.DesignationDiff
	seen := make(map[string]bool, len(next))
	for i := range next {
		n := &next[i]
		seen[n.Key()] = true
		o, ok := oldBy[n.Key()]
		switch {
		case !ok:
			out = append(out, detente.DesignationDiff{Change: detente.DiffAdded, Authority: n.Authority, EntityID: n.EntityID, Name: n.PrimaryName(), New: n})
		case n.DelistedOn != "" && o.DelistedOn == "":
			out = append(out, detente.DesignationDiff{Change: detente.DiffRemoved, Authority: n.Authority, EntityID: n.EntityID, Name: n.PrimaryName(), Fields: []string{"delisted_on"}, Old: o, New: n})
		default:
			if f := changedFields(o, n); len(f) > 0 {
				out = append(out, detente.DesignationDiff{Change: detente.DiffChanged, Authority: n.Authority, EntityID: n.EntityID, Name: n.PrimaryName(), Fields: f, Old: o, New: n})
			}
		}
	}
	var removed []detente.DesignationDiff
	for i := range old {
		o := &old[i]
		if !seen[o.Key()] {
			removed = append(removed, detente.DesignationDiff{Change: detente.DiffRemoved, Authority: o.Authority, EntityID: o.EntityID, Name: o.PrimaryName(), Old: o})
		}
	}
	sort.SliceStable(removed, func(i, j int) bool { return removed[i].EntityID < removed[j].EntityID })
	return append(out, removed...)
}

// changedFields names the fields of a designation that differ between o and n.
func changedFields(o, n *detente.Designation) []string {
	var f []string
	add := func(name string, changed bool) {
		if changed {
			f = append(f, name)
		}
	}
	add("type", o.Type != n.Type)
	add("names", !slices.Equal(o.Names, n.Names))
	add("dates_of_birth", !slices.Equal(o.DatesOfBirth, n.DatesOfBirth))
	add("nationalities", !slices.Equal(o.Nationalities, n.Nationalities))
	add("regime", o.Regime != n.Regime)
	add("programs", !slices.Equal(o.Programs, n.Programs))
	add("listed_on", o.ListedOn != n.ListedOn)
	add("delisted_on", o.DelistedOn != n.DelistedOn)
	add("remarks", o.Remarks != n.Remarks)
	add("identifiers", !slices.Equal(o.Identifiers, n.Identifiers))
	return f
}

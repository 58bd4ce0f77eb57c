package node

import "detente"

// corroborationNotes collects the versions one transaction stored, with
// their top-level properties, for the corroboration index.
type corroborationNotes struct {
	vs     []*detente.ObjectVersion
	fields []map[string]any
}

func (c *corroborationNotes) reset() { c.vs, c.fields = c.vs[:0], c.fields[:0] }

func (c *corroborationNotes) add(v *detente.ObjectVersion, fields map[string]any) {
	c.vs = append(c.vs, v)
	c.fields = append(c.fields, fields)
}

// noteStored hands the corroboration index what a committed transaction
// stored, quarantined versions included (the index counts them as seen):
// the one hook every path that stores objects (ingest, receive, and so
// sync and feeds) calls after its commit.
func (n *Node) noteStored(c corroborationNotes) {
	if len(c.vs) > 0 {
		n.Corroboration.Note(c.vs, c.fields)
	}
}

package node

import "detente/internal/view"

// ViewConfig is what the node's TAXII views need of it, for tests that
// change one part.
func (n *Node) ViewConfig() view.Config { return n.viewConfig() }

package peer

// The TAXII 2.1 collections a node serves its partners (docs/taxii.md).
// Partners pull and push over TAXII itself, at <URL>/taxii2/api/; these
// ids are the part of that exchange the protocol fixes.
const (
	// CollectionShared is, for a partner, what the egress policy releases
	// to that partner: what its sync pulls.
	CollectionShared = "5f0c2e61-7c1a-4b8e-9d3f-1a2b3c4d5e01"
	// CollectionInbound is where a partner pushes objects; the ingress
	// policy checks each.
	CollectionInbound = "5f0c2e61-7c1a-4b8e-9d3f-1a2b3c4d5e02"
)

// Package taxii implements the TAXII 2.1 protocol (OASIS Standard, 10 June
// 2021): an http.Handler that serves one discovery resource and one API root,
// and a Client that speaks to any TAXII 2.1 server.
//
// The package owns the protocol only: routing, content negotiation, query
// parameters, pagination, headers, error messages, envelopes and status
// resources. It knows nothing of storage or of the egress policy. The node
// supplies per-caller views of its collections through the Source interface,
// already filtered by policy, and authenticates requests itself before
// handing them on with WithCaller.
//
// Pagination is by an opaque, stable cursor: each page's "next" value seals
// (AES-256-GCM, bound to the caller) the arrival position (Record.Seq) of
// the last record served and a fingerprint of the query's filters, so it
// reveals nothing of what the caller does not see. Following "next" through a collection
// that grows during the walk neither skips nor repeats a record, and
// "added_after" is strictly exclusive. docs/taxii.md describes the endpoints
// and semantics for operators and client authors.
package taxii

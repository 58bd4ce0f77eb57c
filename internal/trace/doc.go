// Package trace attributes leaks: every recipient's copy of a
// fingerprinted object names its holder, a leaked copy — even merged from
// several partners' copies, stripped, re-serialised or pasted as text —
// is traced to the recipients it came from, with a bound on the
// probability of accusing an innocent, and the node can hand a partner
// evidence that it checks offline. docs/trace.md is the reference; this
// comment is the map.
//
// # Channels
//
// The originator marks the object it ingests (markup.go): interchangeable
// wordings [[first|second|…]] in any string property, and canary facts
// {{canary:subdomain:…}}, {{canary:time:…~tol}}, {{canary:number:…~tol}}
// (canary.go), never in the properties that identify the object or its
// detection semantics. The local copy keeps the markup; Template.Strip is
// its display form. Each recipient's copy has one wording per position and
// its own canary values, chosen by the code; markup and escapes are gone.
// Both channels live in the text, so they survive projection, any JSON
// serialisation, the removal of detente's extensions and signatures, and
// copying the text out of the JSON; a paraphrase keeps only the canary
// facts it repeats exactly.
//
// # Code
//
// A symmetric Tardos code (code.go) over positions numbered across all the
// node's releases: the keyed PRF (HMAC-SHA256 under the node secret) maps
// (object id, version, mark number) to a global position, the position to
// its bias, and (position, recipient) to the recipient's symbol (prf.go),
// so scores add up over several leaked documents and nothing but the key
// and the recipient's identity is needed to regenerate a codeword. Design
// gives Laarhoven and de Weger's parameters (cutoff, length, threshold) for
// coalitions of c.
//
// # Use
//
// At ingest, Parse checks the markup (refusing what cannot be used, with
// the property and offset). At each release, Scheme.Fingerprint returns
// the recipient's variant (sign and send it), a Record (keep it to trace
// leaks), the Opening (keep it secret, for evidence) and the Commitment
// (write it in the release's log event, under EventField). To trace,
// Scheme.Trace reads leaked documents against Candidates — each released
// object version's Template and Records — and returns every recipient's
// Score and the Suspects, those whose false-accusation bound is at most
// Scheme.Epsilon. Result.Evidence packages the result for some recipients
// with their openings and a translog selection export of their release
// events; VerifyEvidence checks it offline against the node's key.
//
// The package is pure: no I/O, no clock, no global state. A Scheme and a
// Template are safe for concurrent use.
package trace

// Package feed pulls intelligence into a detente node from a source inside
// the agency's own walls: any TAXII 2.1 collection (an OASIS server, OpenCTI,
// MISP's TAXII server, another product) or a MISP JSON feed (manifest.json
// and one file per event, as MISP instances publish them).
//
// A Puller walks one feed page by page from the Cursor its Sink holds and
// hands each page, with the cursor that follows it, to Sink.Store, which
// stores both in one transaction: a node killed at any point resumes where
// the last stored page left it, and nothing is lost or stored twice. The
// next page is fetched and prepared while the previous one is being stored.
//
// Every object is prepared by the feed's Rules before it reaches the Sink:
// an object without a TLP marking gets the feed's default TLP (AMBER unless
// configured), the Admiralty grading comes from the object, its MISP
// admiralty-scale tags or the feed's configuration, and the originator is
// the object's creator identity or the feed itself, unless the feed is the
// agency's own platform (Config.Originate), in which case the node signs the
// object and originates it. MISP events are converted to STIX 2.1 as MISP's
// own converter (misp-stix) maps them, with deterministic ids, so a re-pull
// is idempotent.
//
// The package knows nothing of storage, partners or policy: the node wires
// a Sink over its store. docs/feeds.md describes feeds for operators.
package feed

package web

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"detente"
)

// Relationships as people read them, and the neighbourhood of an object
// drawn as a graph on the server.

// relationFields are the parts of a STIX relationship the console shows.
type relationFields struct {
	Type   string `json:"relationship_type"`
	Source string `json:"source_ref"`
	Target string `json:"target_ref"`
}

// verbs are relationship types that do not read as a verb once their
// hyphens become spaces ("attributed to" → "is attributed to"). Other
// types read as they are: "uses", "targets", "communicates with".
var verbs = map[string]string{
	"attributed-to": "is attributed to", "related-to": "is related to", "variant-of": "is a variant of",
	"located-at": "is located at", "derived-from": "is derived from", "duplicate-of": "is a duplicate of",
	"based-on": "is based on", "authored-by": "is authored by", "analysis-of": "is an analysis of",
	"static-analysis-of": "is a static analysis of", "dynamic-analysis-of": "is a dynamic analysis of",
	"characterizes": "characterises", "impersonates": "impersonates", "member-of": "is a member of",
}

// verb returns a relationship type as a verb phrase.
func verb(relType string) string {
	if v, ok := verbs[relType]; ok {
		return v
	}
	return strings.ReplaceAll(relType, "-", " ")
}

// sentence is a relationship as a sentence: "Black Meridian Front uses
// BMF donation wallet", each end by its name (its id when the node does
// not hold it or it has none).
type sentence struct {
	Source, Target objRef
	Verb           string
}

// String returns the sentence as text.
func (s sentence) String() string {
	return cmp.Or(s.Source.Name, s.Source.ID) + " " + s.Verb + " " + cmp.Or(s.Target.Name, s.Target.ID)
}

// relationSentence returns the sentence of relationship o, naming its ends
// from names (NormalID → name of the objects held, "" for one without a
// name); ok is false for an object that is not a relationship.
func relationSentence(o *detente.ObjectVersion, names map[string]string) (sentence, bool) {
	if o.Type != "relationship" {
		return sentence{}, false
	}
	f := fieldsOf(o.Raw).relationFields
	if f.Source == "" || f.Target == "" {
		return sentence{}, false
	}
	end := func(id string) objRef {
		name, held := names[detente.NormalID(id)]
		return objRef{ID: id, Name: name, Link: held}
	}
	return sentence{Source: end(f.Source), Target: end(f.Target), Verb: verb(cmp.Or(f.Type, "related-to"))}, true
}

// relationEnds returns the ids the relationships among os relate.
func relationEnds(os []*detente.ObjectVersion) []string {
	var ids []string
	for _, o := range os {
		if o.Type == "relationship" {
			f := fieldsOf(o.Raw).relationFields
			ids = append(ids, f.Source, f.Target)
		}
	}
	return ids
}

// graphNode is one object in the neighbourhood graph.
type graphNode struct {
	ID     string
	Label  string
	Type   string
	Held   bool
	Center bool
	X, Y   float64
	LX, LY float64 // the label
	Anchor string
}

// graphEdge is one arrow of the neighbourhood graph, from the object that
// refers (or the relationship's source) to the other.
type graphEdge struct {
	X1, Y1, X2, Y2 float64
	Label          string
	LX, LY         float64
}

// neighbourhood is an object and its neighbours one hop away, laid out
// around it: what it references, what references it, and across each
// relationship that names it, the object at its other end.
type neighbourhood struct {
	Width, Height int
	Nodes         []graphNode
	Edges         []graphEdge
	More          int // neighbours left out
}

// neighbour is an object next to the centre, with the links between them.
type neighbour struct {
	id       string
	out, in  []string // labels of the arrows from the centre to it, and from it to the centre
	relation bool
}

// Layout of the graph, in SVG user units.
const (
	graphW, graphH  = 760, 460
	graphR          = 175 // the neighbours' circle
	graphNodeR      = 9
	graphNeighbours = 14
)

// drawNeighbourhood lays out o's neighbourhood: refs are the objects o
// references, referrers the current versions referencing it, names the
// names of the objects held (id → name; "" for one without a name).
func drawNeighbourhood(o *detente.ObjectVersion, referrers []*detente.ObjectVersion, names map[string]string) *neighbourhood {
	var ns []*neighbour
	index := map[string]*neighbour{}
	get := func(id string) *neighbour {
		id = detente.NormalID(id)
		if n := index[id]; n != nil {
			return n
		}
		n := &neighbour{id: id}
		index[id] = n
		ns = append(ns, n)
		return n
	}
	self := detente.NormalID(o.ID)
	for _, r := range o.Refs {
		if detente.NormalID(r.ID) != self {
			n := get(r.ID)
			n.out = appendNew(n.out, refLabel(r.Path))
		}
	}
	for _, x := range referrers {
		if detente.NormalID(x.ID) == self {
			continue
		}
		if x.Type == "relationship" {
			// Across the relationship: its other end, by its verb.
			f := fieldsOf(x.Raw).relationFields
			label := verb(cmp.Or(f.Type, "related-to"))
			switch self {
			case detente.NormalID(f.Source):
				if detente.NormalID(f.Target) != self {
					n := get(f.Target)
					n.out, n.relation = appendNew(n.out, label), true
				}
				continue
			case detente.NormalID(f.Target):
				n := get(f.Source)
				n.in, n.relation = appendNew(n.in, label), true
				continue
			}
		}
		n := get(x.ID)
		for _, r := range x.Refs {
			if detente.NormalID(r.ID) == self {
				n.in = appendNew(n.in, refLabel(r.Path))
			}
		}
	}
	if len(ns) == 0 {
		return nil
	}
	g := &neighbourhood{Width: graphW, Height: graphH}
	if len(ns) > graphNeighbours {
		// Relationships first: they say most about the object.
		slices.SortStableFunc(ns, func(a, b *neighbour) int {
			switch {
			case a.relation == b.relation:
				return 0
			case a.relation:
				return -1
			}
			return 1
		})
		g.More = len(ns) - graphNeighbours
		ns = ns[:graphNeighbours]
	}
	cx, cy := float64(graphW)/2, float64(graphH)/2
	g.Nodes = append(g.Nodes, placeNode(o.ID, o.Type, names, cx, cy, -math.Pi/2, true))
	for i, n := range ns {
		θ := -math.Pi/2 + 2*math.Pi*float64(i)/float64(len(ns))
		x, y := cx+graphR*math.Cos(θ), cy+graphR*math.Sin(θ)*0.82
		typ, _, _ := strings.Cut(n.id, "--")
		g.Nodes = append(g.Nodes, placeNode(n.id, typ, names, x, y, θ, false))
		if len(n.out) > 0 {
			g.Edges = append(g.Edges, edge(cx, cy, x, y, strings.Join(n.out, ", ")))
		}
		if len(n.in) > 0 {
			g.Edges = append(g.Edges, edge(x, y, cx, cy, strings.Join(n.in, ", ")))
		}
	}
	return g
}

func appendNew(xs []string, x string) []string {
	if slices.Contains(xs, x) {
		return xs
	}
	return append(xs, x)
}

// refLabel names a reference by its property: "object_refs" → "object",
// "created_by_ref" → "created by".
func refLabel(path string) string {
	p := path
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		p = p[i+1:]
	}
	p = strings.TrimSuffix(strings.TrimSuffix(p, "_refs"), "_ref")
	return strings.ReplaceAll(p, "_", " ")
}

// placeNode places an object of the graph at (x, y), its label outside the
// circle at angle θ (under the centre for the centre).
func placeNode(id, typ string, names map[string]string, x, y, θ float64, center bool) graphNode {
	name, held := names[detente.NormalID(id)]
	label := cmp.Or(name, id)
	if !held {
		label = id + " (not held)"
	}
	n := graphNode{ID: id, Label: shorten(34, label), Type: typ, Held: held, Center: center, X: round1(x), Y: round1(y)}
	switch c := math.Cos(θ); {
	case center:
		n.LX, n.LY, n.Anchor = n.X, n.Y+30, "middle"
	case c > 0.35:
		n.LX, n.LY, n.Anchor = n.X+14, n.Y+4, "start"
	case c < -0.35:
		n.LX, n.LY, n.Anchor = n.X-14, n.Y+4, "end"
	case math.Sin(θ) < 0:
		n.LX, n.LY, n.Anchor = n.X, n.Y-16, "middle"
	default:
		n.LX, n.LY, n.Anchor = n.X, n.Y+24, "middle"
	}
	return n
}

// edge returns the arrow from (x1, y1) to (x2, y2), stopping at the
// circles of both ends, its label at a third of the way from its head
// (arrows both ways between two objects then keep their labels apart).
func edge(x1, y1, x2, y2 float64, label string) graphEdge {
	dx, dy := x2-x1, y2-y1
	d := math.Hypot(dx, dy)
	ux, uy := dx/d, dy/d
	e := graphEdge{X1: round1(x1 + ux*(graphNodeR+4)), Y1: round1(y1 + uy*(graphNodeR+4)),
		X2: round1(x2 - ux*(graphNodeR+6)), Y2: round1(y2 - uy*(graphNodeR+6)), Label: shorten(30, label)}
	e.LX, e.LY = round1(x1+dx*0.62-uy*8), round1(y1+dy*0.62+ux*8)
	return e
}

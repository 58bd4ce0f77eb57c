//go:build ignore

// gen_world writes world110m.bin, the coastlines and land borders that
// the deconfliction map draws under the notices (noticemap.go).
//
// The shapes are Natural Earth's 1:110m Admin 0 countries and land
// (public domain, https://www.naturalearthdata.com/about/terms-of-use/),
// as the npm package world-atlas 2.0.2 ships them in TopoJSON
// (countries-110m.json; packaging by Michael Bostock, ISC licence). npm
// fetches the package at generation time only, checked against the
// integrity hash pinned below; neither the build nor the tests need npm
// or the network.
//
// From the topology it keeps two sets of arcs: those bounding the land
// (coastlines) and those shared by two countries (land borders; an arc on
// one country's edge only is coast). Segments along the antimeridian and
// the bottom of the map (where Natural Earth cuts polygons, not coasts)
// are left out.
//
// Format (little-endian):
//
//	"WLD1" | n uint32 | n × polyline
//	polyline: kind uint8 (1 coastline, 2 border) | m uint16 | m × {lon int16, lat int16}
//
// with longitude and latitude in hundredths of a degree (1.1 km at most:
// finer than the 1:110m shapes).
//
// Run with `go generate ./internal/web/` (needs npm).
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
)

const (
	pkg = "world-atlas@2.0.2"
	// integrity is the package's dist.integrity on the npm registry.
	integrity = "sha512-IXfV0qwlKXpckz1FhwXVwKRjiIhOnWttOskm5CtxMsjgE/MXAYRHWJqgXOpM8IkcPBoXnyTU5lFHcYa5ChG0LQ=="
	member    = "package/countries-110m.json"
	out       = "world110m.bin"
)

// topology is the part of a TopoJSON topology read here.
type topology struct {
	Arcs      [][][2]float64 `json:"arcs"`
	Transform *struct {
		Scale     [2]float64 `json:"scale"`
		Translate [2]float64 `json:"translate"`
	} `json:"transform"`
	Objects map[string]struct {
		Geometries []geometry `json:"geometries"`
	} `json:"objects"`
}

// geometry is a Polygon (arcs: rings of arc indexes) or a MultiPolygon
// (arcs: polygons of rings).
type geometry struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Arcs json.RawMessage `json:"arcs"`
}

// arcIndexes returns every arc index g uses, as stored (~i is arc i
// reversed).
func (g geometry) arcIndexes() []int {
	var out []int
	switch g.Type {
	case "Polygon":
		var rings [][]int
		must(json.Unmarshal(g.Arcs, &rings))
		for _, r := range rings {
			out = append(out, r...)
		}
	case "MultiPolygon":
		var polys [][][]int
		must(json.Unmarshal(g.Arcs, &polys))
		for _, p := range polys {
			for _, r := range p {
				out = append(out, r...)
			}
		}
	}
	return out
}

func main() {
	data := fetch()
	var t topology
	must(json.Unmarshal(data, &t))
	if t.Transform == nil {
		log.Fatal("the topology is not quantized: unexpected")
	}
	// Decode the arcs: delta-encoded quantized positions.
	arcs := make([][][2]float64, len(t.Arcs))
	for i, a := range t.Arcs {
		var x, y float64
		for _, d := range a {
			x, y = x+d[0], y+d[1]
			arcs[i] = append(arcs[i], [2]float64{x*t.Transform.Scale[0] + t.Transform.Translate[0], y*t.Transform.Scale[1] + t.Transform.Translate[1]})
		}
	}
	index := func(i int) int {
		if i < 0 {
			return ^i
		}
		return i
	}
	coast := map[int]bool{}
	for _, g := range t.Objects["land"].Geometries {
		for _, i := range g.arcIndexes() {
			coast[index(i)] = true
		}
	}
	owners := map[int]map[string]bool{}
	for n, g := range t.Objects["countries"].Geometries {
		id := g.ID + "/" + fmt.Sprint(n) // some countries have no id
		for _, i := range g.arcIndexes() {
			if owners[index(i)] == nil {
				owners[index(i)] = map[string]bool{}
			}
			owners[index(i)][id] = true
		}
	}
	var b bytes.Buffer
	b.WriteString("WLD1")
	var lines [][]byte
	points := 0
	for i, a := range arcs {
		kind := byte(0)
		switch {
		case coast[i]:
			kind = 1
		case len(owners[i]) >= 2:
			kind = 2
		default:
			continue
		}
		for _, run := range split(a) {
			var l bytes.Buffer
			l.WriteByte(kind)
			binary.Write(&l, binary.LittleEndian, uint16(len(run)))
			for _, p := range run {
				binary.Write(&l, binary.LittleEndian, [2]int16{int16(math.Round(p[0] * 100)), int16(math.Round(p[1] * 100))})
			}
			lines = append(lines, l.Bytes())
			points += len(run)
		}
	}
	binary.Write(&b, binary.LittleEndian, uint32(len(lines)))
	for _, l := range lines {
		b.Write(l)
	}
	must(os.WriteFile(out, b.Bytes(), 0o644))
	log.Printf("wrote %s: %d polylines, %d points, %d bytes", out, len(lines), points, b.Len())
}

// split cuts an arc where it runs along the edge of the map (the
// antimeridian, the bottom edge under Antarctica): those are cuts of the
// data, not coasts or borders. It drops runs of fewer than two points and
// repeated points.
func split(a [][2]float64) [][][2]float64 {
	edge := func(p, q [2]float64) bool {
		return math.Abs(p[0]) > 179.99 && math.Abs(q[0]) > 179.99 && p[0]*q[0] > 0 || p[1] < -85 && q[1] < -85
	}
	var out [][][2]float64
	var run [][2]float64
	flush := func() {
		if len(run) >= 2 {
			out = append(out, run)
		}
		run = nil
	}
	for i, p := range a {
		q := [2]float64{math.Round(p[0]*100) / 100, math.Round(p[1]*100) / 100}
		if i > 0 && edge(a[i-1], p) {
			flush()
		}
		if len(run) > 0 && run[len(run)-1] == q {
			continue
		}
		run = append(run, q)
	}
	flush()
	return out
}

// fetch returns the countries topology from the npm package, checked
// against its pinned integrity hash.
func fetch() []byte {
	dir, err := os.MkdirTemp("", "gen_world")
	must(err)
	defer os.RemoveAll(dir)
	cmd := exec.Command("npm", "pack", pkg, "--pack-destination", dir)
	cmd.Stderr = os.Stderr
	name, err := cmd.Output()
	if err != nil {
		log.Fatalf("npm pack %s: %v", pkg, err)
	}
	tgz, err := os.ReadFile(filepath.Join(dir, string(bytes.TrimSpace(name))))
	must(err)
	sum := sha512.Sum512(tgz)
	if got := "sha512-" + base64.StdEncoding.EncodeToString(sum[:]); got != integrity {
		log.Fatalf("%s: integrity %s, want %s", pkg, got, integrity)
	}
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	must(err)
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			log.Fatalf("%s holds no %s", pkg, member)
		}
		must(err)
		if h.Name == member {
			b, err := io.ReadAll(tr)
			must(err)
			return b
		}
	}
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

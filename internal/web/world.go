package web

import (
	_ "embed"
	"encoding/binary"
	"fmt"
	"sync"
)

//go:generate go run gen_world.go

// world110m.bin holds Natural Earth's 1:110m coastlines and land borders
// (public domain), written by gen_world.go, which describes the format.
//
//go:embed world110m.bin
var world110m []byte

// Kinds of world lines.
const (
	lineCoast  = 1
	lineBorder = 2
)

// worldLine is one coastline or border as a polyline of [lon, lat]
// degrees, with its bounding box.
type worldLine struct {
	Kind                     byte
	Points                   [][2]float64
	West, East, South, North float64
}

// worldLines returns the decoded lines, decoding them on first use.
var worldLines = sync.OnceValue(func() []worldLine {
	ls, err := decodeWorld(world110m)
	if err != nil {
		panic("web: " + err.Error()) // the embedded file is generated: only a bad build gets here
	}
	return ls
})

// decodeWorld reads the format gen_world.go writes.
func decodeWorld(b []byte) ([]worldLine, error) {
	if len(b) < 8 || string(b[:4]) != "WLD1" {
		return nil, fmt.Errorf("world lines: not a WLD1 file")
	}
	n := binary.LittleEndian.Uint32(b[4:])
	b = b[8:]
	out := make([]worldLine, 0, n)
	for range n {
		if len(b) < 3 {
			return nil, fmt.Errorf("world lines: truncated")
		}
		l := worldLine{Kind: b[0], West: 180, East: -180, South: 90, North: -90}
		m := int(binary.LittleEndian.Uint16(b[1:]))
		b = b[3:]
		if len(b) < 4*m {
			return nil, fmt.Errorf("world lines: truncated")
		}
		for i := range m {
			lon := float64(int16(binary.LittleEndian.Uint16(b[4*i:]))) / 100
			lat := float64(int16(binary.LittleEndian.Uint16(b[4*i+2:]))) / 100
			l.Points = append(l.Points, [2]float64{lon, lat})
			l.West, l.East = min(l.West, lon), max(l.East, lon)
			l.South, l.North = min(l.South, lat), max(l.North, lat)
		}
		b = b[4*m:]
		out = append(out, l)
	}
	return out, nil
}

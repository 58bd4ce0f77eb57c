//go:build ignore

// gen_han writes han.bin, the Mandarin readings of the Han characters
// U+3400–U+9FFF that translit_han.go reads names with.
//
// The readings come from the pinyin-data table as shipped in the Go module
// github.com/mozillazg/go-pinyin (MIT licence; pinyin-data merges the
// Unicode Unihan kHanyuPinyin, kMandarin, kXHC1983 and kTGHZ2013 fields,
// under the Unicode licence). The module is read from the module cache with
// `go mod download`, checked against the checksum database like any module,
// so that the product does not depend on it at run time: the 42,000-entry
// map it builds at start-up costs every detente command 2–4 ms and 1.8 MB,
// while han.bin is 110 kB of read-only data.
//
// Format (little-endian):
//
//	"HAN1" | nsyl uint16 | syllables, space-separated, nsyl of them, then "\n"
//	primary [0x6C00]uint16   syllable index + 1 of the first reading, 0 for none
//	nextra uint16 | nextra × {offset uint16, second uint16, third uint16}
//
// offset is the code point minus 0x3400; second and third are syllable
// index + 1 of other readings (0 for none), sorted by offset.
//
// Run with `go generate ./internal/screen/`.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

const (
	module = "github.com/mozillazg/go-pinyin@v0.21.0"
	first  = 0x3400
	last   = 0x9FFF
)

func main() {
	out, err := exec.Command("go", "mod", "download", "-json", module).Output()
	if err != nil {
		log.Fatalf("go mod download %s: %v", module, err)
	}
	var info struct{ Dir string }
	if err := json.Unmarshal(out, &info); err != nil {
		log.Fatal(err)
	}
	f, err := os.Open(filepath.Join(info.Dir, "pinyin_dict.go"))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	readings := map[int][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "0x") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		cp, err := strconv.ParseInt(k[2:], 16, 32)
		if err != nil || cp < first || cp > last {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `",`)
		var rs []string
		for _, r := range strings.Split(v, ",") {
			r = toneless(r)
			if r != "" && !slices.Contains(rs, r) {
				rs = append(rs, r)
			}
		}
		if len(rs) > 3 {
			rs = rs[:3]
		}
		readings[int(cp)] = rs
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
	sylID := map[string]int{}
	var syls []string
	for cp := first; cp <= last; cp++ {
		for _, r := range readings[cp] {
			if _, ok := sylID[r]; !ok {
				sylID[r] = 0
				syls = append(syls, r)
			}
		}
	}
	slices.Sort(syls)
	for i, s := range syls {
		sylID[s] = i + 1
	}
	var b []byte
	b = append(b, "HAN1"...)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(syls)))
	b = append(b, strings.Join(syls, " ")+"\n"...)
	type extra struct{ off, second, third uint16 }
	var extras []extra
	for cp := first; cp <= last; cp++ {
		rs := readings[cp]
		var p uint16
		if len(rs) > 0 {
			p = uint16(sylID[rs[0]])
		}
		b = binary.LittleEndian.AppendUint16(b, p)
		if len(rs) > 1 {
			e := extra{off: uint16(cp - first), second: uint16(sylID[rs[1]])}
			if len(rs) > 2 {
				e.third = uint16(sylID[rs[2]])
			}
			extras = append(extras, e)
		}
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(extras)))
	for _, e := range extras {
		b = binary.LittleEndian.AppendUint16(b, e.off)
		b = binary.LittleEndian.AppendUint16(b, e.second)
		b = binary.LittleEndian.AppendUint16(b, e.third)
	}
	if err := os.WriteFile("han.bin", b, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("han.bin: %d syllables, %d characters with several readings, %d bytes\n", len(syls), len(extras), len(b))
}

// toneless strips tone marks and writes ü as u, as names are written in
// Latin letters.
func toneless(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.TrimSpace(s)) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

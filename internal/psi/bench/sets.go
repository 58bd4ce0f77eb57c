package psibench

import "fmt"

// Sets returns two sets of n identifiers sharing the first common, the same
// on every call, for every implementation compared.
func Sets(n, common int) (x, y [][]byte) {
	for i := range n {
		x = append(x, []byte(fmt.Sprintf("detente/psi/bench/%d", i)))
		j := i
		if i >= common {
			j = i + n
		}
		y = append(y, []byte(fmt.Sprintf("detente/psi/bench/%d", j)))
	}
	return x, y
}

// Size and Common are the benchmark's set size and overlap.
const (
	Size   = 65536
	Common = 20000
)

package detente_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pkg is what `go list -json` says of one package.
type pkg struct {
	Dir        string
	ImportPath string
	Doc        string
	Imports    []string
	GoFiles    []string
}

// listPackages returns every package of the module.
func listPackages(t *testing.T) map[string]*pkg {
	t.Helper()
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = &p
	}
	return pkgs
}

// TestPackageDocs: every package says what it is for.
func TestPackageDocs(t *testing.T) {
	for _, p := range listPackages(t) {
		if len(p.GoFiles) > 0 && strings.TrimSpace(p.Doc) == "" {
			t.Errorf("package %s has no doc comment", p.ImportPath)
		}
	}
}

// Size limits of docs/architecture.md: a file a reader can hold in mind,
// and a composition root that wires capabilities rather than holding them.
const (
	maxFileLines = 900
	maxNodeLines = 2500
)

// TestPackageSizes: no non-test file under internal/ is over maxFileLines
// lines, and internal/node is under maxNodeLines in all.
func TestPackageSizes(t *testing.T) {
	for _, p := range listPackages(t) {
		if !strings.HasPrefix(p.ImportPath, "detente/internal/") {
			continue
		}
		total := 0
		for _, f := range p.GoFiles {
			b, err := os.ReadFile(filepath.Join(p.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			n := bytes.Count(b, []byte("\n"))
			total += n
			if n > maxFileLines {
				t.Errorf("%s/%s has %d lines, over %d: split it by what its parts do", p.ImportPath, f, n, maxFileLines)
			}
		}
		if p.ImportPath == "detente/internal/node" && total >= maxNodeLines {
			t.Errorf("internal/node has %d lines, not under %d: a capability belongs in a package of its own", total, maxNodeLines)
		}
	}
}

// TestDependencyRules holds the architecture's import rules
// (docs/architecture.md): the domain imports nothing of the project; only
// the wiring chooses a storage driver; capabilities never import the
// composition root; faces do not import each other.
func TestDependencyRules(t *testing.T) {
	pkgs := listPackages(t)
	const mod = "detente"
	imports := func(from, to string) bool { return slices.Contains(pkgs[from].Imports, to) }
	for path, p := range pkgs {
		for _, imp := range p.Imports {
			if path == mod && strings.HasPrefix(imp, mod+"/") {
				t.Errorf("the root package imports %s: it must import nothing of the project", imp)
			}
			driver := imp == mod+"/internal/sqlite" || imp == mod+"/internal/postgres"
			wiring := path == mod+"/cmd/detente" || strings.HasSuffix(path, "test") // internal/nodetest, storetest, …
			if driver && !wiring {
				t.Errorf("%s imports the storage driver %s: only the wiring (cmd/detente) and tests choose a store", path, imp)
			}
		}
	}
	// Capabilities get the store and the log from the node; they never
	// reach back into it, nor into the faces.
	for _, capability := range []string{"hotline", "matching", "federation", "screening", "ledger", "corroboration", "trace", "leak", "view", "feed", "peer", "taxii", "policy", "stix", "translog", "psi", "screen", "lists"} {
		path := mod + "/internal/" + capability
		if pkgs[path] == nil {
			continue
		}
		for _, up := range []string{"node", "api", "web", "server", "demo"} {
			if imports(path, mod+"/internal/"+up) {
				t.Errorf("%s imports internal/%s", path, up)
			}
		}
	}
	for _, face := range [][2]string{{"web", "api"}, {"api", "web"}, {"node", "api"}, {"node", "web"}, {"node", "server"}} {
		if imports(mod+"/internal/"+face[0], mod+"/internal/"+face[1]) {
			t.Errorf("internal/%s imports internal/%s", face[0], face[1])
		}
	}
}

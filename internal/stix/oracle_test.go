package stix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"detente"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// stix2Dir returns the OASIS schemas and examples directory: $DETENTE_SHARED/stix2,
// else ../../../shared/stix2. It skips the test when absent, and fails it
// when CI=true.
func stix2Dir(t *testing.T) string {
	t.Helper()
	shared := os.Getenv("DETENTE_SHARED")
	if shared == "" {
		shared = filepath.Join("..", "..", "..", "shared")
	}
	dir := filepath.Join(shared, "stix2")
	if _, err := os.Stat(filepath.Join(dir, "schemas")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("OASIS STIX 2.1 schemas not found at %s (CI=true): %v", dir, err)
		}
		t.Skipf("OASIS STIX 2.1 schemas not found at %s; set DETENTE_SHARED to run the oracle tests", dir)
	}
	return dir
}

// knownInvalidExamples lists OASIS examples that break the STIX 2.1
// specification, with the reason. ParseBundle must reject them.
var knownInvalidExamples = map[string]string{
	// None so far: every example in the OASIS repository is valid STIX 2.1.
}

// TestOASISExamples checks that ParseBundle accepts every OASIS example.
func TestOASISExamples(t *testing.T) {
	dir := stix2Dir(t)
	n := 0
	for _, sub := range []string{"examples", "interop"} {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
				return err
			}
			rel, _ := filepath.Rel(dir, path)
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			var head map[string]any
			if err := json.Unmarshal(data, &head); err != nil {
				t.Errorf("%s: not JSON: %v", rel, err)
				return nil
			}
			if _, isSchema := head["$schema"]; isSchema {
				// interop/ holds the JSON schemas of the interoperability
				// profile, not STIX content; schemaCompiler does not use them
				// for emitted objects (they require created_by_ref and more).
				t.Logf("%s: a JSON schema, not an example", rel)
				return nil
			}
			n++
			t.Run(rel, func(t *testing.T) {
				objs, err := ParseBundle(data)
				if reason, bad := knownInvalidExamples[rel]; bad {
					if err == nil {
						t.Errorf("accepted an example listed as invalid (%s)", reason)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(objs) == 0 {
					t.Error("no objects")
				}
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n == 0 {
		t.Fatal("no examples found")
	}
}

const schemaBase = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/"

// localLoader maps the OASIS schema URLs to the local files; it never goes
// to the network.
type localLoader struct{ dir string }

func (l localLoader) Load(url string) (any, error) {
	url = strings.Replace(url, "https://", "http://", 1)
	rel, ok := strings.CutPrefix(url, schemaBase)
	if !ok {
		return nil, fmt.Errorf("no local copy of %s", url)
	}
	f, err := os.Open(filepath.Join(l.dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return jsonschema.UnmarshalJSON(f)
}

// schemaFor returns the OASIS schema URL for a STIX type.
func schemaFor(typ string) string {
	switch categoryOf(typ) {
	case catSDO:
		return schemaBase + "schemas/sdos/" + typ + ".json"
	case catSRO:
		return schemaBase + "schemas/sros/" + typ + ".json"
	case catSCO:
		return schemaBase + "schemas/observables/" + typ + ".json"
	case catMeta:
		return schemaBase + "schemas/common/" + typ + ".json"
	}
	return schemaBase + "schemas/common/core.json"
}

// TestEmittedObjectsMatchOASISSchemas checks everything the package writes
// against the OASIS JSON schemas.
func TestEmittedObjectsMatchOASISSchemas(t *testing.T) {
	dir := stix2Dir(t)
	c := jsonschema.NewCompiler()
	c.UseLoader(localLoader{dir: dir})
	c.AssertFormat()

	signedIndicator := must(Sign([]byte(sampleIndicator), testKey, detente.Grading{Reliability: 'B', Credibility: 2}))
	emitted := map[string][]byte{
		"extension-definition":     ExtensionDefinition(),
		"project identity":         ProjectIdentity(),
		"caveat extension":         CaveatExtensionDefinition(),
		"signed indicator":         signedIndicator,
		"unsigned canonical":       must(Canonicalize([]byte(sampleIndicator))),
		"projection of signed":     must(Project(signedIndicator, []string{"description", "external_references.[0]", "kill_chain_phases.[1]"})),
		"projection keeping lists": must(Project([]byte(sampleIndicator), []string{"external_references.[1].url"})),
		"signed SCO":               must(Sign([]byte(sco("ipv4-addr", "ipv4-addr--"+u5, `"value":"198.51.100.3"`)), testKey, detente.Grading{})),
		"signed relationship":      must(Sign([]byte(obj("relationship", "relationship--"+u1, `"relationship_type":"indicates","source_ref":"indicator--`+u2+`","target_ref":"malware--`+u2+`"`)), testKey, detente.Grading{Reliability: 'A', Credibility: 1})),
		"caveat third-party-rule":  NewCaveatMarking(detente.CaveatThirdPartyRule, nil, "", testTime),
		"caveat releasable-to":     NewCaveatMarking(detente.CaveatReleasableTo, []string{"fr", "de"}, "", testTime),
		"caveat purpose":           NewCaveatMarking(detente.CaveatPurpose, nil, "counter-terrorism", testTime),
		"signed caveat":            must(Sign(NewCaveatMarking(detente.CaveatPurpose, nil, "cooperation", testTime), testKey, detente.Grading{})),
	}
	for _, tlp := range []detente.TLP{detente.TLPClear, detente.TLPGreen, detente.TLPAmber, detente.TLPAmberStrict, detente.TLPRed} {
		emitted["TLP "+tlp.String()] = TLPMarkingDefinition(tlp)
	}
	// Every OASIS example object, signed and canonicalised.
	for _, f := range []string{"examples/threat-reports/poisonivy.json", "examples/threat-reports/apt1.json", "examples/infrastructure.json"} {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		objs, err := ParseBundle(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			s, err := o.Sign(testKey, detente.Grading{Reliability: 'C', Credibility: 3})
			if err != nil {
				t.Fatal(err)
			}
			emitted["signed "+f+" "+o.ID] = s.Raw
		}
	}

	schemas := map[string]*jsonschema.Schema{}
	for name, raw := range emitted {
		t.Run(name, func(t *testing.T) {
			o, err := ParseObject(raw)
			if err != nil {
				t.Fatalf("emitted object does not parse: %v", err)
			}
			url := schemaFor(o.Type)
			sch := schemas[url]
			if sch == nil {
				if sch, err = c.Compile(url); err != nil {
					t.Fatalf("compile %s: %v", url, err)
				}
				schemas[url] = sch
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Errorf("%s fails %s:\n%v\n%s", o.ID, url, err, raw)
			}
		})
	}
}

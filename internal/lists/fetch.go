package lists

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"detente"
)

// Source is where an authority publishes its list: one URL per file, in
// the order Load takes the files.
type Source struct {
	Authority string   `json:"authority"`
	URLs      []string `json:"urls"`
}

// DefaultSources returns the official addresses of the UN consolidated list
// (XML), the OFAC SDN list (legacy CSV files: SDN, ADD, ALT, SDN_COMMENTS)
// and the EU financial sanctions files.
func DefaultSources() []Source {
	const ofac = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/"
	return []Source{
		{Authority: AuthorityUN, URLs: []string{"https://scsanctions.un.org/resources/xml/en/consolidated.xml"}},
		{Authority: AuthorityOFAC, URLs: []string{ofac + "SDN.CSV", ofac + "ADD.CSV", ofac + "ALT.CSV", ofac + "SDN_COMMENTS.CSV"}},
		{Authority: AuthorityEU, URLs: []string{"https://webgate.ec.europa.eu/fsd/fsf/public/files/csvFullSanctionsList_1_1/content?token=dG9rZW4tMjAxNw"}},
	}
}

// MaxListSize bounds the size of one file of a list, downloaded or not:
// the default of Loader.MaxFileSize.
const MaxListSize = 512 << 20

// Fetch downloads each source's files with client (http.DefaultClient when
// nil) and parses them with the zero Loader, naming each file by its URL in
// errors. It returns the designations of all sources, or the first error.
func Fetch(ctx context.Context, client *http.Client, sources ...Source) ([]detente.Designation, error) {
	if client == nil {
		client = http.DefaultClient
	}
	var out []detente.Designation
	for _, src := range sources {
		files := make([]File, 0, len(src.URLs))
		for _, u := range src.URLs {
			b, err := get(ctx, client, u)
			if err != nil {
				return nil, fmt.Errorf("fetch %s list: %w", src.Authority, err)
			}
			files = append(files, File{Name: u, Body: strings.NewReader(b)})
		}
		ds, err := Loader{}.Load(src.Authority, files...)
		if err != nil {
			return nil, err // "load un list: https://…/consolidated.xml line 12: …"
		}
		out = append(out, ds...)
	}
	return out, nil
}

func get(ctx context.Context, client *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("get %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("get %s: status %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxListSize+1))
	if err != nil {
		return "", fmt.Errorf("get %s: %w", url, err)
	}
	if len(b) > MaxListSize {
		return "", fmt.Errorf("get %s: larger than %d bytes", url, MaxListSize)
	}
	return string(b), nil
}

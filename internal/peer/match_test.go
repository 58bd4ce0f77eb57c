package peer

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"detente"
	"detente/internal/psi"
)

// ownerSide is an owner's side of private matching with fixed answers: the
// protocol's own behaviour is what these tests look at. (The real one,
// internal/matching, is tested across nodes in internal/server.)
type ownerSide struct {
	epoch string
	set   *psi.Set // the owner's phones
	typ   psi.Type // the type asked for in the last hello
}

func (o *ownerSide) Terms(_ context.Context, partner string) (*MatchTerms, error) {
	return &MatchTerms{ProtocolVersion: psi.ProtocolVersion, Agreement: "agreement--1", Epoch: o.epoch,
		Evaluations: 64, Used: 16, MaxSetSize: 1000, Modes: []string{detente.MatchQuery, detente.MatchBulk}}, nil
}

func (o *ownerSide) EncodedWatchlist(context.Context, string) ([]byte, error) {
	return nil, detente.Errorf(detente.EDENIED, "no agreement")
}

func (o *ownerSide) EvaluateQuery(_ context.Context, _ string, req *psi.QueryRequest) (*psi.QueryResponse, *MatchUsage, error) {
	if req.Epoch != o.epoch {
		return nil, nil, &psi.EpochError{Got: req.Epoch, Current: o.epoch}
	}
	return nil, &MatchUsage{Used: 64, Limit: 64}, detente.Errorf(detente.EDENIED, "budget for this period exhausted: 64 of 64 used")
}

func (o *ownerSide) RespondBulk(_ context.Context, _ string, typ psi.Type, hello *psi.BulkHello) (*psi.BulkReply, *MatchUsage, error) {
	o.typ = typ
	_, reply, err := psi.RespondBulk(hello.Params, o.set, hello, psi.BulkOptions{})
	if err != nil {
		return nil, nil, err
	}
	return reply, &MatchUsage{Used: 48, Limit: 64}, nil
}

// nodeCert returns a self-signed certificate for a new Ed25519 node key.
func nodeCert(t *testing.T) (tls.Certificate, detente.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv}, detente.PublicKey(pub)
}

// serveMatching serves o's matching endpoints to partner alpha and returns
// alpha's client, and the server's URL.
func serveMatching(t *testing.T, o *ownerSide) (*Client, string) {
	t.Helper()
	cert, key := nodeCert(t)
	alpha := &detente.Partner{Name: "alpha", Key: key, State: detente.PartnerActive}
	mux := http.NewServeMux()
	NewServer(mux, func(_ context.Context, k detente.PublicKey) (*detente.Partner, error) {
		if k.Equal(alpha.Key) {
			return alpha, nil
		}
		return nil, detente.Errorf(detente.ENOTFOUND, "no partner has that key")
	}, nil).MatchRoutes(o)
	srv := httptest.NewUnstartedServer(mux)
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true}}}
	t.Cleanup(hc.CloseIdleConnections)
	return &Client{HTTP: hc, BaseURL: srv.URL, Partner: "bravo"}, srv.URL
}

// TestMatchEpochConflictOnTheWire: a query for another epoch is 409 with
// the body other nodes read the current epoch from, and the client turns
// it into a *psi.EpochError.
func TestMatchEpochConflictOnTheWire(t *testing.T) {
	o := &ownerSide{epoch: "alpha/2026-11-22T01:38:50Z"}
	c, base := serveMatching(t, o)
	resp, err := c.HTTP.Post(base+"/detente/v1/match/query", "application/json", strings.NewReader(`{"version": 2, "epoch": "alpha/2026-10-23T01:38:50Z", "elements": ""}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `{"error":{"code":"conflict","message":"the request is for epoch alpha/2026-10-23T01:38:50Z, the current one is alpha/2026-11-22T01:38:50Z","epoch":"alpha/2026-11-22T01:38:50Z"}}` + "\n"
	if resp.StatusCode != http.StatusConflict || string(body) != want || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("epoch conflict: %d %s\n%s\nwant 409 %s", resp.StatusCode, resp.Header.Get("Content-Type"), body, want)
	}

	_, _, err = c.MatchQuery(context.Background(), &psi.QueryRequest{Version: psi.ProtocolVersion, Epoch: "alpha/2026-10-23T01:38:50Z"})
	var ee *psi.EpochError
	if !errors.As(err, &ee) || ee.Current != o.epoch || !errors.Is(err, psi.ErrEpoch) {
		t.Errorf("client: %v, want an epoch error naming %s", err, o.epoch)
	}
}

// TestMatchRefusalOnTheWire: a refusal keeps its code and message, the
// budget headers come with it, and anyone but a partner gets 401.
func TestMatchRefusalOnTheWire(t *testing.T) {
	o := &ownerSide{epoch: "alpha/2026-11-22T01:38:50Z"}
	c, base := serveMatching(t, o)
	resp, err := c.HTTP.Post(base+"/detente/v1/match/query", "application/json", strings.NewReader(`{"version": 2, "epoch": "alpha/2026-11-22T01:38:50Z", "elements": ""}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get(HeaderMatchUsed) != "64" || resp.Header.Get(HeaderMatchLimit) != "64" ||
		string(body) != `{"error":{"code":"denied","message":"budget for this period exhausted: 64 of 64 used"}}`+"\n" {
		t.Errorf("refusal: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	_, _, err = c.MatchQuery(context.Background(), &psi.QueryRequest{Version: psi.ProtocolVersion, Epoch: o.epoch})
	if detente.ErrorCode(err) != detente.EDENIED || detente.ErrorMessage(err) != "partner bravo: budget for this period exhausted: 64 of 64 used" {
		t.Errorf("client: %v", err)
	}
	if _, err := c.MatchWatchlist(context.Background()); detente.ErrorCode(err) != detente.EDENIED {
		t.Errorf("watchlist: %v", err)
	}

	stranger := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer stranger.CloseIdleConnections()
	resp, err = stranger.Get(base + "/detente/v1/match/terms")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("terms without a node certificate: %d", resp.StatusCode)
	}
}

// TestMatchBulkOnTheWire: a bulk exchange in the binary encoding, the type
// in the query string, the budget in the headers.
func TestMatchBulkOnTheWire(t *testing.T) {
	phones := func(vs ...string) []psi.Selector {
		var out []psi.Selector
		for _, v := range vs {
			out = append(out, psi.Selector{Type: psi.TypePhone, Value: v})
		}
		return out
	}
	own, err := psi.NewSet(phones("+44 20 7946 0018", "+44 20 7946 0019", "+33 1 70 36 39 27"), psi.ModeIntersection)
	if err != nil {
		t.Fatal(err)
	}
	o := &ownerSide{epoch: "alpha/2026-11-22T01:38:50Z", set: own}
	c, _ := serveMatching(t, o)
	terms, err := c.MatchTerms(context.Background())
	if err != nil || terms.Epoch != o.epoch || terms.Used != 16 {
		t.Fatalf("terms: %+v %v", terms, err)
	}
	mine, err := psi.NewSet(phones("0044 20 7946 0019", "+1 202 555 0143"), psi.ModeIntersection)
	if err != nil {
		t.Fatal(err)
	}
	params := psi.BulkParams{Session: psi.NewSession(), Mode: psi.ModeIntersection, Learner: psi.LearnerInitiator, MaxSetSize: 1000}
	bi, hello, err := psi.NewBulkInitiator(params, mine, psi.BulkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reply, u, err := c.MatchBulk(context.Background(), psi.TypePhone, hello)
	if err != nil {
		t.Fatal(err)
	}
	if u != (MatchUsage{Used: 48, Limit: 64}) || o.typ != psi.TypePhone {
		t.Errorf("usage %+v, type %q", u, o.typ)
	}
	r, _, err := bi.HandleReply(reply)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Matches, []int{0}) {
		t.Errorf("matches %v, want [0]", r.Matches)
	}
}

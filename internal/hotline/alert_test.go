package hotline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func sampleAlert() Alert {
	return Alert{
		Kind: AlertAckOverdue, Node: "alpha", Time: t0.Add(5 * time.Minute), Channel: "channel--euro",
		Purpose: "Euro 2028 security", Partners: []string{"bravo"}, Message: "message--1",
		Type: TypeCrisisAlert, Due: t0.Add(5 * time.Minute), Escalation: 1, DutyOfficer: "Duty alpha",
		Text: "crisis-alert message--1 not acknowledged by bravo",
	}
}

func TestWebhookAlerter(t *testing.T) {
	var got map[string]any
	var header http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header = r.Header.Clone()
		if r.Method != http.MethodPost {
			http.Error(w, "method", http.StatusMethodNotAllowed)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &got); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	w := &WebhookAlerter{URL: srv.URL, Client: srv.Client(), Header: http.Header{"Authorization": {"Bearer s3cret"}}}
	if err := w.Alert(context.Background(), sampleAlert()); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"kind": "ack-overdue", "node": "alpha", "time": "2028-05-01T12:05:00Z", "channel": "channel--euro",
		"purpose": "Euro 2028 security", "partners": []any{"bravo"}, "message": "message--1",
		"message_type": "crisis-alert", "due": "2028-05-01T12:05:00Z", "escalation": float64(1),
		"duty_officer": "Duty alpha", "text": "crisis-alert message--1 not acknowledged by bravo",
	}
	if jsonOf(t, got) != jsonOf(t, want) {
		t.Fatalf("payload\n%s\nwant\n%s", jsonOf(t, got), jsonOf(t, want))
	}
	if header.Get("Content-Type") != "application/json" || header.Get("Authorization") != "Bearer s3cret" {
		t.Fatalf("headers %v", header)
	}
}

func TestWebhookAlerterErrors(t *testing.T) {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "pager down", http.StatusBadGateway)
	}))
	defer failing.Close()
	err := (&WebhookAlerter{URL: failing.URL}).Alert(context.Background(), sampleAlert())
	if err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("5xx: %v", err)
	}

	// A webhook that never answers is abandoned after Timeout.
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hanging.Close()
	defer close(release)
	start := time.Now()
	err = (&WebhookAlerter{URL: hanging.URL, Timeout: 50 * time.Millisecond}).Alert(context.Background(), sampleAlert())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hanging webhook: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("timeout took %v", d)
	}
}

func TestAlerters(t *testing.T) {
	var a, b bytes.Buffer
	failing := &WebhookAlerter{URL: "http://127.0.0.1:1/unreachable", Timeout: time.Second}
	err := Alerters{&ConsoleAlerter{W: &a}, failing, &ConsoleAlerter{W: &b}}.Alert(context.Background(), sampleAlert())
	if err == nil {
		t.Fatal("no error from the failing alerter")
	}
	want := "2028-05-01T12:05:00Z ALERT ack-overdue channel=channel--euro crisis-alert message--1 not acknowledged by bravo\n"
	if a.String() != want || b.String() != want {
		t.Fatalf("console lines %q %q", a.String(), b.String())
	}
}

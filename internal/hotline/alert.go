package hotline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Alert kinds.
const (
	AlertAckOverdue     = "ack-overdue"     // a recipient has not acknowledged in time
	AlertRequestOverdue = "request-overdue" // a request is past its due time without response
	AlertDeliveryFailed = "delivery-failed" // a partner refused a message for good
	AlertLineSilent     = "line-silent"     // no heartbeat from a partner for 2N
	AlertLineRestored   = "line-restored"   // a silent partner is heard again
)

// Alert is something the duty officer of this node must act on. It names
// channels, partners and messages by id and never carries a message's
// subject or body, so it may go to a paging system.
type Alert struct {
	Kind     string      `json:"kind"`
	Node     string      `json:"node"` // this node's name
	Time     time.Time   `json:"time"` // when it was detected
	Channel  string      `json:"channel"`
	Purpose  string      `json:"purpose,omitempty"`
	Partners []string    `json:"partners,omitempty"` // the partners concerned
	Message  string      `json:"message,omitempty"`  // the message concerned
	Type     MessageType `json:"message_type,omitempty"`
	// Due is the deadline that was missed (acknowledgement or request).
	Due time.Time `json:"due,omitzero"`
	// Escalation counts the alerts for the same missing acknowledgement:
	// 1 for the first.
	Escalation int `json:"escalation,omitempty"`
	// LastHeard is when a silent partner was last heard.
	LastHeard   time.Time `json:"last_heard,omitzero"`
	DutyOfficer string    `json:"duty_officer,omitempty"` // this node's duty officer on the channel
	Text        string    `json:"text"`                   // one line for people
}

// Key names the condition a is about, so that the node keeps one alert
// for it however often it is raised (detente.Alert.Key): the missing
// acknowledgement of a message (every escalation), an overdue request, a
// message or a channel's history refused by a partner, the line to a
// partner on a channel (silent and restored are one condition: the
// alert shows the latest).
func (a Alert) Key() string {
	partners := strings.Join(a.Partners, ",")
	switch a.Kind {
	case AlertLineSilent, AlertLineRestored:
		return "line/" + a.Channel + "/" + partners
	case AlertDeliveryFailed:
		if a.Message == "" {
			return AlertDeliveryFailed + "/" + a.Channel + "/history/" + partners
		}
		return AlertDeliveryFailed + "/" + a.Message + "/" + partners
	}
	return a.Kind + "/" + a.Message
}

// Alerter tells people about alerts. Alert returns when the alert has been
// handed over (written, posted) or has failed.
type Alerter interface {
	Alert(ctx context.Context, a Alert) error
}

// ConsoleAlerter writes each alert as one line of text to W.
type ConsoleAlerter struct {
	mu sync.Mutex
	W  io.Writer
}

// Alert implements Alerter.
func (c *ConsoleAlerter) Alert(ctx context.Context, a Alert) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := fmt.Fprintf(c.W, "%s ALERT %s channel=%s %s\n", a.Time.UTC().Format(time.RFC3339), a.Kind, a.Channel, a.Text)
	if err != nil {
		return fmt.Errorf("console alert: %w", err)
	}
	return nil
}

// WebhookAlerter posts each alert as JSON (the Alert fields, see
// docs/channels.md) to URL, with Content-Type application/json. A response
// other than 2xx, or no response within Timeout, is an error.
type WebhookAlerter struct {
	URL     string
	Client  *http.Client  // http.DefaultClient if nil
	Timeout time.Duration // 5s if zero
	Header  http.Header   // extra headers, e.g. an Authorization token
}

// Alert implements Alerter.
func (w *WebhookAlerter) Alert(ctx context.Context, a Alert) error {
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("webhook alert: %w", err)
	}
	timeout := w.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook alert: %w", err)
	}
	for k, v := range w.Header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "detente-hotline")
	client := w.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook alert: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook alert: %s answered %s", w.URL, resp.Status)
	}
	return nil
}

// Alerters sends each alert to every one of its alerters, and returns
// their errors joined.
type Alerters []Alerter

// Alert implements Alerter.
func (as Alerters) Alert(ctx context.Context, a Alert) error {
	var errs []error
	for _, x := range as {
		if err := x.Alert(ctx, a); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func joinNames(ns []string) string { return strings.Join(ns, ", ") }

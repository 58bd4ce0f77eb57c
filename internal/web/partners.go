package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"detente"
	"detente/internal/ledger"
)

// partnersPage is the data of the partners and agreements page.
type partnersPage struct {
	Partners   []partnerRow
	Agreements []agreementView
	// Defaults pre-fill the new-agreement form.
	DefaultFrom, DefaultUntil string
	Types                     []string
}

func (h *Handler) partners(w http.ResponseWriter, r *http.Request, v *visit) error {
	rows, all, err := h.partnerRows(r.Context())
	if err != nil {
		return err
	}
	now := h.node.Now().UTC()
	p := partnersPage{Partners: rows, Agreements: all,
		DefaultFrom:  now.Format("2006-01-02"),
		DefaultUntil: now.AddDate(1, 0, 0).Format("2006-01-02"),
		Types:        []string{"indicator", "report", "threat-actor", "identity", "relationship", "marking-definition"},
	}
	h.render(w, r, v, http.StatusOK, "partners", "Partners and agreements", "partners", p)
	return nil
}

// partnerPage is the data of one partner's page.
type partnerPage struct {
	partnerRow
	// Chart and Days are what the node sent and received, for roles that
	// may read the log.
	Chart     *barChart
	Days      []dayCount
	Truncated bool
	// Grade is this node's grading of the partner as a source, nil when
	// it has none.
	Grade *ledger.Grade
}

func (h *Handler) partner(w http.ResponseWriter, r *http.Request, v *visit) error {
	name := r.PathValue("name")
	rows, _, err := h.partnerRows(r.Context())
	if err != nil {
		return err
	}
	var p partnerPage
	for _, row := range rows {
		if row.Name == name {
			p.partnerRow = row
		}
	}
	if p.Partner == nil {
		return detente.Errorf(detente.ENOTFOUND, "partner %s is not known to this node", name)
	}
	if v.Can("log") {
		if p.Days, p.Truncated, err = h.exchanges(r.Context(), name); err != nil {
			return err
		}
		c := exchangeChart(p.Days)
		p.Chart = &c
	}
	if p.Grade, err = h.node.Ledger.PartnerGrade(r.Context(), name); err != nil {
		return err
	}
	h.render(w, r, v, http.StatusOK, "partner", "Partner "+name, "partners", p)
	return nil
}

func (h *Handler) addPartner(w http.ResponseWriter, r *http.Request, v *visit) error {
	name := formValue(r, "name")
	key, err := detente.ParsePublicKey(formValue(r, "key"))
	if err != nil {
		return h.refused(w, r, v, "/partners#add-partner", err)
	}
	if _, err := h.node.AddPartner(r.Context(), name, key, formValue(r, "url")); err != nil {
		return h.refused(w, r, v, "/partners#add-partner", err)
	}
	h.logger.InfoContext(r.Context(), "console: partner added", "partner", name, "token", v.Token.ID)
	return h.done(w, r, v, "/partners/"+url.PathEscape(name), "Partner "+name+" added. Next: add an agreement with it.")
}

func (h *Handler) setPartnerState(w http.ResponseWriter, r *http.Request, v *visit) error {
	name := r.PathValue("name")
	back := "/partners/" + url.PathEscape(name)
	var state detente.PartnerState
	switch formValue(r, "state") {
	case string(detente.PartnerSuspended):
		state = detente.PartnerSuspended
	case string(detente.PartnerActive):
		state = detente.PartnerActive
	default:
		return h.refused(w, r, v, back, detente.Errorf(detente.EINVALID, "state must be active or suspended"))
	}
	if _, err := h.node.SetPartnerState(r.Context(), name, state, formValue(r, "reason")); err != nil {
		return h.refused(w, r, v, back, err)
	}
	h.logger.InfoContext(r.Context(), "console: partner state", "partner", name, "state", state, "token", v.Token.ID)
	return h.done(w, r, v, back, "Partner "+name+" is now "+string(state)+".")
}

// addAgreement builds an agreement document from the form and records it:
// the same validation as 'detente agreement add' and the API.
func (h *Handler) addAgreement(w http.ResponseWriter, r *http.Request, v *visit) error {
	back := "/partners#add-agreement"
	var partners []string
	for _, p := range r.PostForm["partner"] {
		if p = strings.TrimSpace(p); p != "" {
			partners = append(partners, p)
		}
	}
	types := strings.FieldsFunc(formValue(r, "types"), func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' })
	doc := map[string]any{
		"partners": partners, "from": dateTime(formValue(r, "from")), "until": dateTime(formValue(r, "until")),
		"tlp_ceiling": formValue(r, "tlp_ceiling"), "types": types, "onward_sharing": formValue(r, "onward_sharing"),
		"purpose": formValue(r, "purpose"), "note": formValue(r, "note"),
	}
	b, _ := json.Marshal(doc) // plain data cannot fail to marshal
	a, err := detente.ParseAgreement(b)
	if err != nil {
		return h.refused(w, r, v, back, err)
	}
	if a, err = h.node.AddAgreement(r.Context(), a); err != nil {
		return h.refused(w, r, v, back, err)
	}
	h.logger.InfoContext(r.Context(), "console: agreement added", "agreement", a.ID, "token", v.Token.ID)
	return h.done(w, r, v, "/partners#"+url.PathEscape(a.ID), "Agreement "+a.ID+" recorded with "+strings.Join(a.Partners, ", ")+".")
}

// dateTime turns a date input's YYYY-MM-DD into an RFC 3339 time at
// midnight UTC, and leaves anything else for the parser to judge.
func dateTime(s string) string {
	if len(s) == len("2006-01-02") {
		return s + "T00:00:00Z"
	}
	return s
}

func (h *Handler) setAgreementState(w http.ResponseWriter, r *http.Request, v *visit) error {
	id := r.PathValue("id")
	back := "/partners#" + url.PathEscape(id)
	var state detente.AgreementState
	switch formValue(r, "state") {
	case string(detente.AgreementSuspended):
		state = detente.AgreementSuspended
	case string(detente.AgreementActive):
		state = detente.AgreementActive
	case string(detente.AgreementEnded):
		if formValue(r, "confirm") != "yes" {
			return h.refused(w, r, v, back, detente.Errorf(detente.EINVALID, "ending an agreement cannot be undone: tick the box to confirm"))
		}
		state = detente.AgreementEnded
	default:
		return h.refused(w, r, v, back, detente.Errorf(detente.EINVALID, "state must be active, suspended or ended"))
	}
	if _, err := h.node.SetAgreementState(r.Context(), id, state, formValue(r, "reason")); err != nil {
		return h.refused(w, r, v, back, err)
	}
	h.logger.InfoContext(r.Context(), "console: agreement state", "agreement", id, "state", state, "token", v.Token.ID)
	return h.done(w, r, v, back, "Agreement "+id+" is now "+string(state)+".")
}

package web

import (
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"detente"
	"detente/internal/leak"
)

// tracePage is the data of the leak tracing page.
type tracePage struct {
	Leak   string       // the leaked text traced, sent back with evidence requests
	Result *leak.Result // nil before a trace
}

// tracing shows the form to paste or upload a leaked document.
func (h *Handler) tracing(w http.ResponseWriter, r *http.Request, v *visit) error {
	h.render(w, r, v, http.StatusOK, "trace", "Leak tracing", "trace", tracePage{})
	return nil
}

// leakOf returns the leaked document of a trace form: the file uploaded,
// else the text pasted.
func leakOf(r *http.Request) ([]byte, error) {
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File["file"]; len(fhs) > 0 && fhs[0].Size > 0 {
			f, err := fhs[0].Open()
			if err != nil {
				return nil, detente.Errorf(detente.EINVALID, "the uploaded file could not be read")
			}
			defer f.Close()
			return io.ReadAll(io.LimitReader(f, MaxForm))
		}
	}
	text := r.PostForm.Get("leak")
	if strings.TrimSpace(text) == "" {
		return nil, detente.Errorf(detente.EINVALID, "paste the leaked text or choose a file to trace")
	}
	return []byte(text), nil
}

// runTrace traces the leaked document and shows every partner's score
// and bound, with a form per partner to download the evidence.
func (h *Handler) runTrace(w http.ResponseWriter, r *http.Request, v *visit) error {
	data, err := leakOf(r)
	if err != nil {
		return h.refused(w, r, v, "/trace", err)
	}
	if !utf8.Valid(data) {
		return h.refused(w, r, v, "/trace", detente.Errorf(detente.EINVALID, "the console traces text (UTF-8); trace other files with 'detente leak trace'"))
	}
	res, err := h.node.Leak.Trace(r.Context(), data)
	if err != nil {
		return h.refused(w, r, v, "/trace", err)
	}
	h.render(w, r, v, http.StatusOK, "trace", "Leak tracing", "trace", tracePage{Leak: string(data), Result: res})
	return nil
}

// traceEvidence traces the leak again and sends the evidence about one
// partner as a file for 'detente leak verify'.
func (h *Handler) traceEvidence(w http.ResponseWriter, r *http.Request, v *visit) error {
	partner := formValue(r, "partner")
	data := r.PostForm.Get("leak")
	if partner == "" || strings.TrimSpace(data) == "" {
		return h.refused(w, r, v, "/trace", detente.Errorf(detente.EINVALID, "trace a leak first, then ask for the evidence about a partner"))
	}
	res, err := h.node.Leak.Trace(r.Context(), []byte(data))
	if err != nil {
		return h.refused(w, r, v, "/trace", err)
	}
	ev, err := h.node.Leak.Evidence(r.Context(), res, partner)
	if err != nil {
		return h.refused(w, r, v, "/trace", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "leak-evidence-" + partner + ".json"}))
	w.WriteHeader(http.StatusOK)
	w.Write(ev) // the client may have gone; nothing to do about it
	return nil
}

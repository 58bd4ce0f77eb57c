package taxii

import (
	"encoding/json"
	"errors"
	"strings"
)

// splitEnvelope decodes an envelope (TAXII 2.1 §3.7) as json.Unmarshal
// into an Envelope does — the same values, errors in the same cases — but
// each object is a sub-slice of data, not a copy: a page of 1,000 objects
// is split in one pass over the bytes after the validity check.
func splitEnvelope(data []byte) (Envelope, error) {
	var env Envelope
	if !json.Valid(data) {
		return env, slowEnvelope(data, errors.New("invalid JSON"))
	}
	i := skipSpace(data, 0)
	switch data[i] {
	case 'n':
		return env, nil // null: nothing
	case '{':
	default:
		return env, slowEnvelope(data, errors.New("an envelope must be a JSON object"))
	}
	var typeErr error
	i = skipSpace(data, i+1)
	for data[i] != '}' {
		kEnd := skipValue(data, i)
		key := data[i:kEnd]
		var name string
		if err := json.Unmarshal(key, &name); err != nil {
			return env, err
		}
		i = skipSpace(data, kEnd)
		i = skipSpace(data, i+1) // ':'
		vEnd := skipValue(data, i)
		val := data[i:vEnd]
		switch {
		case strings.EqualFold(name, "objects"):
			switch val[0] {
			case 'n':
				env.Objects = nil // as encoding/json sets a slice to null
			case '[':
				objs := env.Objects[:0]
				if objs == nil {
					objs = []json.RawMessage{}
				}
				j := skipSpace(data, i+1)
				for data[j] != ']' {
					e := skipValue(data, j)
					objs = append(objs, json.RawMessage(data[j:e:e]))
					j = skipSpace(data, e)
					if data[j] == ',' {
						j = skipSpace(data, j+1)
					}
				}
				env.Objects = objs
			default:
				typeErr = cmpErr(typeErr, errors.New("objects is not a list"))
			}
		case strings.EqualFold(name, "more"):
			if err := json.Unmarshal(val, &env.More); err != nil {
				typeErr = cmpErr(typeErr, err)
			}
		case strings.EqualFold(name, "next"):
			if err := json.Unmarshal(val, &env.Next); err != nil {
				typeErr = cmpErr(typeErr, err)
			}
		}
		i = skipSpace(data, vEnd)
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	if typeErr != nil {
		return Envelope{}, slowEnvelope(data, typeErr)
	}
	return env, nil
}

// slowEnvelope returns encoding/json's error for data, which callers
// inspect (a *json.SyntaxError is a malformed response), or err.
func slowEnvelope(data []byte, err error) error {
	var e Envelope
	if jerr := json.Unmarshal(data, &e); jerr != nil {
		return jerr
	}
	return err
}

// cmpErr keeps the first error, as encoding/json reports the first type
// mismatch.
func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// skipSpace returns the index of the first non-space byte at or after i.
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the end of the JSON value starting at i; data is
// valid JSON.
func skipValue(data []byte, i int) int {
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				i = skipString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
		i++
	}
	return i
}

// skipString returns the end of the JSON string starting at i.
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

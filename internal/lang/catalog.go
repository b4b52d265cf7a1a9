package lang

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"

	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// catalogFiles are the catalogues, catalog/<code>.json for each language.
//
//go:embed catalog/*.json
var catalogFiles embed.FS

// texts are the loaded catalogues.
type texts struct {
	keys     map[Language]map[string]string
	printers map[Language]*message.Printer
}

// loaded is the embedded catalogues; a catalogue that does not load is a bug
// the tests catch before any binary is built.
var loaded = mustLoadCatalogues(catalogFiles)

func mustLoadCatalogues(fsys fs.FS) *texts {
	t, err := loadCatalogues(fsys)
	if err != nil {
		panic("lang: " + err.Error())
	}
	return t
}

// loadCatalogues reads catalog/<code>.json for every language into one
// catalogue builder and makes each language's printer.
func loadCatalogues(fsys fs.FS) (*texts, error) {
	b := catalog.NewBuilder(catalog.Fallback(German.Tag()))
	t := &texts{keys: map[Language]map[string]string{}, printers: map[Language]*message.Printer{}}
	var errs []error
	for _, a := range all {
		name := "catalog/" + string(a.l) + ".json"
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		keys, err := parseCatalogue(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		for k, v := range keys {
			if err := b.SetString(a.tag, k, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", name, k, err))
			}
		}
		t.keys[a.l] = keys
		t.printers[a.l] = message.NewPrinter(a.tag, message.Catalog(b))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	return t, nil
}

// keyPattern is the shape of a key: dotted identifiers, at least two.
var keyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

// parseCatalogue reads one catalogue: a flat JSON object whose values are
// strings, each key once and of the shape keyPattern.
func parseCatalogue(data []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	keys := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		if !keyPattern.MatchString(key) {
			return nil, fmt.Errorf("key %q: want dotted identifiers such as letter.password.subject", key)
		}
		if _, dup := keys[key]; dup {
			return nil, fmt.Errorf("key %q: given twice", key)
		}
		var text *string // null is no text
		if err := dec.Decode(&text); err != nil || text == nil {
			return nil, fmt.Errorf("key %q: the text must be a string", key)
		}
		keys[key] = *text
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errors.New("object does not end")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the object")
	}
	return keys, nil
}

// T returns the text of key in l, its printf verbs filled with args by the
// language's printer. A key the catalogue lacks gives "⟦key⟧": visible on the
// page or letter, and caught by the tests, never a blank.
func (l Language) T(key string, args ...any) string {
	l = l.or(German)
	if _, ok := loaded.keys[l][key]; !ok {
		return "⟦" + key + "⟧"
	}
	return loaded.printers[l].Sprintf(key, args...)
}

// Funcs returns the template functions of l (see the package comment): t,
// date, datetime, short, euro and lang. The result is a
// template.FuncMap of html/template and text/template alike.
func (l Language) Funcs() map[string]any {
	l = l.or(German)
	return map[string]any{
		"t":        l.T,
		"date":     l.Date,
		"datetime": l.DateTime,
		"short":    l.Short,
		"euro":     l.Euro,
		"lang":     func() string { return string(l) },
	}
}

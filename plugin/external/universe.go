package external

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/afero"
	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"
	"sigs.k8s.io/kubebuilder/v4/pkg/plugin/external"
)

// readsFile reports whether the plugin ever reads or writes the project file
// at path. Kubebuilder sends the whole project directory, .git and bin
// included; everything else is skipped while decoding, never held.
func readsFile(path string) bool {
	switch path {
	case "go.mod", "Makefile", "hack/boilerplate.go.txt":
		return true
	}
	for _, dir := range []string{"cmd/", "api/", "internal/controller/", "config/samples/"} {
		if strings.HasPrefix(path, dir) {
			return true
		}
	}
	return false
}

// decodeRequest reads a PluginRequest from r, one token at a time, so that
// the files of the universe the plugin does not need pass through without
// being kept.
func decodeRequest(r io.Reader) (*external.PluginRequest, error) {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	req := &external.PluginRequest{}
	for dec.More() {
		key, err := stringToken(dec)
		if err != nil {
			return nil, err
		}
		switch key {
		case "apiVersion":
			err = dec.Decode(&req.APIVersion)
		case "args":
			err = dec.Decode(&req.Args)
		case "command":
			err = dec.Decode(&req.Command)
		case "pluginChain":
			err = dec.Decode(&req.PluginChain)
		case "config":
			err = dec.Decode(&req.Config)
		case "universe":
			req.Universe, err = decodeUniverse(dec)
		default:
			var skipped json.RawMessage
			err = dec.Decode(&skipped)
		}
		if err != nil {
			return nil, fmt.Errorf("decoding the request's %q: %w", key, err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, err
	}
	return req, nil
}

// decodeUniverse decodes the universe object, keeping the files readsFile
// selects.
func decodeUniverse(dec *json.Decoder) (map[string]string, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return map[string]string{}, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("the universe is %v, not an object", tok)
	}
	universe := map[string]string{}
	for dec.More() {
		path, err := stringToken(dec)
		if err != nil {
			return nil, err
		}
		if !readsFile(path) {
			// A file's content is a single string token; reading it drops it.
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("skipping %s: %w", path, err)
			}
			continue
		}
		var content string
		if err := dec.Decode(&content); err != nil {
			return nil, fmt.Errorf("decoding %s: %w", path, err)
		}
		universe[path] = content
	}
	return universe, expectDelim(dec, '}')
}

func stringToken(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("expected a string, found %v", tok)
	}
	return s, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("reading the plugin request: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("reading the plugin request: expected %q, found %v", want, tok)
	}
	return nil
}

// loadUniverse returns an in-memory project filesystem holding universe.
func loadUniverse(universe map[string]string) (machinery.Filesystem, error) {
	mem := afero.NewMemMapFs()
	for _, path := range slices.Sorted(maps.Keys(universe)) {
		clean := filepath.Clean(path)
		if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return machinery.Filesystem{}, fmt.Errorf("the universe holds %q, which is outside the project", path)
		}
		if err := afero.WriteFile(mem, clean, []byte(universe[path]), machinery.DefaultFilePermission); err != nil {
			return machinery.Filesystem{}, fmt.Errorf("loading %s: %w", path, err)
		}
	}
	return machinery.Filesystem{FS: mem}, nil
}

// changedFiles returns the files of fsys that are new or differ from
// before: exactly what the response must carry back.
func changedFiles(fsys machinery.Filesystem, before map[string]string) (map[string]string, error) {
	changed := map[string]string{}
	err := afero.Walk(fsys.FS, ".", func(path string, info fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() {
			return nil
		}
		content, err := afero.ReadFile(fsys.FS, path)
		if err != nil {
			return err
		}
		if old, ok := before[path]; !ok || old != string(content) {
			changed[path] = string(content)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("collecting the changed files: %w", err)
	}
	return changed, nil
}

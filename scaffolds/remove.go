package scaffolds

import (
	"fmt"
	"go/format"
	"strings"

	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"
)

// kubebuilder's machinery inserts code at markers but has no way to take it
// out again. fragmentRemover is that reverse: given the same Inserters that
// inserted the fragments, it removes each fragment from the lines above its
// marker. Lines are compared with their runs of blanks made one space,
// because gofmt re-indents and re-aligns what the machinery inserted into a
// Go file (the machinery trims them, too, when it decides that a fragment is
// already there).
type fragmentRemover struct {
	// read returns a file's content.
	read func(path string) ([]byte, error)
	// contents holds the files edited so far, by path.
	contents map[string]string
	// notFound describes the fragments that were not found.
	notFound []string
}

// newFragmentRemover returns a remover of fragments from the files read
// returns.
func newFragmentRemover(read func(path string) ([]byte, error)) *fragmentRemover {
	return &fragmentRemover{read: read, contents: map[string]string{}}
}

// remove takes every fragment ins inserts out of ins's file. A fragment that
// is not found verbatim above its marker is left alone and recorded in
// notFound.
func (r *fragmentRemover) remove(ins machinery.Inserter) error {
	path := ins.GetPath()
	content, ok := r.contents[path]
	if !ok {
		b, err := r.read(path)
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		content = string(b)
	}
	lines := strings.SplitAfter(content, "\n")
	fragments := ins.GetCodeFragments()
	for _, marker := range ins.GetMarkers() {
		for _, fragment := range fragments[marker] {
			want, err := fragmentLines(fragment)
			if err != nil {
				return fmt.Errorf("%s, at %s: %w", path, marker, err)
			}
			at := markerIndex(lines, marker)
			start := -1
			if at >= 0 {
				start = lastBlock(lines[:at], want)
			}
			if start < 0 {
				r.notFound = append(r.notFound, fmt.Sprintf("%s: %q... (above %s)", path, want[0], marker))
				continue
			}
			lines = append(lines[:start], lines[start+len(want):]...)
		}
	}
	r.contents[path] = strings.Join(lines, "")
	return nil
}

// files returns the edited files, by path, Go files formatted as the
// machinery formats what it writes.
func (r *fragmentRemover) files() (map[string][]byte, error) {
	out := make(map[string][]byte, len(r.contents))
	for path, content := range r.contents {
		b := []byte(content)
		if strings.HasSuffix(path, ".go") {
			var err error
			if b, err = format.Source(b); err != nil {
				return nil, fmt.Errorf("formatting %s: %w", path, err)
			}
		}
		out[path] = b
	}
	return out, nil
}

// fragmentLines returns the lines of a code fragment, normalized. The machinery
// writes a fragment just before its marker's line, so what follows the
// fragment's last newline joins the marker's line: it must be blank (the
// marker's indentation, which gofmt redoes), and it is not one of the lines.
func fragmentLines(fragment string) ([]string, error) {
	lines := strings.Split(fragment, "\n")
	if last := lines[len(lines)-1]; strings.TrimSpace(last) != "" {
		return nil, fmt.Errorf("the fragment %q does not end with a newline, so it cannot be told apart "+
			"from its marker's line", fragment)
	}
	lines = lines[:len(lines)-1]
	if len(lines) == 0 {
		return nil, fmt.Errorf("the fragment %q has no line", fragment)
	}
	for i, l := range lines {
		lines[i] = normalize(l)
	}
	return lines, nil
}

// markerIndex returns the index of the marker's line, or -1.
func markerIndex(lines []string, marker machinery.Marker) int {
	for i, l := range lines {
		if marker.EqualsLine(l) {
			return i
		}
	}
	return -1
}

// normalize returns line without its leading and trailing blanks and with
// each run of blanks inside it made one space.
func normalize(line string) string { return strings.Join(strings.Fields(line), " ") }

// lastBlock returns where the last run of lines equal, normalized, to want
// starts, or -1. The last one is the one nearest the marker, inside the
// block the marker closes.
func lastBlock(lines, want []string) int {
	for start := len(lines) - len(want); start >= 0; start-- {
		if blockAt(lines, start, want) {
			return start
		}
	}
	return -1
}

// blockAt reports whether lines, from start on, are want.
func blockAt(lines []string, start int, want []string) bool {
	for i, w := range want {
		if normalize(lines[start+i]) != w {
			return false
		}
	}
	return true
}

// containsFragment reports whether content holds fragment, as remove would
// find it above marker.
func containsFragment(content string, marker machinery.Marker, fragment string) bool {
	want, err := fragmentLines(fragment)
	if err != nil {
		return false
	}
	lines := strings.SplitAfter(content, "\n")
	at := markerIndex(lines, marker)
	return at >= 0 && lastBlock(lines[:at], want) >= 0
}

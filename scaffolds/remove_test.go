package scaffolds

import (
	"testing"

	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"

	"github.com/opbuilder/opbuilder/scaffolds/internal/templates"
)

// fakeInserter inserts fixed fragments at one marker of one file.
type fakeInserter struct {
	path      string
	marker    machinery.Marker
	fragments []string
}

func (f fakeInserter) GetPath() string                           { return f.path }
func (fakeInserter) GetIfExistsAction() machinery.IfExistsAction { return machinery.OverwriteFile }
func (f fakeInserter) GetMarkers() []machinery.Marker            { return []machinery.Marker{f.marker} }
func (f fakeInserter) GetCodeFragments() machinery.CodeFragmentsMap {
	return machinery.CodeFragmentsMap{f.marker: f.fragments}
}

func TestFragmentRemoverTakesOutWhatGofmtRealigned(t *testing.T) {
	const path = "x.go"
	marker := templates.NewMarker(path, templates.SampleNodeTypesMarker)
	// gofmt aligned the inserted key with the one before it.
	content := "package x\n\nvar v = T{\n\tA:   1,\n\tBcd: 2,\n\t" + marker.String() + "\n}\n"
	r := newFragmentRemover(func(string) ([]byte, error) { return []byte(content), nil })
	if err := r.remove(fakeInserter{path, marker, []string{"Bcd: 2,\n", "Missing: 3,\n"}}); err != nil {
		t.Fatal(err)
	}
	files, err := r.files()
	if err != nil {
		t.Fatal(err)
	}
	if want := "package x\n\nvar v = T{\n\tA: 1,\n\t" + marker.String() + "\n}\n"; string(files[path]) != want {
		t.Errorf("got\n%s\nwant\n%s", files[path], want)
	}
	if len(r.notFound) != 1 {
		t.Errorf("not found: %q, want the one missing fragment", r.notFound)
	}
}

func TestFragmentLinesNeedsAFinalNewline(t *testing.T) {
	if _, err := fragmentLines("A: 1,"); err == nil {
		t.Error("a fragment that would join its marker's line was accepted")
	}
	lines, err := fragmentLines("// doc\n\tField int\n\n\t")
	if err != nil || len(lines) != 3 || lines[2] != "" {
		t.Errorf("lines %q, %v: want the doc, the field and the blank line", lines, err)
	}
}

package replay

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// parseSVG decodes an SVG document with encoding/xml, failing on any
// error, and returns its lanes ("node/instance") and the set of its texts.
func parseSVG(t *testing.T, b []byte) (lanes []string, texts map[string]bool) {
	t.Helper()
	texts = map[string]bool{}
	d := xml.NewDecoder(bytes.NewReader(b))
	var inText bool
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v", err)
		}
		switch v := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = v.Name.Local
			}
			inText = v.Name.Local == "text"
			if v.Name.Local == "g" {
				var n, i string
				for _, a := range v.Attr {
					switch a.Name.Local {
					case "data-node":
						n = a.Value
					case "data-instance":
						i = a.Value
					}
				}
				lanes = append(lanes, n+"/"+i)
			}
		case xml.CharData:
			if inText {
				texts[strings.TrimSpace(string(v))] = true
			}
		case xml.EndElement:
			inText = false
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q", root)
	}
	return lanes, texts
}

// renderPNG renders the SVG with rsvg-convert (skipped if absent) and
// checks a non-empty PNG comes out.
func renderPNG(t *testing.T, svg []byte) {
	t.Helper()
	bin, err := exec.LookPath("rsvg-convert")
	if err != nil {
		t.Log("rsvg-convert not installed: not rendered")
		return
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.svg"), filepath.Join(dir, "out.png")
	if err := os.WriteFile(in, svg, 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(bin, in, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("rsvg-convert: %v\n%s", err, msg)
	}
	png, err := os.ReadFile(out)
	if err != nil || len(png) < 1000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("rsvg-convert produced %d bytes (%v)", len(png), err)
	}
}

// fmtSscan reads the leading time of a timeline line ("  8.414062s ...").
func fmtSscan(line string, at *float64) (int, error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return 0, fmt.Errorf("empty line")
	}
	return fmt.Sscanf(strings.TrimSuffix(f[0], "s"), "%g", at)
}

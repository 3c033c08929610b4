package webapp

import (
	"regexp"
	"strings"
	"testing"
)

// TestSiteLoadsNothingFromElsewhere checks the embedded files: every file the page or a module
// names exists, and no file names another origin (fonts, icons and scripts come from here).
func TestSiteLoadsNothingFromElsewhere(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Files()) < 5 {
		t.Fatalf("only %d files embedded: %v", len(s.Files()), s.Files())
	}
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	pageRef := regexp.MustCompile(`(?:src|href)="(/[^"]*)"`)
	importRef := regexp.MustCompile(`from '(\./[^']+)'`)
	for _, name := range s.Files() {
		body := string(s.files[name].body)
		for _, m := range external.FindAllString(body, -1) {
			if !strings.Contains(m, "www.w3.org") { // SVG namespace, not a request
				t.Errorf("%s names another origin: %s", name, m)
			}
		}
		for _, m := range pageRef.FindAllStringSubmatch(body, -1) {
			if ref := strings.TrimPrefix(m[1], AssetPrefix); ref == m[1] || s.files[ref].body == nil {
				t.Errorf("%s refers to %s, which is not an embedded file under %s", name, m[1], AssetPrefix)
			}
		}
		if strings.HasPrefix(name, "js/") {
			for _, m := range importRef.FindAllStringSubmatch(body, -1) {
				if _, ok := s.files["js/"+strings.TrimPrefix(m[1], "./")]; !ok {
					t.Errorf("%s imports %s, which is not embedded", name, m[1])
				}
			}
		}
	}
}

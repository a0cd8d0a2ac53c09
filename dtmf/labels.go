package dtmf

import (
	"path/filepath"
	"strings"
)

// KeysFromFileName returns the keys a recording holds by the naming of the
// py-tonedetect test files (cheind/py-tonedetect, etc/samples/dtmf_test):
// in the base name up to "--" (what follows is a comment) and without its
// extension, 0-9 and A-D are keys, s is '*', p is '#', and P and d are
// pauses. It returns "" for a name with any other character, as such a
// name is not labelled by this convention.
func KeysFromFileName(path string) string {
	name := filepath.Base(path)
	name = strings.TrimSuffix(name, filepath.Ext(name))
	name, _, _ = strings.Cut(name, "--")
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == 's':
			b.WriteByte('*')
		case c == 'p':
			b.WriteByte('#')
		case c == 'P' || c == 'd':
		case c >= '0' && c <= '9' || c >= 'A' && c <= 'D':
			b.WriteByte(c)
		default:
			return ""
		}
	}
	return b.String()
}

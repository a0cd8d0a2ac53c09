package embedded

import "strings"

// sentences splits text after sentence and clause ends (. ! ? ; : and
// commas, followed by a space) so an engine that writes its audio only
// when done can start playing the first clause while it synthesizes the
// rest; flite pauses at these marks anyway, so the seams are not heard.
// Very short pieces are joined to the next, to keep "Mr. Smith" or "Yes,
// please" whole.
func sentences(text string) []string {
	const minChunk = 12 // bytes; shorter pieces join their neighbour
	var out []string
	start := 0
	for i := 0; i+1 < len(text); i++ {
		switch text[i] {
		case '.', '!', '?', ';', ':', ',':
		default:
			continue
		}
		if text[i+1] != ' ' && text[i+1] != '\n' {
			continue
		}
		piece := strings.TrimSpace(text[start : i+1])
		if len(piece) < minChunk {
			continue
		}
		out = append(out, piece)
		start = i + 1
	}
	if rest := strings.TrimSpace(text[start:]); rest != "" {
		if len(rest) < minChunk && len(out) > 0 {
			out[len(out)-1] += " " + rest
		} else {
			out = append(out, rest)
		}
	}
	return out
}

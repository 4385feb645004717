package main

import (
	"fmt"
	"io"
	"strings"

	"wdbg/commands"
)

// writeCommandReference prints the command reference generated from the command table, as plain
// text (--help-commands) or as the Markdown that README.md carries between its
// `<!-- commands:begin -->` and `<!-- commands:end -->` markers (--help-commands --markdown).
func writeCommandReference(w io.Writer, markdown bool) error {
	var b strings.Builder
	group := ""
	for _, c := range commands.Table() {
		if c.Group != group {
			group = c.Group
			if markdown {
				fmt.Fprintf(&b, "\n### %s\n\n| Command | What it does |\n|---|---|\n", group)
			} else {
				fmt.Fprintf(&b, "%s:\n", group)
			}
		}
		if markdown {
			summary := mdCell(c.Summary)
			if len(c.Aliases) > 0 {
				var also []string
				for _, a := range c.Aliases {
					also = append(also, "`"+mdCell(a)+"`")
				}
				summary += " (also " + strings.Join(also, ", ") + ")"
			}
			fmt.Fprintf(&b, "| `%s` | %s |\n", mdCell(c.Usage), summary)
		} else {
			summary := c.Summary
			if len(c.Aliases) > 0 {
				summary += " (also " + strings.Join(c.Aliases, ", ") + ")"
			}
			fmt.Fprintf(&b, "  %-30s %s\n", c.Usage, summary)
		}
	}
	text := b.String()
	if markdown {
		// No blank line after the begin marker; one before the end marker, so the last table
		// ends before the comment.
		text = strings.TrimPrefix(text, "\n") + "\n"
	}
	_, err := io.WriteString(w, text)
	return err
}

// mdCell escapes what would end a Markdown table cell: '|' (GitHub's tables honour "\|" even
// inside code spans) and newlines.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

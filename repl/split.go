package repl

import "strings"

// Piece is one command of a command line, as the command separator rules cut it out.
type Piece struct {
	Text   string // the command without surrounding blanks
	Offset int    // byte offset of Text in the line, so an error caret can point into the echoed line
}

// Split cuts a command line into commands the way cdb does (WINDBG-SPEC §2.3, and the Microsoft
// debugger reference pages for `;`, `$$`, `*`, `as`/`aS`, `$<` and `.echo`, paraphrased here):
//
//   - `;` separates commands; empty commands are dropped.
//   - `$$ text` at the start of a command is a comment that ends at the next `;`.
//   - `* text` at the start of a command comments out the rest of the line, `;` included.
//   - `$<file` and `$><file` take the rest of the line as the file name (it may hold `;`);
//     `$$<`, `$$><` and `$$>a<` end at `;` like other commands.
//   - `as Name text` takes the rest of the line; with /e, /ma, /mu, /msa, /msu or /x it ends at
//     `;`. `aS` ends at `;` unless its phrase is quoted; `as /c` and `aS /c` take the rest of the
//     line (their argument is a command string that may hold `;`).
//   - A quoted string (`"..."`, or `'...'` as the j command uses) that starts a word keeps its
//     `;`: `.echo "a;b"` is one command. A quote inside a word is an ordinary character, as the
//     .echo page says (`.echo a"b;c` is two commands).
//   - A `{ ... }` block (.if, .foreach, .block) keeps its `;`.
//   - `j Expr Command1 ; Command2` takes the rest of the line: both branches are its arguments.
//
// A newline ends a line like the end of the string: a comment or a rest-of-line command stops there.
func Split(line string) []Piece {
	var pieces []Piece
	i := 0
	for i < len(line) {
		c := line[i]
		if c == ' ' || c == '\t' || c == ';' || c == '\n' || c == '\r' {
			i++
			continue
		}
		rest := line[i:]
		var end int // index in line where this command's text ends
		switch {
		case c == '*':
			// Comment line specifier: nothing more runs on this line.
			end = lineEnd(line, i)
			i = end
			continue
		case strings.HasPrefix(rest, "$<") || strings.HasPrefix(rest, "$><"):
			end = lineEnd(line, i)
		case strings.HasPrefix(rest, "$$<") || strings.HasPrefix(rest, "$$><") || strings.HasPrefix(rest, "$$>a<"):
			end = scanCommand(line, i)
		case strings.HasPrefix(rest, "$$"):
			// Comment specifier: skip to the next `;` without looking at quotes.
			end = i
			for end < len(line) && line[end] != ';' && line[end] != '\n' {
				end++
			}
			i = end
			continue
		case isCommandWord(rest, "j") || isCommandWord(rest, "J"):
			// j Expression Command1 ; Command2: both branches belong to j, and anything after
			// them is ignored by cdb, so j takes the rest of the line.
			end = lineEnd(line, i)
		case isAliasCommand(rest, "as"):
			if endsAtSemicolon(aliasSwitch(rest)) {
				end = scanCommand(line, i)
			} else {
				end = lineEnd(line, i)
			}
		case isAliasCommand(rest, "aS"):
			if aliasSwitch(rest) == "/c" {
				end = lineEnd(line, i)
			} else {
				end = scanCommand(line, i)
			}
		default:
			end = scanCommand(line, i)
		}
		if text := strings.TrimRight(line[i:end], " \t\r"); text != "" {
			pieces = append(pieces, Piece{Text: text, Offset: i})
		}
		i = end
	}
	return pieces
}

// scanCommand returns the index of the `;` or newline that ends the command starting at start, or
// len(line). Quoted strings that start a word and brace blocks protect their `;`.
func scanCommand(line string, start int) int {
	var quote byte
	depth := 0
	for j := start; j < len(line); j++ {
		c := line[j]
		if quote != 0 {
			if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '"', '\'':
			if startsWord(line, start, j) {
				quote = c
			}
		case '{':
			depth++
		case '}':
			if depth > 0 {
				depth--
			}
		case ';':
			if depth == 0 {
				return j
			}
		case '\n':
			return j
		}
	}
	return len(line)
}

// startsWord reports whether the character at j begins a word of the command that starts at start.
func startsWord(line string, start, j int) bool {
	if j == start {
		return true
	}
	switch line[j-1] {
	case ' ', '\t', '(', ',', '{':
		return true
	}
	return false
}

// lineEnd is the index of the newline after i, or len(line).
func lineEnd(line string, i int) int {
	if k := strings.IndexByte(line[i:], '\n'); k >= 0 {
		return i + k
	}
	return len(line)
}

// isAliasCommand reports whether rest starts with the alias command name (exact case: `as` and
// `aS` are different commands) followed by a blank or the end.
func isAliasCommand(rest, name string) bool {
	if !strings.HasPrefix(rest, name) {
		return false
	}
	return len(rest) == len(name) || rest[len(name)] == ' ' || rest[len(name)] == '\t'
}

// isCommandWord reports whether rest starts with name followed by a blank, `(` or the end.
func isCommandWord(rest, name string) bool {
	if !strings.HasPrefix(rest, name) {
		return false
	}
	return len(rest) == len(name) || strings.IndexByte(" \t(", rest[len(name)]) >= 0
}

// aliasSwitch returns the lowercased switch (`/x`, `/c`, ...) after as/aS, or "".
func aliasSwitch(rest string) string {
	args := strings.TrimLeft(rest[2:], " \t")
	if !strings.HasPrefix(args, "/") {
		return ""
	}
	if k := strings.IndexAny(args, " \t;\n"); k >= 0 {
		args = args[:k]
	}
	return strings.ToLower(args)
}

// endsAtSemicolon reports whether `as` with this switch ends at `;` rather than taking the line.
func endsAtSemicolon(sw string) bool {
	switch sw {
	case "/e", "/ma", "/mu", "/msa", "/msu", "/x":
		return true
	}
	return false
}

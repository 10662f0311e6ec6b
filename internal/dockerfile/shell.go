package dockerfile

import (
	"slices"
	"strings"
)

// The checks on RUN look at the simple commands of its shell script:
// "apt-get update && apt-get install -y curl; rm -rf /var/lib/apt/lists/*"
// is three commands. This is not a shell: it splits on the control
// operators, removes quotes, and drops redirections, variable assignments
// and wrappers such as sudo, which is all the checks need. Its cost is
// linear in the script's length.

// command is one simple command: its words, unquoted.
type command struct {
	words []string
	// sudo is set when the command was run through sudo (or doas), and
	// wrapper holds those words.
	sudo    bool
	wrapper []string
}

func (c command) String() string {
	return strings.Join(append(slices.Clip(c.wrapper), c.words...), " ")
}

// maxScript bounds what is split; a RUN is at most a Dockerfile (1 MiB).
const maxScript = MaxSize

// maxDepth bounds how deep `sh -c '…'` scripts are followed.
const maxDepth = 3

// commands splits a shell script into simple commands.
func commands(script string) []command {
	return splitScript(script, 0)
}

func splitScript(script string, depth int) []command {
	if len(script) > maxScript {
		script = script[:maxScript]
	}
	var (
		out   []command
		words []string
		word  strings.Builder
		inW   bool // a word is being built (it may be empty: "")
	)
	endWord := func() {
		if inW {
			words = append(words, word.String())
			word.Reset()
			inW = false
		}
	}
	endCmd := func() {
		endWord()
		if len(words) > 0 {
			out = append(out, normalize(words, depth)...)
			words = nil
		}
	}
	for i := 0; i < len(script); i++ {
		c := script[i]
		switch {
		case c == '\\':
			if i+1 < len(script) {
				i++
				if script[i] == '\n' { // a continuation
					continue
				}
				word.WriteByte(script[i])
				inW = true
			}
		case c == '\'':
			j := strings.IndexByte(script[i+1:], '\'')
			if j < 0 {
				j = len(script) - i - 1
			}
			word.WriteString(script[i+1 : i+1+j])
			inW = true
			i += j + 1
		case c == '"':
			inW = true
			for i++; i < len(script) && script[i] != '"'; i++ {
				if script[i] == '\\' && i+1 < len(script) && strings.IndexByte("\"\\$`\n", script[i+1]) >= 0 {
					i++
					if script[i] == '\n' {
						continue
					}
				}
				word.WriteByte(script[i])
			}
		case c == '#' && !inW:
			for i < len(script) && script[i] != '\n' {
				i++
			}
			endCmd()
		case c == ' ' || c == '\t' || c == '\r':
			endWord()
		case c == '&' && (inW && endsRedirect(word.String()) || i+1 < len(script) && script[i+1] == '>'):
			// 2>&1, >&2, &>/dev/null: part of a redirection.
			word.WriteByte(c)
			inW = true
		case c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')':
			endCmd()
		case c == '$' && i+1 < len(script) && script[i+1] == '(':
			// A command substitution: keep it in the word, whole.
			depthP, j := 0, i+1
			for ; j < len(script); j++ {
				if script[j] == '(' {
					depthP++
				} else if script[j] == ')' {
					depthP--
					if depthP == 0 {
						break
					}
				}
			}
			if j >= len(script) {
				j = len(script) - 1
			}
			word.WriteString(script[i : j+1])
			inW = true
			i = j
		default:
			word.WriteByte(c)
			inW = true
		}
	}
	endCmd()
	return out
}

// reserved are the shell words that start a compound command or negate
// one; the command proper follows them.
var reserved = map[string]bool{
	"if": true, "then": true, "else": true, "elif": true, "fi": true, "do": true, "done": true,
	"while": true, "until": true, "!": true, "{": true, "}": true, "time": true, "exec": true,
	"nohup": true, "command": true,
}

// sudoArgFlags are sudo's options that take a value.
var sudoArgFlags = map[string]bool{"-u": true, "-g": true, "-C": true, "-D": true, "-h": true, "-p": true, "-r": true, "-t": true, "-U": true}

// normalize drops what precedes the command (reserved words, variable
// assignments, sudo and env with their options) and redirections, and
// follows `sh -c` scripts.
func normalize(words []string, depth int) []command {
	cmd := command{}
	i := 0
	for i < len(words) {
		w := words[i]
		switch {
		case reserved[w]:
			i++
		case isAssignment(w):
			i++
		case w == "sudo" || w == "doas":
			cmd.sudo = true
			start := i
			i++
			for i < len(words) && strings.HasPrefix(words[i], "-") {
				if sudoArgFlags[words[i]] {
					i++
				}
				i++
			}
			cmd.wrapper = append(cmd.wrapper, words[start:min(i, len(words))]...)
		case w == "env":
			i++
			for i < len(words) && (strings.HasPrefix(words[i], "-") || isAssignment(words[i])) {
				i++
			}
		default:
			goto body
		}
	}
body:
	for ; i < len(words); i++ {
		w := words[i]
		if isRedirection(w) {
			if strings.TrimLeft(w, "0123456789&<>|") == "" {
				i++ // the target is the next word
			}
			continue
		}
		cmd.words = append(cmd.words, w)
	}
	if len(cmd.words) == 0 {
		if cmd.sudo {
			return []command{cmd}
		}
		return nil
	}
	// sh -c 'script', bash -lc "script": the script's commands count.
	if n := shellName(cmd.words[0]); n && depth < maxDepth {
		for j := 1; j < len(cmd.words)-1; j++ {
			f := cmd.words[j]
			if strings.HasPrefix(f, "-") && !strings.HasPrefix(f, "--") && strings.Contains(f, "c") {
				inner := splitScript(cmd.words[j+1], depth+1)
				if cmd.sudo {
					for k := range inner {
						inner[k].sudo = true
						inner[k].wrapper = append(slices.Clip(cmd.wrapper), inner[k].wrapper...)
					}
				}
				return inner
			}
		}
	}
	return []command{cmd}
}

func shellName(w string) bool {
	switch baseName(w) {
	case "sh", "bash", "dash", "ash", "zsh", "ksh":
		return true
	}
	return false
}

func baseName(w string) string {
	if i := strings.LastIndexByte(w, '/'); i >= 0 {
		return w[i+1:]
	}
	return w
}

func endsRedirect(w string) bool {
	return strings.HasSuffix(w, ">") || strings.HasSuffix(w, "<")
}

// isAssignment reports whether w is NAME=value.
func isAssignment(w string) bool {
	eq := strings.IndexByte(w, '=')
	if eq <= 0 {
		return false
	}
	for k := 0; k < eq; k++ {
		c := w[k]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || k > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// isRedirection reports whether w is a redirection operator, with or
// without its target: >, >>, 2>, 2>&1, &>, <, >/dev/null.
func isRedirection(w string) bool {
	t := strings.TrimLeft(w, "0123456789")
	return strings.HasPrefix(t, ">") || strings.HasPrefix(t, "<") || strings.HasPrefix(t, "&>")
}

package commands

import (
	"context"
	"strings"
	"testing"
)

func TestRegister(t *testing.T) {
	echo := func(text string) Handler {
		return func(ctx context.Context, s *Session, args string) (Result, error) { return Text(text + args), nil }
	}
	c1 := &Command{Name: "!regtest", Summary: "test", Run: echo("one ")}
	if err := Register(c1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i, c := range table {
			if registered[c] && strings.EqualFold(c.Name, "!regtest") {
				table = append(table[:i], table[i+1:]...)
				delete(registered, c)
				break
			}
		}
	})
	c, args, ok := Lookup("!regtest x")
	if !ok || c != c1 || args != "x" || c.Group != "Scripts" {
		t.Fatalf("Lookup after Register: %v %q %v", c, args, ok)
	}
	found := false
	for _, n := range Names() {
		found = found || n == "!regtest"
	}
	if !found {
		t.Error("Names (completion) does not list the registered command")
	}
	// A second registration of the same name replaces the first.
	c2 := &Command{Name: "!REGTEST", Run: echo("two ")}
	if err := Register(c2); err != nil {
		t.Fatal(err)
	}
	if c, _, _ := Lookup("!regtest"); c != c2 {
		t.Error("re-registering did not replace the command")
	}
	n := 0
	for _, c := range Table() {
		if strings.EqualFold(c.Name, "!regtest") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d entries named !regtest", n)
	}
	// Built-in commands cannot be taken over, and bad entries are refused.
	for _, bad := range []*Command{
		{Name: "k", Run: echo("")}, {Name: "!x2", Aliases: []string{"lm"}, Run: echo("")},
		{Name: "", Run: echo("")}, {Name: "!a b", Run: echo("")}, {Name: "!nohandler"}, nil,
	} {
		if err := Register(bad); err == nil {
			t.Errorf("Register(%+v) accepted", bad)
		}
	}
	if c, _, _ := Lookup("k"); c == nil || registered[c] {
		t.Error("k was replaced")
	}
}

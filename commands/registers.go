package commands

// registerCommands: entries are added by this family's file.
var registerCommands = []*Command{}

package commands

// evalCommands: entries are added by this family's file.
var evalCommands = []*Command{}

package commands

// moduleCommands: entries are added by this family's file.
var moduleCommands = []*Command{}

package commands

// targetCommands: entries are added by this family's file.
var targetCommands = []*Command{}

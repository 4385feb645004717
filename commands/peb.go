package commands

// pebCommands: entries are added by this family's file.
var pebCommands = []*Command{}

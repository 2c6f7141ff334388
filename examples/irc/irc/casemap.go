package irc

import "strings"

// rfc1459 folds case as RFC 1459 says servers do: besides ASCII letters,
// {}|^ are the lower case of []\~.
var rfc1459 = strings.NewReplacer("[", "{", "]", "}", "\\", "|", "~", "^")

// Fold returns the form of a nickname or channel name that compares
// equal for names the server takes as the same.
func Fold(name string) string {
	return rfc1459.Replace(strings.ToLower(name))
}

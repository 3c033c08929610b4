package user

import (
	_ "embed"
	"strings"
	"sync"
)

//go:embed common_passwords.txt
var commonPasswordList string

// commonPasswords is the parsed list, built on first use.
var commonPasswords = sync.OnceValue(func() map[string]bool {
	set := map[string]bool{}
	for _, line := range strings.Split(commonPasswordList, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			set[strings.ToLower(line)] = true
		}
	}
	return set
})

// weakPassword reports a password an attacker tries first: a common one, the username, or
// one character repeated.
func weakPassword(username, password string) bool {
	lower := strings.ToLower(password)
	if commonPasswords()[lower] || lower == strings.ToLower(username) {
		return true
	}
	return strings.Count(password, password[:1]) == len(password)
}

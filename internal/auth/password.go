package auth

import (
	"golang.org/x/crypto/bcrypt"
)

// PasswordCost is the bcrypt cost of new hashes: about 0.23 s of one core per hash or login
// check on the 2-core test box (cost 10 took 0.06 s), so a leaked hash costs 4x as much to
// attack. Hashes of an older cost keep working.
const PasswordCost = 12

// HashPassword returns the bcrypt hash of password at cost (0: PasswordCost).
func HashPassword(password string, cost int) (string, error) {
	if cost == 0 {
		cost = PasswordCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	return string(h), err
}

// dummyHash is compared against when the user does not exist, so a login for an unknown
// user costs as much as one with a wrong password and timing reveals nothing. Its cost is
// PasswordCost.
const dummyHash = "$2a$12$Jvck73I2AeakQlj0Z.PGEOYKdzC0/cLDwfvtuceC0i27rl8s5gGuq"

// CheckPassword reports whether password matches hash; an empty hash (unknown user) is
// checked against a dummy so both failures take the same time.
func CheckPassword(hash, password string) bool {
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword([]byte(dummyHash), []byte(password))
		return false
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
	return err == nil
}

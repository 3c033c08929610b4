package auth

import (
	"golang.org/x/crypto/bcrypt"
)

// HashPassword returns the bcrypt hash of password.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(h), err
}

// dummyHash is compared against when the user does not exist, so a login for an unknown
// user costs as much as one with a wrong password and timing reveals nothing.
const dummyHash = "$2a$10$Y/C9LsfLJqseCANNow7lbOIkTh1RRGONA0m2ff.mnU6UsW/HZPuci"

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

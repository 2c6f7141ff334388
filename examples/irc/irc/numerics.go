package irc

// The replies this package acts on (RFC 2812, section 5).
const (
	RplWelcome          = "001"
	RplEndOfNames       = "366"
	ErrNoNicknameGiven  = "431"
	ErrErroneusNickname = "432"
	ErrNicknameInUse    = "433"
	ErrNickCollision    = "436"
	ErrPasswdMismatch   = "464"
	ErrYoureBannedCreep = "465"
)

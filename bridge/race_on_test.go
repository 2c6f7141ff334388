//go:build race

package bridge

// raceEnabled: the tests are built with -race.
const raceEnabled = true

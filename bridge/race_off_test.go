//go:build !race && !js && !wasip1

package bridge

// raceEnabled: the tests are built with -race.
const raceEnabled = false

// Command mqtt is an MQTT client in WebAssembly, built on
// github.com/eclipse/paho.mqtt.golang: it connects to a broker through a
// wasmnet bridge, subscribes to a topic, publishes a message to another,
// prints what arrives on the subscription until enough has, and
// disconnects.
//
// The same program runs in a web page (GOOS=js, see index.html), under
// Node.js (GOOS=js), headless in wazero (GOOS=wasip1, package wasm/host),
// and natively. paho takes its connection from a function we give it
// (ClientOptions.SetCustomOpenConnectionFn), which calls wasmnet's Dial;
// the MQTT code is paho's, unchanged.
//
// Every string flag can also be given in the environment (MQTT_BROKER and
// so on, listed by -h); the password is best passed that way.
package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"time"

	"github.com/wasmnet/wasmnet/examples/internal/cli"
)

// config is what one run does.
type config struct {
	broker    string // host:port, or tcp://host:port
	clientID  string // empty: paho's default, which brokers fill in
	user      string
	password  string
	subscribe string // topic filter to listen on; empty: none
	publish   string // topic to publish to; empty: none
	message   string
	qos       int
	count     int // messages to wait for on the subscription
	timeout   time.Duration
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		cli.Usage("mqtt", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		cli.Fail("mqtt", err)
	}
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("mqtt", flag.ContinueOnError)
	var cfg config
	cli.StringVar(fs, &cfg.broker, "broker", "MQTT_BROKER", "", "broker, host:port or tcp://host:port")
	cli.StringVar(fs, &cfg.clientID, "client-id", "MQTT_CLIENT_ID", "", "client identifier; empty lets the broker choose")
	cli.StringVar(fs, &cfg.user, "user", "MQTT_USER", "", "user name; empty sends none")
	cli.StringVar(fs, &cfg.password, "password", "MQTT_PASSWORD", "", "password")
	cli.StringVar(fs, &cfg.subscribe, "subscribe", "MQTT_SUBSCRIBE", "wasmnet/replies", "topic filter to subscribe to; empty subscribes to nothing")
	cli.StringVar(fs, &cfg.publish, "publish", "MQTT_PUBLISH", "wasmnet/hello", "topic to publish to; empty publishes nothing")
	cli.StringVar(fs, &cfg.message, "message", "MQTT_MESSAGE", "Hello from Go inside WebAssembly, through wasmnet!", "message to publish")
	fs.IntVar(&cfg.qos, "qos", 1, "quality of service for the subscription and the message: 0, 1 or 2")
	fs.IntVar(&cfg.count, "count", 1, "messages to wait for on the subscription before disconnecting")
	fs.DurationVar(&cfg.timeout, "timeout", 2*time.Minute, "bound on the whole run")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	switch {
	case cfg.broker == "":
		return cfg, errors.New("-broker is required")
	case cfg.qos < 0 || cfg.qos > 2:
		return cfg, errors.New("-qos must be 0, 1 or 2")
	case cfg.subscribe == "":
		cfg.count = 0
	}
	return cfg, nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// dial is paho's way to open a connection, given to it through
// ClientOptions.SetCustomOpenConnectionFn: the broker's socket comes from
// wasmnet ($WASMNET_BRIDGE, or /wisp/ on the page's origin).
func dial(broker *url.URL, opts mqtt.ClientOptions) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opts.ConnectTimeout)
	defer cancel()
	return wasmnet.DialContext(ctx, "tcp", broker.Host)
}

// run is the whole session, reported line by line on out.
func run(ctx context.Context, cfg config, out io.Writer) error {
	broker := cfg.broker
	if !strings.Contains(broker, "://") {
		broker = "tcp://" + broker
	}
	lost := make(chan error, 1)
	opts := mqtt.NewClientOptions().
		AddBroker(broker).
		SetClientID(cfg.clientID).
		SetUsername(cfg.user).
		SetPassword(cfg.password).
		SetCustomOpenConnectionFn(dial).
		// MQTT 3.1.1. Left at 0, paho retries a refused CONNECT with
		// MQTT 3.1, and reports that refusal instead of the first.
		SetProtocolVersion(4).
		SetConnectTimeout(30 * time.Second).
		// One run, start to end: a lost connection ends it with an error
		// rather than a reconnect.
		SetAutoReconnect(false).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) { lost <- err })
	c := mqtt.NewClient(opts)
	if err := wait(ctx, c.Connect()); err != nil {
		return fmt.Errorf("connecting to %s: %w", broker, err)
	}
	defer c.Disconnect(250)
	fmt.Fprintf(out, "connected to %s through the bridge\n", broker)

	// Buffered beyond count, so that paho's delivery never blocks on us.
	received := make(chan mqtt.Message, cfg.count+16)
	if cfg.subscribe != "" {
		if err := wait(ctx, c.Subscribe(cfg.subscribe, byte(cfg.qos), func(_ mqtt.Client, m mqtt.Message) {
			select {
			case received <- m:
			default:
			}
		})); err != nil {
			return fmt.Errorf("subscribing to %s: %w", cfg.subscribe, err)
		}
		fmt.Fprintf(out, "subscribed to %s (QoS %d)\n", cfg.subscribe, cfg.qos)
	}
	if cfg.publish != "" {
		if err := wait(ctx, c.Publish(cfg.publish, byte(cfg.qos), false, cfg.message)); err != nil {
			return fmt.Errorf("publishing to %s: %w", cfg.publish, err)
		}
		fmt.Fprintf(out, "published to %s: %s\n", cfg.publish, cfg.message)
	}
	for range cfg.count {
		select {
		case m := <-received:
			fmt.Fprintf(out, "received on %s: %s\n", m.Topic(), m.Payload())
		case err := <-lost:
			return fmt.Errorf("connection lost: %w", err)
		case <-ctx.Done():
			return fmt.Errorf("waiting for messages on %s: %w", cfg.subscribe, ctx.Err())
		}
	}
	fmt.Fprintln(out, "done")
	return nil
}

// wait waits for a paho token within ctx.
func wait(ctx context.Context, tok mqtt.Token) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

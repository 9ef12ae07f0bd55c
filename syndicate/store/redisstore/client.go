package redisstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClientOptions say how to reach Redis: one node by URL, Sentinel by
// MasterName and Addrs, or Cluster by Addrs alone.
type ClientOptions struct {
	// URL is redis://[user:password@]host:port/db or rediss://… for one
	// node. With Addrs it only supplies the user, password, database and
	// TLS.
	URL string
	// Addrs are the Sentinel servers when MasterName is set, else the
	// Cluster seed nodes.
	Addrs      []string
	MasterName string
	// Username and Password override the ones in URL.
	Username string
	Password string
	// SentinelPassword authenticates to the Sentinel servers themselves.
	SentinelPassword string
	// TLS turns TLS on (rediss:// in URL does too).
	TLS bool
	// DialTimeout bounds connecting; ReadTimeout bounds each command
	// (writes too). Zero keeps the client's defaults.
	DialTimeout time.Duration
	ReadTimeout time.Duration
}

// NewClient builds the client that o describes. Its errors never contain
// the password.
func NewClient(o ClientOptions) (redis.UniversalClient, error) {
	base := &redis.Options{}
	if o.URL != "" {
		parsed, err := redis.ParseURL(o.URL)
		if err != nil {
			return nil, urlError(o.URL, err)
		}
		base = parsed
	}
	if o.Username != "" {
		base.Username = o.Username
	}
	if o.Password != "" {
		base.Password = o.Password
	}
	if o.DialTimeout > 0 {
		base.DialTimeout = o.DialTimeout
	}
	if o.ReadTimeout > 0 {
		base.ReadTimeout = o.ReadTimeout
		base.WriteTimeout = o.ReadTimeout
	}
	if o.TLS && base.TLSConfig == nil {
		base.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	switch {
	case o.MasterName != "":
		if len(o.Addrs) == 0 {
			return nil, errors.New("redis client: sentinel master name without sentinel addresses")
		}
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName:       o.MasterName,
			SentinelAddrs:    o.Addrs,
			SentinelPassword: o.SentinelPassword,
			Username:         base.Username,
			Password:         base.Password,
			DB:               base.DB,
			TLSConfig:        base.TLSConfig,
			DialTimeout:      base.DialTimeout,
			ReadTimeout:      base.ReadTimeout,
			WriteTimeout:     base.WriteTimeout,
		}), nil
	case len(o.Addrs) > 0:
		if base.DB != 0 {
			return nil, fmt.Errorf("redis client: cluster has no database %d (URL %s)", base.DB, redactURL(o.URL))
		}
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:        o.Addrs,
			Username:     base.Username,
			Password:     base.Password,
			TLSConfig:    base.TLSConfig,
			DialTimeout:  base.DialTimeout,
			ReadTimeout:  base.ReadTimeout,
			WriteTimeout: base.WriteTimeout,
		}), nil
	case o.URL != "":
		return redis.NewClient(base), nil
	}
	return nil, errors.New("redis client: neither a URL nor addresses")
}

// urlError describes a bad URL without its password. When the URL does
// not parse, the reason is withheld too: url.Parse quotes pieces of the
// URL, which may be pieces of the password.
func urlError(raw string, err error) error {
	u, perr := url.Parse(raw)
	if perr != nil {
		return errors.New("redis client: URL does not parse as redis://[user:password@]host:port/db (details withheld: they may contain the password)")
	}
	msg := err.Error()
	if pw, ok := u.User.Password(); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	return fmt.Errorf("redis client: URL %s: %s", u.Redacted(), msg)
}

// redactURL hides the password; a URL that does not parse is not shown.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

package appclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// StateVersion is the version of the state file format.
const StateVersion = 1

// ErrState is returned, wrapped, for state that cannot be loaded.
var ErrState = errors.New("invalid device state")

type stateJSON struct {
	Version   int       `json:"version"`
	Server    string    `json:"server"`
	DeviceID  string    `json:"device_id"`
	DeviceKey string    `json:"device_key"` // raw 32-byte scalar, base64url
	Secret    string    `json:"secret"`     // 32 bytes, base64url
	KDF       KDFParams `json:"kdf"`
}

// MarshalState returns the device state as indented JSON. It contains the
// device's private key and secret: store it only where nobody else can read it
// (WriteStateFile uses mode 0600).
func (d *Device) MarshalState() ([]byte, error) {
	scalar, err := d.key.Bytes()
	if err != nil {
		return nil, fmt.Errorf("marshal state: %w", err)
	}
	b, err := json.MarshalIndent(stateJSON{
		Version:   StateVersion,
		Server:    d.Server,
		DeviceID:  d.ID,
		DeviceKey: B64(scalar),
		Secret:    B64(d.secret[:]),
		KDF:       d.KDF,
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal state: %w", err)
	}
	return append(b, '\n'), nil
}

// LoadState parses state written by MarshalState. Unknown members, another
// version, a key that is not a P-256 scalar, a secret that is not 32 bytes and
// invalid KDF parameters are errors wrapping ErrState.
func LoadState(b []byte) (*Device, error) {
	var s stateJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrState, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", ErrState)
	}
	if s.Version != StateVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrState, s.Version, StateVersion)
	}
	scalar, err := UnB64(s.DeviceKey)
	if err != nil {
		return nil, fmt.Errorf("%w: device_key: %v", ErrState, err)
	}
	secret, err := UnB64(s.Secret)
	if err != nil {
		return nil, fmt.Errorf("%w: secret: %v", ErrState, err)
	}
	d, err := newDevice(scalar, secret, s.KDF)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrState, err)
	}
	d.ID, d.Server = s.DeviceID, s.Server
	return d, nil
}

// WriteStateFile writes the state to path with WritePrivateFile.
func (d *Device) WriteStateFile(path string) error {
	b, err := d.MarshalState()
	if err != nil {
		return err
	}
	return WritePrivateFile(path, b)
}

// WritePrivateFile writes b to path with mode 0600, through a temporary file
// in the same directory and a rename, so a crash leaves either the old or the
// new content.
func WritePrivateFile(path string, b []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// ReadStateFile reads and parses a state file written by WriteStateFile.
func ReadStateFile(path string) (*Device, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	d, err := LoadState(b)
	if err != nil {
		return nil, fmt.Errorf("read state %s: %w", path, err)
	}
	return d, nil
}

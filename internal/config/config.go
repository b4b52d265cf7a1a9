// Package config reads Pforte's configuration: the defaults, a YAML file,
// PFORTE_* environment variables and command-line flags, in rising
// precedence, validated at once with every problem named together; and maps
// it onto the configurations of the node and its services, reading the
// files it names (keys, pepper, secrets). The README's Configuration
// section lists every key. The binary's commands (cmd/pforte) are its only users.
package config

import (
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pforte/pforte/appclient"
	"github.com/pforte/pforte/internal/access"
	"github.com/pforte/pforte/internal/approval"
	"github.com/pforte/pforte/internal/audit"
	"github.com/pforte/pforte/internal/egk"
	"github.com/pforte/pforte/internal/maintenance"
	"github.com/pforte/pforte/internal/oidc"
	"github.com/pforte/pforte/internal/password"
	"github.com/pforte/pforte/internal/seal"
	"github.com/pforte/pforte/internal/server"
	"github.com/pforte/pforte/internal/signkey"
	"github.com/pforte/pforte/internal/store/sqlstore"
)

// Config is Pforte's whole configuration. It is read once, here, from (in rising
// precedence) the defaults, a YAML file (--config), PFORTE_* environment
// variables and command-line flags, and validated at once: every problem is
// reported together. the README's Configuration section lists every key.
type Config struct {
	// Database is sqlite:PATH or a postgres:// URL.
	Database string `yaml:"database"`
	SQLite   struct {
		// Synchronous is "full" (every commit synced) or "normal" (WAL
		// commits synced at checkpoints; see docs/operations.md).
		Synchronous string `yaml:"synchronous"`
		// MinFreeMB is the free space (MiB) the database's file system
		// must keep for the node to report ready (sqlstore.Options).
		MinFreeMB int64 `yaml:"min_free_mb"`
	} `yaml:"sqlite"`
	Log struct {
		Level  string `yaml:"level"`  // debug, info, warn, error
		Format string `yaml:"format"` // json or text
	} `yaml:"log"`
	HTTP struct {
		Listen            string        `yaml:"listen"`
		MaxBodyBytes      int64         `yaml:"max_body_bytes"`
		ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
		ReadTimeout       time.Duration `yaml:"read_timeout"`
		WriteTimeout      time.Duration `yaml:"write_timeout"`
		IdleTimeout       time.Duration `yaml:"idle_timeout"`
		ShutdownTimeout   time.Duration `yaml:"shutdown_timeout"`
		// LoginRatePerIP and LoginBurstPerIP bound login attempts and
		// access requests per client IP (token bucket, in memory per node).
		LoginRatePerIP  float64 `yaml:"login_rate_per_ip"`
		LoginBurstPerIP int     `yaml:"login_burst_per_ip"`
	} `yaml:"http"`
	// DataKeys seal sensitive fields at rest: "id:base64key[,id:base64key…]",
	// the first is current. Prefer DataKeysFile or PFORTE_DATA_KEYS over
	// writing keys into the YAML file.
	DataKeys     string `yaml:"data_keys" secret:"true"`
	DataKeysFile string `yaml:"data_keys_file"`
	Registry     struct {
		AllowInvalidKVNR bool `yaml:"allow_invalid_kvnr"`
		BatchSize        int  `yaml:"batch_size"`
	} `yaml:"registry"`
	// PublicURL is the portal's address as insured persons reach it; it is
	// printed into letters (the QR code's activation URL).
	PublicURL string `yaml:"public_url"`
	Insurer   struct {
		Name       string `yaml:"name"`
		Street     string `yaml:"street"`
		PostalCity string `yaml:"postal_city"`
		Phone      string `yaml:"phone"`
		Web        string `yaml:"web"`
	} `yaml:"insurer"`
	Password struct {
		MemoryKiB     int    `yaml:"memory_kib"`
		Time          int    `yaml:"time"`
		Threads       int    `yaml:"threads"`
		MaxConcurrent int    `yaml:"max_concurrent"`
		MinLength     int    `yaml:"min_length"`
		PepperFile    string `yaml:"pepper_file"`
		// MaxChangesPerDay bounds password changes per account and day.
		MaxChangesPerDay int `yaml:"max_changes_per_day"`
	} `yaml:"password"`
	Letters struct {
		PersonLimit int `yaml:"person_limit"`
		DailyCap    int `yaml:"daily_cap"`
		// NoticeDailyCap is the notices' own daily budget of letters.
		NoticeDailyCap int `yaml:"notice_daily_cap"`
		// DeliveryDays is how many working days a letter usually takes
		// to arrive (the assistant tells people so).
		DeliveryDays int `yaml:"delivery_days"`
		// IntakeLimit is how many reset requests may wait in the
		// intake for the worker; more get 503.
		IntakeLimit int `yaml:"intake_limit"`
	} `yaml:"letters"`
	Device struct {
		MaxDevices int `yaml:"max_devices"`
		PINLimit   int `yaml:"pin_limit"`
		// The weakest Argon2id parameters a new PIN key may have.
		KDFMinTime   int `yaml:"kdf_min_time"`
		KDFMinMemory int `yaml:"kdf_min_memory"` // KiB
	} `yaml:"device"`
	Approvals struct {
		TTL              time.Duration `yaml:"ttl"`
		MaxPendingLogins int           `yaml:"max_pending_logins"`
		// Policy maps actions to the level they need and whether a device
		// approval is needed (YAML only); missing actions keep the defaults.
		Policy approval.Policy `yaml:"policy"`
	} `yaml:"approvals"`
	// Maintenance says how often every node sweeps and how long expired rows
	// stay (package maintenance).
	Maintenance struct {
		ExpireEvery time.Duration `yaml:"expire_every"`
		CleanEvery  time.Duration `yaml:"clean_every"`
		Retention   time.Duration `yaml:"retention"`
	} `yaml:"maintenance"`
	Outbox struct {
		// ClientTokenFile holds the bearer token the core system uses to
		// read GET /api/v1/outbox; without it the outbox is closed.
		ClientTokenFile string `yaml:"client_token_file"`
	} `yaml:"outbox"`
	// OIDC configures Pforte as the insurer's OpenID provider; without
	// clients it is off. Clients are YAML only.
	OIDC struct {
		// SubjectKey keys the subject identifiers (base64 of at least 32
		// bytes; `pforte keygen --subject` makes one). Never change it:
		// every sub would change. Prefer SubjectKeyFile or PFORTE_OIDC_SUBJECT_KEY.
		SubjectKey     string              `yaml:"subject_key" secret:"true"`
		SubjectKeyFile string              `yaml:"subject_key_file"`
		CodeTTL        time.Duration       `yaml:"code_ttl"`
		AccessTTL      time.Duration       `yaml:"access_ttl"`
		LoginTTL       time.Duration       `yaml:"login_ttl"`
		PollInterval   time.Duration       `yaml:"poll_interval"`
		Clients        []oidc.ClientConfig `yaml:"clients"`
	} `yaml:"oidc"`
	// SigningKeys sets the rotation of the token signing keys.
	SigningKeys struct {
		Lifetime time.Duration `yaml:"lifetime"`
		Overlap  time.Duration `yaml:"overlap"`
	} `yaml:"signing_keys"`
	// EID configures the identification partner (OpenID Connect). Without an
	// issuer, identification with the eID card is not offered.
	EID struct {
		Issuer           string `yaml:"issuer"`
		ClientID         string `yaml:"client_id"`
		ClientSecret     string `yaml:"client_secret" secret:"true"`
		ClientSecretFile string `yaml:"client_secret_file"`
	} `yaml:"eid"`
	// EGK configures binding a phone with the health card (eGK): the CA
	// certificates that issue the insurer's cards (files, PEM or DER) and
	// where their revocation is learned. Without trust anchors it is off.
	EGK struct {
		TrustAnchors []string      `yaml:"trust_anchors"`
		OCSPURL      string        `yaml:"ocsp_url"`
		CRLFile      string        `yaml:"crl_file"`
		OCSPMaxAge   time.Duration `yaml:"ocsp_max_age"`
	} `yaml:"egk"`
	// Audit keys the audit trail and publishes checkpoints of it
	// (docs/operations.md). The key (base64 of at least 32 bytes, `pforte
	// keygen --audit`) never goes into the database; prefer KeyFile.
	Audit struct {
		Key                string        `yaml:"key" secret:"true"`
		KeyFile            string        `yaml:"key_file"`
		CheckpointFile     string        `yaml:"checkpoint_file"`
		CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	} `yaml:"audit"`
	// Assistant configures the FAQ assistant (assistantcmd.go).
	Assistant AssistantSettings `yaml:"assistant"`
	// Backoffice configures the staff's back office (backoffice.go).
	Backoffice BackofficeSettings `yaml:"backoffice"`
	// Mailbox configures the Online-Postfach (mailbox.go).
	Mailbox MailboxSettings `yaml:"mailbox"`
	// Mail configures the SMTP relay for notices by e-mail (mail.go).
	Mail MailSettings `yaml:"mail"`
}

// Default returns the documented defaults.
func Default() Config {
	var c Config
	c.Database = "sqlite:./pforte-data/pforte.db"
	c.SQLite.Synchronous = "full"
	c.SQLite.MinFreeMB = sqlstore.DefaultMinFreeBytes >> 20
	c.Log.Level = "info"
	c.Log.Format = "json"
	c.HTTP.Listen = "127.0.0.1:8080"
	c.HTTP.MaxBodyBytes = 1 << 20
	c.HTTP.ReadHeaderTimeout = 5 * time.Second
	c.HTTP.ReadTimeout = 15 * time.Second
	c.HTTP.WriteTimeout = 30 * time.Second
	c.HTTP.IdleTimeout = 120 * time.Second
	c.HTTP.ShutdownTimeout = 15 * time.Second
	c.HTTP.LoginRatePerIP = 1
	c.HTTP.LoginBurstPerIP = 10
	c.Registry.BatchSize = 10000
	c.PublicURL = "http://127.0.0.1:8080"
	c.Insurer.Name = "Beispiel-Krankenkasse"
	c.Insurer.Street = "Musterstraße 1"
	c.Insurer.PostalCity = "12345 Musterstadt"
	c.Insurer.Phone = "0800 000 000"
	c.Insurer.Web = "www.beispiel-kasse.de"
	p := password.DefaultParams()
	c.Password.MemoryKiB, c.Password.Time, c.Password.Threads = int(p.Memory), int(p.Time), int(p.Threads)
	c.Password.MinLength = password.DefaultMinLength
	c.Approvals.TTL = 5 * time.Minute
	c.Approvals.MaxPendingLogins = 3
	c.Device.MaxDevices = 3
	c.Device.PINLimit = 3
	c.Device.KDFMinTime = appclient.MinKDFTime
	c.Device.KDFMinMemory = appclient.MinKDFMemory
	c.Letters.PersonLimit = 3
	c.Letters.DailyCap = 2000
	c.Letters.NoticeDailyCap = 20000
	c.Letters.DeliveryDays = 5
	c.Letters.IntakeLimit = access.DefaultIntakeLimit
	c.Assistant = defaultAssistant()
	c.Backoffice = defaultBackoffice()
	c.Mailbox = defaultMailbox()
	c.Mail = defaultMail()
	c.Password.MaxChangesPerDay = 5
	c.Audit.CheckpointInterval = time.Minute
	return c
}

// Needs names the parts of the configuration a command uses; only those are
// required to be complete.
type Needs struct {
	Keys  bool // data keys to seal and open sensitive fields
	Audit bool // the audit key, to write or verify the audit trail
	HTTP  bool
}

// Error is an invalid configuration; the command exits with code 2.
type Error struct{ Problems []string }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p)
	}
	return b.String()
}

// setting is one configuration key reachable from YAML, environment and flags.
type setting struct {
	key    string // dotted YAML path, e.g. "http.listen"
	env    string // PFORTE_HTTP_LISTEN
	field  reflect.Value
	secret bool
}

// settings enumerates the leaves of c in declaration order.
func settings(c *Config) []setting {
	var out []setting
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("yaml"), ",")[0]
			key := name
			if prefix != "" {
				key = prefix + "." + name
			}
			if f.Type.Kind() == reflect.Struct {
				walk(v.Field(i), key)
				continue
			}
			out = append(out, setting{
				key:    key,
				env:    "PFORTE_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_")),
				field:  v.Field(i),
				secret: f.Tag.Get("secret") == "true",
			})
		}
	}
	walk(reflect.ValueOf(c).Elem(), "")
	return out
}

// set parses raw into the setting's field.
func (s setting) set(raw string) error {
	switch s.field.Interface().(type) {
	case string:
		s.field.SetString(raw)
	case bool:
		v, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("%s: want true or false", s.key)
		}
		s.field.SetBool(v)
	case int, int64:
		v, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("%s: want a whole number", s.key)
		}
		s.field.SetInt(v)
	case float64:
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s: want a number such as 1 or 0.5", s.key)
		}
		s.field.SetFloat(v)
	case []string:
		var list []string
		for _, item := range strings.Split(raw, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		s.field.Set(reflect.ValueOf(list))
	case time.Duration:
		v, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("%s: want a duration such as 15s or 2m", s.key)
		}
		s.field.SetInt(int64(v))
	default:
		return fmt.Errorf("%s: unsupported type", s.key)
	}
	return nil
}

// Flags registers the flags every command shares on fs and returns a
// function that applies those the user set.
type Flags struct {
	fs       *flag.FlagSet
	file     *string
	database *string
	extra    map[string]*string // setting key -> flag value
	switches map[string]*bool   // setting key -> boolean flag
}

func NewFlags(fs *flag.FlagSet) *Flags {
	return &Flags{
		fs:       fs,
		file:     fs.String("config", "", "YAML configuration `file`"),
		database: fs.String("database", "", "database: sqlite:PATH or postgres://… (default sqlite:./pforte-data/pforte.db)"),
		extra:    map[string]*string{},
		switches: map[string]*bool{},
	}
}

// Flag adds a flag bound to the setting with the given key.
func (cf *Flags) Flag(name, key, usage string) {
	cf.extra[key] = cf.fs.String(name, "", usage)
}

// BoolFlag adds a boolean flag that, when given, sets the setting to true.
func (cf *Flags) BoolFlag(name, key, usage string) {
	cf.switches[key] = cf.fs.Bool(name, false, usage)
}

// Load builds the configuration: defaults, then the YAML file, then the
// environment, then flags; then validates what the command Needs.
func (cf *Flags) Load(environ []string, need Needs) (Config, error) {
	c := Default()
	var problems []string
	if *cf.file != "" {
		raw, err := os.ReadFile(*cf.file)
		if err != nil {
			problems = append(problems, fmt.Sprintf("config file: %v", err))
		} else {
			dec := yaml.NewDecoder(bytes.NewReader(raw))
			dec.KnownFields(true)
			if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
				problems = append(problems, fmt.Sprintf("config file %s: %v", *cf.file, err))
			}
		}
	}
	byEnv := map[string]setting{}
	byKey := map[string]setting{}
	for _, s := range settings(&c) {
		byEnv[s.env] = s
		byKey[s.key] = s
	}
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "PFORTE_") || strings.HasPrefix(name, "PFORTE_TEST_") {
			continue
		}
		s, ok := byEnv[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("environment: unknown variable %s", name))
			continue
		}
		if err := s.set(value); err != nil {
			problems = append(problems, "environment "+name+": "+err.Error())
		}
	}
	if *cf.database != "" {
		c.Database = *cf.database
	}
	keys := make([]string, 0, len(cf.extra))
	for k := range cf.extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if v := *cf.extra[k]; v != "" {
			if err := byKey[k].set(v); err != nil {
				problems = append(problems, "flag: "+err.Error())
			}
		}
	}
	for key, on := range cf.switches {
		if *on {
			_ = byKey[key].set("true")
		}
	}
	problems = append(problems, c.Validate(need)...)
	if len(problems) > 0 {
		return c, &Error{Problems: problems}
	}
	return c, nil
}

// Validate returns every problem of the configuration.
func (c *Config) Validate(need Needs) []string {
	var p []string
	if _, _, err := sqlstore.ParseDSN(c.Database); err != nil {
		p = append(p, "database: "+strings.TrimPrefix(err.Error(), "sqlstore: "))
	}
	if c.SQLite.Synchronous != "full" && c.SQLite.Synchronous != "normal" {
		p = append(p, fmt.Sprintf("sqlite.synchronous: %q is not full or normal", c.SQLite.Synchronous))
	}
	if c.SQLite.MinFreeMB < 1 || c.SQLite.MinFreeMB > 1<<20 {
		p = append(p, fmt.Sprintf("sqlite.min_free_mb: %d is not between 1 and 1048576", c.SQLite.MinFreeMB))
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		p = append(p, fmt.Sprintf("log.level: %q is not one of debug, info, warn, error", c.Log.Level))
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		p = append(p, fmt.Sprintf("log.format: %q is not json or text", c.Log.Format))
	}
	if need.HTTP {
		if _, port, err := net.SplitHostPort(c.HTTP.Listen); err != nil || port == "" {
			p = append(p, fmt.Sprintf("http.listen: %q is not host:port", c.HTTP.Listen))
		}
		for _, err := range c.ServerConfig().Validate() {
			p = append(p, "http: "+err.Error())
		}
		if !(c.HTTP.LoginRatePerIP > 0) || math.IsInf(c.HTTP.LoginRatePerIP, 0) {
			p = append(p, fmt.Sprintf("http.login_rate_per_ip: %v is not a positive number", c.HTTP.LoginRatePerIP))
		}
		if c.HTTP.LoginBurstPerIP < 1 {
			p = append(p, fmt.Sprintf("http.login_burst_per_ip: %d is not at least 1", c.HTTP.LoginBurstPerIP))
		}
	}
	if c.Registry.BatchSize < 1 || c.Registry.BatchSize > 50000 {
		p = append(p, fmt.Sprintf("registry.batch_size: %d is not between 1 and 50000", c.Registry.BatchSize))
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		p = append(p, fmt.Sprintf("public_url: %q is not an http(s) URL", c.PublicURL))
	}
	if c.Insurer.Name == "" || c.Insurer.Phone == "" {
		p = append(p, "insurer.name and insurer.phone: required (they are printed on every letter)")
	}
	if _, err := c.HasherParams(); err != nil {
		p = append(p, err.Error())
	}
	for _, err := range (password.Policy{MinLength: c.Password.MinLength, InsurerName: c.Insurer.Name}).Validate() {
		p = append(p, "password: "+err.Error())
	}
	if c.Device.PINLimit < 1 || c.Device.PINLimit > 5 {
		p = append(p, fmt.Sprintf("device.pin_limit: %d is not between 1 and 5", c.Device.PINLimit))
	}
	if c.Device.MaxDevices < 1 || c.Device.MaxDevices > 10 {
		p = append(p, fmt.Sprintf("device.max_devices: %d is not between 1 and 10", c.Device.MaxDevices))
	}
	if c.Device.KDFMinTime < appclient.MinKDFTime || c.Device.KDFMinTime > appclient.MaxKDFTime {
		p = append(p, fmt.Sprintf("device.kdf_min_time: %d is not between %d and %d", c.Device.KDFMinTime, appclient.MinKDFTime, appclient.MaxKDFTime))
	}
	if c.Device.KDFMinMemory < appclient.MinKDFMemory || c.Device.KDFMinMemory > appclient.MaxKDFMemory {
		p = append(p, fmt.Sprintf("device.kdf_min_memory: %d KiB is not between %d and %d", c.Device.KDFMinMemory, appclient.MinKDFMemory, appclient.MaxKDFMemory))
	}
	for _, err := range c.ApprovalConfig().Validate() {
		p = append(p, "approvals: "+err.Error())
	}
	for _, err := range c.MaintenanceConfig().Validate() {
		p = append(p, err.Error())
	}
	if c.Letters.PersonLimit < 1 || c.Letters.PersonLimit > 10 {
		p = append(p, "letters.person_limit: between 1 and 10")
	}
	if c.Letters.DailyCap < 1 {
		p = append(p, "letters.daily_cap: at least 1")
	}
	if c.Letters.IntakeLimit < 100 || c.Letters.IntakeLimit > 1_000_000 {
		p = append(p, "letters.intake_limit: between 100 and 1000000")
	}
	if c.Letters.NoticeDailyCap < 1 {
		p = append(p, "letters.notice_daily_cap: at least 1")
	}
	if c.Password.MaxChangesPerDay < 1 || c.Password.MaxChangesPerDay > 100 {
		p = append(p, "password.max_changes_per_day: between 1 and 100")
	}
	if c.EID.Issuer != "" {
		if u, err := url.Parse(c.EID.Issuer); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && IsLoopback(u.Hostname()))) {
			p = append(p, "eid.issuer: must be an https URL (http only on loopback)")
		}
		if c.EID.ClientID == "" {
			p = append(p, "eid.client_id: required with eid.issuer")
		}
		if (c.EID.ClientSecret == "") == (c.EID.ClientSecretFile == "") {
			p = append(p, "eid.client_secret or eid.client_secret_file: set exactly one with eid.issuer")
		}
	}
	if len(c.OIDC.Clients) > 0 {
		if cfg, err := c.OIDCConfig(); err != nil {
			p = append(p, err.Error())
		} else {
			for _, err := range cfg.Validate() {
				p = append(p, err.Error())
			}
		}
		for _, err := range c.SigningKeyConfig().Validate() {
			p = append(p, err.Error())
		}
	}
	if c.DataKeys != "" && c.DataKeysFile != "" {
		p = append(p, "data_keys and data_keys_file: set only one")
	}
	if need.Keys {
		if _, err := c.Keyring(); err != nil {
			p = append(p, err.Error())
		}
	}
	p = append(p, c.validateAudit(need)...)
	p = append(p, c.validateAssistant()...)
	p = append(p, c.validateBackoffice()...)
	p = append(p, c.validateMailbox()...)
	p = append(p, c.Mail.validate()...)
	p = append(p, c.validateEGK()...)
	return p
}

// validateEGK checks the egk section by building its verifier: every
// anchor file read and parsed, the CRL file read and checked.
func (c *Config) validateEGK() []string {
	if len(c.EGK.TrustAnchors) == 0 {
		if c.EGK.OCSPURL != "" || c.EGK.CRLFile != "" {
			return []string{"egk.ocsp_url and egk.crl_file: need egk.trust_anchors (without them binding with the health card is off)"}
		}
		return nil
	}
	cfg, err := c.EGKConfig()
	if err != nil {
		return []string{err.Error()}
	}
	if _, err := egk.New(*cfg, time.Now, nil); err != nil {
		return strings.Split(err.Error(), "\n")
	}
	return nil
}

// EGKConfig reads the trust anchors; nil when none are configured.
func (c *Config) EGKConfig() (*egk.Config, error) {
	if len(c.EGK.TrustAnchors) == 0 {
		return nil, nil
	}
	anchors, err := egk.LoadAnchors(c.EGK.TrustAnchors)
	if err != nil {
		return nil, fmt.Errorf("egk.trust_anchors: %v", err)
	}
	return &egk.Config{Anchors: anchors, OCSPURL: c.EGK.OCSPURL, CRLFile: c.EGK.CRLFile, OCSPMaxAge: c.EGK.OCSPMaxAge}, nil
}

// validateAudit checks the audit section.
func (c *Config) validateAudit(need Needs) []string {
	var p []string
	if c.Audit.CheckpointInterval < time.Second {
		p = append(p, fmt.Sprintf("audit.checkpoint_interval: %v is shorter than 1s", c.Audit.CheckpointInterval))
	}
	if need.Audit {
		if _, err := c.AuditKey(); err != nil {
			p = append(p, err.Error())
		}
	}
	return p
}

// AuditKey reads the audit key from audit.key or audit.key_file.
func (c *Config) AuditKey() (audit.Key, error) {
	raw := c.Audit.Key
	if c.Audit.KeyFile != "" {
		if raw != "" {
			return audit.Key{}, errors.New("audit.key and audit.key_file: set only one")
		}
		b, err := os.ReadFile(c.Audit.KeyFile)
		if err != nil {
			return audit.Key{}, fmt.Errorf("audit.key_file: %v", err)
		}
		raw = string(b)
	}
	if strings.TrimSpace(raw) == "" {
		return audit.Key{}, errors.New("audit.key_file: required (set PFORTE_AUDIT_KEY_FILE; `pforte keygen --audit` makes a key)")
	}
	k, err := audit.ParseKey(raw)
	if err != nil {
		return audit.Key{}, fmt.Errorf("audit.key: %v", strings.TrimPrefix(err.Error(), "audit: key: "))
	}
	return k, nil
}

// Keyring builds the data keyring from data_keys or data_keys_file.
func (c *Config) Keyring() (*seal.Keyring, error) {
	spec := c.DataKeys
	if c.DataKeysFile != "" {
		raw, err := os.ReadFile(c.DataKeysFile)
		if err != nil {
			return nil, fmt.Errorf("data_keys_file: %v", err)
		}
		spec = strings.TrimSpace(string(raw))
	}
	if spec == "" {
		return nil, errors.New("data_keys: required (set PFORTE_DATA_KEYS or data_keys_file; `pforte keygen` makes one)")
	}
	keys, err := seal.ParseKeys(spec)
	if err != nil {
		return nil, fmt.Errorf("data_keys: %v", err)
	}
	ring, err := seal.NewKeyring(keys[0], keys[1:]...)
	if err != nil {
		return nil, fmt.Errorf("data_keys: %v", err)
	}
	return ring, nil
}

// HasherParams maps the password section onto argon2id parameters.
func (c *Config) HasherParams() (password.Params, error) {
	p := password.DefaultParams()
	p.Memory, p.Time, p.Threads = uint32(max(c.Password.MemoryKiB, 0)), uint32(max(c.Password.Time, 0)), uint8(min(max(c.Password.Threads, 0), 255))
	if errs := p.Validate(); len(errs) > 0 {
		return p, fmt.Errorf("password: %v", errors.Join(errs...))
	}
	return p, nil
}

func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// OIDCConfig builds the provider's configuration: the issuer below the
// public URL, the subject key and client secrets read from their files.
func (c *Config) OIDCConfig() (oidc.Config, error) {
	cfg := oidc.Config{Issuer: strings.TrimRight(c.PublicURL, "/") + "/oidc", CodeTTL: c.OIDC.CodeTTL,
		AccessTTL: c.OIDC.AccessTTL, LoginTTL: c.OIDC.LoginTTL, PollInterval: c.OIDC.PollInterval, CIBATTL: c.Approvals.TTL,
		Clients: slices.Clone(c.OIDC.Clients)}
	raw := c.OIDC.SubjectKey
	if c.OIDC.SubjectKeyFile != "" {
		if raw != "" {
			return cfg, errors.New("oidc.subject_key and oidc.subject_key_file: set only one")
		}
		b, err := os.ReadFile(c.OIDC.SubjectKeyFile)
		if err != nil {
			return cfg, fmt.Errorf("oidc.subject_key_file: %v", err)
		}
		raw = strings.TrimSpace(string(b))
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) < 32 {
		return cfg, errors.New("oidc.subject_key: required with oidc.clients: base64 of at least 32 bytes (`pforte keygen --subject`)")
	}
	cfg.SubjectKey = key
	for i, cl := range cfg.Clients {
		if cl.SecretFile == "" {
			continue
		}
		if cl.Secret != "" {
			return cfg, fmt.Errorf("oidc.clients[%d]: set secret or secret_file, not both", i)
		}
		b, err := os.ReadFile(cl.SecretFile)
		if err != nil {
			return cfg, fmt.Errorf("oidc.clients[%d].secret_file: %v", i, err)
		}
		cfg.Clients[i].Secret = strings.TrimSpace(string(b))
	}
	return cfg, nil
}

// SigningKeyConfig is the signing key timeline. A retired key stays published
// for the default 24 hours, well past the longest token lifetime (1 hour), so
// that an expired ID token still works as the id_token_hint of a logout.
func (c *Config) SigningKeyConfig() signkey.Config {
	return signkey.Config{Lifetime: c.SigningKeys.Lifetime, Overlap: c.SigningKeys.Overlap}
}

// EIDSecret reads the client secret for the identification partner.
func (c *Config) EIDSecret() (string, error) {
	if c.EID.ClientSecretFile == "" {
		return c.EID.ClientSecret, nil
	}
	raw, err := os.ReadFile(c.EID.ClientSecretFile)
	if err != nil {
		return "", fmt.Errorf("eid.client_secret_file: %v", err)
	}
	return strings.TrimSpace(string(raw)), nil
}

// ApprovalConfig is the approvals section with the default policy completed.
func (c *Config) MaintenanceConfig() maintenance.Config {
	return maintenance.Config{ExpireEvery: c.Maintenance.ExpireEvery, CleanEvery: c.Maintenance.CleanEvery,
		Retention: c.Maintenance.Retention}
}

func (c *Config) ApprovalConfig() approval.Config {
	policy := approval.DefaultPolicy()
	for action, rule := range c.Approvals.Policy {
		policy[action] = rule
	}
	return approval.Config{TTL: c.Approvals.TTL, MaxPendingLogins: c.Approvals.MaxPendingLogins, Policy: policy}
}

// OutboxToken reads the core system's outbox token ("" when not configured).
func (c *Config) OutboxToken() (string, error) {
	if c.Outbox.ClientTokenFile == "" {
		return "", nil
	}
	raw, err := os.ReadFile(c.Outbox.ClientTokenFile)
	if err != nil {
		return "", fmt.Errorf("outbox.client_token_file: %v", err)
	}
	tok := strings.TrimSpace(string(raw))
	if len(tok) < 32 {
		return "", errors.New("outbox.client_token_file: the token must have at least 32 characters")
	}
	return tok, nil
}

// Pepper reads the optional pepper file.
func (c *Config) Pepper() ([]byte, error) {
	if c.Password.PepperFile == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(c.Password.PepperFile)
	if err != nil {
		return nil, fmt.Errorf("password.pepper_file: %v", err)
	}
	return bytes.TrimSpace(raw), nil
}

// ServerConfig maps the http section onto the server package's config.
func (c *Config) ServerConfig() server.Config {
	return server.Config{
		Listen:            c.HTTP.Listen,
		MaxBodyBytes:      c.HTTP.MaxBodyBytes,
		ReadHeaderTimeout: c.HTTP.ReadHeaderTimeout,
		ReadTimeout:       c.HTTP.ReadTimeout,
		WriteTimeout:      c.HTTP.WriteTimeout,
		IdleTimeout:       c.HTTP.IdleTimeout,
		ShutdownTimeout:   c.HTTP.ShutdownTimeout,
	}
}

// Logger builds the process logger on w.
func (c *Config) Logger(w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

package config

import "time"

// Trunk is a SIP provider: the IVR registers to it as a client (digest
// authentication) and places outbound calls through it.
type Trunk struct {
	// Registrar is where REGISTER goes, e.g. sip:sip.provider.example:5060;
	// empty means the trunk does not register (IP-authenticated trunks).
	Registrar string `yaml:"registrar"`
	// Domain is where outbound INVITEs go (sip:<number>@<domain>).
	// Default: the registrar's host and port.
	Domain string `yaml:"domain"`
	// Username and Password are the digest credentials.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Expires is the registration lifetime asked for. Default 300s.
	Expires time.Duration `yaml:"expires"`
}

func (c *Config) trunkDefaults() {
	for _, t := range c.Trunks {
		if t != nil && t.Expires == 0 {
			t.Expires = 300 * time.Second
		}
	}
}

func (c *Config) validateTrunks(add addFunc) {
	for name, t := range c.Trunks {
		if t == nil {
			add("trunks."+name, "trunk %q is empty", name)
			continue
		}
		if t.Registrar == "" && t.Domain == "" {
			add("trunks."+name, "trunk %q needs a registrar or a domain", name)
		}
	}
}

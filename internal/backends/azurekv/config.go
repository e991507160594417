package azurekv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// Environment variables read by Resolve, LiteLLM's first, then the Azure
// SDKs' standard ones.
const (
	EnvVaultURI           = "AZURE_KEY_VAULT_URI"
	EnvTenantID           = "AZURE_TENANT_ID"
	EnvClientID           = "AZURE_CLIENT_ID"
	EnvClientSecret       = "AZURE_CLIENT_SECRET"
	EnvClientCertPath     = "AZURE_CLIENT_CERTIFICATE_PATH"
	EnvClientCertPassword = "AZURE_CLIENT_CERTIFICATE_PASSWORD"
	EnvAuthorityHost      = "AZURE_AUTHORITY_HOST"
	EnvCABundle           = "SSL_CERT_FILE"
)

// DefaultPollTimeout bounds the waits for Key Vault's asynchronous state
// changes (a deletion completing, a recovery completing) within one call.
const DefaultPollTimeout = 45 * time.Second

// Options configures the store: the provider's azure_key_vault block. Every
// field may be empty; Resolve fills it from the environment.
type Options struct {
	// VaultURL is the vault, e.g. https://myvault.vault.azure.net/
	// (vault_url): AZURE_KEY_VAULT_URI.
	VaultURL string
	// TenantID (tenant_id): AZURE_TENANT_ID.
	TenantID string
	// ClientID (client_id): AZURE_CLIENT_ID. With UseManagedIdentity it
	// selects a user-assigned identity.
	ClientID string
	// ClientSecret (client_secret): AZURE_CLIENT_SECRET.
	ClientSecret string
	// ClientCertificatePath is a PEM or PKCS#12 file with the certificate
	// and its private key (client_certificate_path):
	// AZURE_CLIENT_CERTIFICATE_PATH.
	ClientCertificatePath string
	// ClientCertificatePassword (client_certificate_password):
	// AZURE_CLIENT_CERTIFICATE_PASSWORD.
	ClientCertificatePassword string
	// UseManagedIdentity, UseWorkloadIdentity and UseCLI pick one credential
	// (at most one may be set).
	UseManagedIdentity  bool
	UseWorkloadIdentity bool
	UseCLI              bool
	// AuthorityHost is the Microsoft Entra authority: AZURE_AUTHORITY_HOST,
	// else the public cloud's.
	AuthorityHost string
	// CABundle is a PEM file of extra certificates to trust, added to the
	// system roots: SSL_CERT_FILE (read again on every New, so a bundle set
	// after the process started still counts).
	CABundle string

	// PollTimeout bounds the waits for asynchronous deletes and recoveries;
	// zero means DefaultPollTimeout. Not in HCL.
	PollTimeout time.Duration
	// Transport replaces the HTTP transport (tests). Not in HCL.
	Transport policy.Transporter
	// Credential replaces the credential selection (tests). Not in HCL.
	Credential azcore.TokenCredential
	// LookupEnv reads the environment; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// Resolve fills empty fields from the environment, in one place: the
// provider block wins, then LiteLLM's variable (AZURE_KEY_VAULT_URI), then the
// Azure SDKs' standard variables. It then checks what is required.
func (o *Options) Resolve() error {
	env := o.LookupEnv
	if env == nil {
		env = os.LookupEnv
	}
	fill := func(dst *string, names ...string) {
		for _, n := range names {
			if *dst != "" {
				return
			}
			if v, ok := env(n); ok {
				*dst = strings.TrimSpace(v)
			}
		}
	}
	fill(&o.VaultURL, EnvVaultURI)
	fill(&o.TenantID, EnvTenantID)
	fill(&o.ClientID, EnvClientID)
	fill(&o.ClientSecret, EnvClientSecret)
	fill(&o.ClientCertificatePath, EnvClientCertPath)
	fill(&o.ClientCertificatePassword, EnvClientCertPassword)
	fill(&o.AuthorityHost, EnvAuthorityHost)
	fill(&o.CABundle, EnvCABundle)
	if o.PollTimeout <= 0 {
		o.PollTimeout = DefaultPollTimeout
	}

	if o.VaultURL == "" {
		return backends.Errorf(backends.InvalidArgument, "vault_url is required: set vault_url in the azure_key_vault block or the %s environment variable (e.g. https://myvault.vault.azure.net/)", EnvVaultURI)
	}
	u, err := url.Parse(o.VaultURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return backends.Errorf(backends.InvalidArgument, "vault_url %q is not a Key Vault URL: want https://<vault-name>.vault.azure.net/ (https, a host, no path)", backends.RedactURL(o.VaultURL))
	}
	o.VaultURL = "https://" + u.Host + "/"
	flags := 0
	for _, f := range []bool{o.UseManagedIdentity, o.UseWorkloadIdentity, o.UseCLI} {
		if f {
			flags++
		}
	}
	if flags > 1 {
		return backends.Errorf(backends.InvalidArgument, "use_managed_identity, use_workload_identity and use_cli pick one credential: set at most one of them")
	}
	return nil
}

// CredentialName says which credential the options select, for messages and
// tests.
func (o *Options) CredentialName() string {
	switch {
	case o.Credential != nil:
		return "the injected credential"
	case o.UseManagedIdentity:
		return "ManagedIdentityCredential"
	case o.UseWorkloadIdentity:
		return "WorkloadIdentityCredential"
	case o.UseCLI:
		return "AzureCLICredential"
	case o.ClientSecret != "":
		return "ClientSecretCredential"
	case o.ClientCertificatePath != "":
		return "ClientCertificateCredential"
	}
	return "DefaultAzureCredential"
}

// knownAuthorityHosts are the clouds whose authority supports instance
// discovery (authority validation). Other hosts (Azure Stack Hub, AD FS, test
// doubles) do not, so validation is skipped for them, as azidentity advises.
var knownAuthorityHosts = map[string]bool{
	"login.microsoftonline.com":        true,
	"login.microsoftonline.us":         true,
	"login.chinacloudapi.cn":           true,
	"login.partner.microsoftonline.cn": true,
}

// credential builds the credential the options select, in this order:
// use_managed_identity, use_workload_identity, use_cli, a client secret, a
// client certificate, else the DefaultAzureCredential chain. The SDK's own
// retries are off: *backends.Store is the one retry budget.
func (o *Options) credential(transport policy.Transporter) (azcore.TokenCredential, error) {
	if o.Credential != nil {
		return o.Credential, nil
	}
	co := azcore.ClientOptions{Transport: transport, Retry: policy.RetryOptions{MaxRetries: -1}}
	disableDiscovery := false
	if o.AuthorityHost != "" {
		u, err := url.Parse(o.AuthorityHost)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, backends.Errorf(backends.InvalidArgument, "%s %q is not an https URL", EnvAuthorityHost, o.AuthorityHost)
		}
		co.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: o.AuthorityHost, Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}}
		disableDiscovery = !knownAuthorityHosts[strings.ToLower(u.Hostname())]
	}
	need := func(what string, vals map[string]string) error {
		var missing []string
		for attr, v := range vals {
			if v == "" {
				missing = append(missing, attr)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		return backends.Errorf(backends.InvalidArgument, "%s needs tenant_id (or %s) and client_id (or %s); missing: %s",
			what, EnvTenantID, EnvClientID, strings.Join(slices.Sorted(slices.Values(missing)), ", "))
	}
	switch {
	case o.UseManagedIdentity:
		mo := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: co}
		if o.ClientID != "" {
			mo.ID = azidentity.ClientID(o.ClientID)
		}
		return azidentity.NewManagedIdentityCredential(mo)
	case o.UseWorkloadIdentity:
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: co, ClientID: o.ClientID, TenantID: o.TenantID, DisableInstanceDiscovery: disableDiscovery,
		})
	case o.UseCLI:
		return azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: o.TenantID})
	case o.ClientSecret != "":
		if err := need("a client secret", map[string]string{"tenant_id": o.TenantID, "client_id": o.ClientID}); err != nil {
			return nil, err
		}
		return azidentity.NewClientSecretCredential(o.TenantID, o.ClientID, o.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: disableDiscovery})
	case o.ClientCertificatePath != "":
		if err := need("a client certificate", map[string]string{"tenant_id": o.TenantID, "client_id": o.ClientID}); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(o.ClientCertificatePath)
		if err != nil {
			return nil, backends.Errorf(backends.InvalidArgument, "client_certificate_path: %v", err)
		}
		var pw []byte
		if o.ClientCertificatePassword != "" {
			pw = []byte(o.ClientCertificatePassword)
		}
		certs, key, err := azidentity.ParseCertificates(data, pw)
		if err != nil {
			return nil, backends.Errorf(backends.InvalidArgument, "client_certificate_path %s: %v", o.ClientCertificatePath, err)
		}
		return azidentity.NewClientCertificateCredential(o.TenantID, o.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: disableDiscovery})
	}
	return azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
		ClientOptions: co, TenantID: o.TenantID, DisableInstanceDiscovery: disableDiscovery,
	})
}

// newTransport is the HTTP client of the store and its credential. It trusts
// the system roots plus CABundle, and resolves names under "localhost" to the
// loopback address as RFC 6761 asks (test doubles serve vaults as
// https://<vault>.localhost:<port>, like Lowkey Vault), which the system
// resolver may not do.
func newTransport(caBundle string) (*http.Client, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if caBundle != "" {
		pem, err := os.ReadFile(caBundle)
		if err != nil {
			return nil, backends.Errorf(backends.InvalidArgument, "%s: %v", EnvCABundle, err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, backends.Errorf(backends.InvalidArgument, "%s %s holds no PEM certificate", EnvCABundle, caBundle)
		}
	}
	base, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, backends.Errorf(backends.Internal, "http.DefaultTransport is a %T, not an *http.Transport", http.DefaultTransport)
	}
	tr := base.Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err == nil && isLocalhostName(host) {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return dialer.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: tr}, nil
}

func isLocalhostName(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// String describes the options without secrets.
func (o *Options) String() string {
	return fmt.Sprintf("vault_url=%s credential=%s", o.VaultURL, o.CredentialName())
}

package interop

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpkms/gcpkmstest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/interop/litellmtest"
)

// TestInteropGoogleKMS_litellmDecrypts: LiteLLM's google_kms read
// (get_secret through secret_manager_handler, with the official
// google-cloud-kms client) decrypts our ciphertext, served by the Cloud KMS
// fake on loopback. load_google_kms builds its client with Google's default
// credentials and endpoint, so the snippet does what it does with a client
// pointed at the fake (an insecure gRPC channel); the read itself is
// LiteLLM's. The ciphertext must be set exactly: with a trailing newline
// LiteLLM's base64 check refuses it and get_secret hands over the text
// itself, which is why our read refuses it too.
func TestInteropGoogleKMS_litellmDecrypts(t *testing.T) {
	acc(t)
	const key = "projects/interop/locations/global/keyRings/llm/cryptoKeys/litellm"
	srv := gcpkmstest.Start(t)
	if err := srv.AddKey(key); err != nil {
		t.Fatal(err)
	}
	const name, value = "OPENAI_API_KEY", " sk-gkms-interop-0001 "
	check := func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources["llmsecret_secret.kms"]
		if !ok {
			return fmt.Errorf("llmsecret_secret.kms is not in state")
		}
		ct := rs.Primary.Attributes["ciphertext"]
		var got struct {
			Exact  *string `json:"exact"`
			Padded *string `json:"padded"`
		}
		litellmtest.Run(t, map[string]string{
			"FAKE_ADDR": srv.Endpoint(), "GOOGLE_KMS_RESOURCE_NAME": key,
			name: ct, "PADDED_KEY": ct + "\n",
		}, `
import grpc
from google.cloud import kms_v1
from google.cloud.kms_v1.services.key_management_service.transports import KeyManagementServiceGrpcTransport
from litellm.types.secret_managers.main import KeyManagementSettings, KeyManagementSystem
from litellm.secret_managers.main import get_secret
# load_google_kms, with the client on the fake.
litellm.secret_manager_client = kms_v1.KeyManagementServiceClient(
    transport=KeyManagementServiceGrpcTransport(channel=grpc.insecure_channel(os.environ["FAKE_ADDR"])))
litellm._key_management_system = KeyManagementSystem.GOOGLE_KMS
litellm._google_kms_resource_name = os.getenv("GOOGLE_KMS_RESOURCE_NAME")
litellm._key_management_settings = KeyManagementSettings()
emit({"exact": get_secret("`+name+`"), "padded": get_secret("PADDED_KEY")})
`, &got)
		if got.Exact == nil || *got.Exact != value {
			return fmt.Errorf("LiteLLM google_kms get_secret(%s): got %s, want the plaintext, untrimmed", name, show(got.Exact))
		}
		if got.Padded == nil || *got.Padded != ct+"\n" {
			return fmt.Errorf("LiteLLM google_kms get_secret of the ciphertext with a newline: got a value of %d characters, want the undecrypted text itself", len(show(got.Padded)))
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf(`
provider "llmsecret" {
  key_management_system = "google_kms"
  key_management_settings = {
    access_mode = "read_and_write"
  }
  google_kms = {
    endpoint = %[1]q
    key_name = %[2]q
  }
}

resource "llmsecret_secret" "kms" {
  name  = %[3]q
  value = %[4]q
}
`, srv.Endpoint(), key, name, value),
				Check: check,
			},
		},
	})
}

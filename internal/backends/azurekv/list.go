package azurekv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

var opList = operation{"listing", "list"}

// listings are the Key Vault listings in progress, by the token ListPage
// handed out. The SDK's pager follows the service's nextLink itself and
// cannot be rebuilt from one, so the pager is kept between pages.
var listings sync.Map // token -> *listing

type listing struct {
	pager *runtime.Pager[azsecrets.ListSecretPropertiesResponse]
	// sent counts the names handed out: after a failed page the pager is
	// spent, and the retry starts a new listing that skips them.
	sent int
}

// ListPage implements backends.Lister with the List Secrets operation (one
// service page per call, 25 secrets on Key Vault). Disabled and deleted
// secrets are not listed. A token is "<id>:<sent>": the id finds the pager,
// the count lets a retry after a failed page resume where it was.
func (b *backend) ListPage(ctx context.Context, prefix, token string) ([]string, string, error) {
	id, sent := "", 0
	if before, after, ok := strings.Cut(token, ":"); ok {
		id = before
		sent, _ = strconv.Atoi(after)
	}
	l, skip := (*listing)(nil), 0
	if v, ok := listings.LoadAndDelete(id); ok && v != nil {
		l, _ = v.(*listing)
	}
	if l == nil {
		// A new listing, or a retry of a page whose pager failed.
		l = &listing{pager: b.client.NewListSecretPropertiesPager(nil)}
		skip, l.sent = sent, 0
	}
	var names []string
	for len(names) == 0 && l.pager.More() {
		page, err := l.pager.NextPage(ctx)
		if err != nil {
			if token == "" {
				return nil, "", b.fail(opList, prefix+"*", err)
			}
			return nil, token, b.fail(opList, prefix+"*", err)
		}
		for _, p := range page.Value {
			if p.ID == nil || (p.Attributes != nil && p.Attributes.Enabled != nil && !*p.Attributes.Enabled) {
				continue
			}
			if l.sent++; l.sent <= skip {
				continue
			}
			if n := p.ID.Name(); strings.HasPrefix(n, prefix) {
				names = append(names, n)
			}
		}
	}
	if !l.pager.More() {
		return names, "", nil
	}
	if id == "" {
		var buf [8]byte
		_, _ = rand.Read(buf[:])
		id = hex.EncodeToString(buf[:])
	}
	listings.Store(id, l)
	return names, id + ":" + strconv.Itoa(l.sent), nil
}

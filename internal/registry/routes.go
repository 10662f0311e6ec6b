package registry

import (
	"net/http"
	"strings"
)

// route is one endpoint and method, the handler serving it and the
// actions the Authorizer must allow first.
type route struct {
	endpoint endpoint
	method   string
	actions  []string
	handle   func(reg *Registry, w http.ResponseWriter, r *http.Request, req *request) error
}

// routes is every API the registry serves. Repository names contain
// slashes, which http.ServeMux patterns cannot match in the middle of a
// path, so parsePath finds the endpoint and this table the handler.
var routes = []route{
	{epBase, http.MethodGet, nil, (*Registry).base},
	{epBase, http.MethodHead, nil, (*Registry).base},
	{epCatalog, http.MethodGet, []string{ActionCatalog}, (*Registry).catalog},

	{epTags, http.MethodGet, []string{ActionPull}, (*Registry).listTags},
	{epReferrers, http.MethodGet, []string{ActionPull}, (*Registry).referrers},

	{epManifest, http.MethodGet, []string{ActionPull}, (*Registry).getManifest},
	{epManifest, http.MethodHead, []string{ActionPull}, (*Registry).getManifest},
	{epManifest, http.MethodPut, []string{ActionPush}, (*Registry).putManifest},
	{epManifest, http.MethodDelete, []string{ActionDelete}, (*Registry).deleteManifest},

	{epBlob, http.MethodGet, []string{ActionPull}, (*Registry).getBlob},
	{epBlob, http.MethodHead, []string{ActionPull}, (*Registry).getBlob},
	{epBlob, http.MethodDelete, []string{ActionDelete}, (*Registry).deleteBlob},

	{epUploads, http.MethodPost, []string{ActionPush}, (*Registry).startUpload},
	{epUpload, http.MethodGet, []string{ActionPush}, (*Registry).uploadStatus},
	{epUpload, http.MethodPatch, []string{ActionPush}, (*Registry).patchUpload},
	{epUpload, http.MethodPut, []string{ActionPush}, (*Registry).finishUpload},
	{epUpload, http.MethodDelete, []string{ActionPush}, (*Registry).cancelUpload},
}

// lookupRoute finds the route for an endpoint and method, or returns the
// methods the endpoint allows.
func lookupRoute(ep endpoint, method string) (*route, string) {
	var allowed []string
	for i := range routes {
		if routes[i].endpoint != ep {
			continue
		}
		if routes[i].method == method {
			return &routes[i], ""
		}
		allowed = append(allowed, routes[i].method)
	}
	return nil, strings.Join(allowed, ", ")
}

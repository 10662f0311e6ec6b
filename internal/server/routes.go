package server

import "net/http"

// route is one line of the routing table.
type route struct {
	pattern string // http.ServeMux pattern: "METHOD /path/{param}"
	handler http.Handler
}

// routes is every endpoint the server answers; docs/api/openapi.yaml
// documents each (a test checks that).
func (s *Server) routes() []route {
	h := s.handle
	return []route{
		// Health, metrics and the token service need no API login.
		{"GET /healthz", h(s.healthz)},
		{"GET /readyz", h(s.readyz)},
		{"GET /metrics", h(s.metricsHandler)},
		{"GET /service/token", h(s.token)},
		{"POST /service/token", h(s.token)},

		// The OCI registry authorizes each request itself.
		{"/v2/", s.reg},

		// The JSON API for the CLI.
		{"POST /api/v1/login", h(s.login)},
		{"POST /api/v1/logout", h(s.logout)},
		{"GET /api/v1/whoami", h(s.whoami)},
		{"GET /api/v1/users", h(s.listUsers)},
		{"POST /api/v1/users", h(s.createUser)},
		{"PATCH /api/v1/users/{user}", h(s.updateUser)},
		{"GET /api/v1/projects", h(s.listProjects)},
		{"POST /api/v1/projects", h(s.createProject)},
		{"GET /api/v1/projects/{project}", h(s.getProject)},
		{"PATCH /api/v1/projects/{project}", h(s.updateProject)},
		{"DELETE /api/v1/projects/{project}", h(s.deleteProject)},
		{"GET /api/v1/projects/{project}/repositories", h(s.listRepositories)},
		{"GET /api/v1/projects/{project}/members", h(s.listMembers)},
		{"PUT /api/v1/projects/{project}/members/{user}", h(s.setMember)},
		{"DELETE /api/v1/projects/{project}/members/{user}", h(s.removeMember)},
		{"GET /api/v1/projects/{project}/robots", h(s.listRobots)},
		{"POST /api/v1/projects/{project}/robots", h(s.createRobot)},
		{"DELETE /api/v1/projects/{project}/robots/{robot}", h(s.revokeRobot)},
		{"POST /api/v1/gc", h(s.gc)},
		{"GET /api/v1/projects/{project}/policy", h(s.getPolicy)},
		{"PATCH /api/v1/projects/{project}/policy", h(s.updatePolicy)},
		{"GET /api/v1/scan", h(s.scanStatus)},
		{"POST /api/v1/rescan", h(s.rescan)},
		{"GET /api/v1/vulndb", h(s.vulnDBInfo)},
		{"POST /api/v1/vulndb/import", h(s.importVulnDB)},
		{"GET /api/v1/audit", h(s.listAudit)},
		{"GET /api/v1/audit/verify", h(s.verifyAudit)},
		{"GET /api/v1/webhooks", h(s.listWebhooks)},
		{"POST /api/v1/webhooks", h(s.createWebhook)},
		{"DELETE /api/v1/webhooks/{id}", h(s.deleteWebhook)},
		{"GET /api/v1/webhooks/{id}/deliveries", h(s.listDeliveries)},
		{"GET /api/v1/projects/{project}/webhooks", h(s.listWebhooks)},
		{"POST /api/v1/projects/{project}/webhooks", h(s.createWebhook)},
		{"DELETE /api/v1/projects/{project}/webhooks/{id}", h(s.deleteWebhook)},
		{"GET /api/v1/projects/{project}/webhooks/{id}/deliveries", h(s.listDeliveries)},
		{"GET /api/v1/signatures", h(s.signatureStatus)},

		// The web console (package console): HTML pages for browsers.
		{"GET /{$}", s.console},
		{"GET /login", s.console},
		{"POST /login", s.console},
		{"POST /logout", s.console},
		{"GET /projects", s.console},
		{"GET /projects/{project}", s.console},
		{"GET /projects/{project}/repos/{path...}", s.console},
		{"GET /static/{file}", s.console},
	}
}

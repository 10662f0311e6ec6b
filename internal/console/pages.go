package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/seawall-dev/seawall/internal/auth"
	"github.com/seawall-dev/seawall/internal/store"
)

// pageSize bounds the rows of one list page; a "next" link pages on.
const pageSize = 100

// The console authorizes exactly as the API and the registry do, through
// auth.Service.Can with the same role matrix: a project is visible when
// the user may pull from it (a member with any role, a public project, a
// system admin); its repository list needs ActionListRepos, which a
// limited guest lacks. A project the user cannot see is a 404, the same
// page as one that does not exist, so project names do not leak.

type projectRow struct {
	Name   string
	Href   string
	Public bool
	Role   string
}

func (c *Console) projects(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	all, err := c.st.ListProjects(ctx)
	if err != nil {
		return fmt.Errorf("list projects: %w", err)
	}
	rows := []projectRow{}
	for i := range all {
		proj := &all[i]
		ok, err := c.auth.Can(ctx, s.principal, proj.Name, auth.ActionPull)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		role, err := c.roleOf(ctx, s, proj)
		if err != nil {
			return err
		}
		rows = append(rows, projectRow{Name: proj.Name, Href: projectHref(proj.Name), Public: proj.Public, Role: role})
	}
	c.render(w, r, http.StatusOK, "projects", view{Title: "Projects", Session: s, Crumbs: []crumb{{Name: "Projects"}}, Data: rows})
	return nil
}

// roleOf describes the user's standing in proj.
func (c *Console) roleOf(ctx context.Context, s *session, proj *store.Project) (string, error) {
	role, err := c.st.MemberRole(ctx, proj.ID, s.principal.User.ID)
	switch {
	case err == nil:
		return string(role), nil
	case !errors.Is(err, store.ErrNotFound):
		return "", fmt.Errorf("membership in %s: %w", proj.Name, err)
	case s.Admin:
		return "system admin", nil
	case proj.Public:
		return "public (not a member)", nil
	}
	return "", nil
}

// visibleProject loads a project the user may see; anything else is 404.
func (c *Console) visibleProject(ctx context.Context, s *session, name string) (*store.Project, error) {
	hidden := notFound("There is no project %q, or you are not allowed to see it.", name)
	proj, err := c.st.ProjectByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, hidden
	}
	if err != nil {
		return nil, fmt.Errorf("project %s: %w", name, err)
	}
	ok, err := c.auth.Can(ctx, s.principal, name, auth.ActionPull)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, hidden
	}
	return proj, nil
}

type repoRow struct {
	Name  string // without the project
	Full  string
	Href  string
	Count int // tags, up to pageSize+1
}

type projectData struct {
	Name     string
	Public   bool
	Role     string
	CanList  bool
	Repos    []repoRow
	NextHref string
}

func (c *Console) project(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	proj, err := c.visibleProject(ctx, s, r.PathValue("project"))
	if err != nil {
		return err
	}
	d := projectData{Name: proj.Name, Public: proj.Public}
	if d.Role, err = c.roleOf(ctx, s, proj); err != nil {
		return err
	}
	if d.CanList, err = c.auth.Can(ctx, s.principal, proj.Name, auth.ActionListRepos); err != nil {
		return err
	}
	if d.CanList {
		after := r.URL.Query().Get("after")
		names, err := c.st.ListRepositories(ctx, proj.Name, after, pageSize+1)
		if err != nil {
			return fmt.Errorf("list repositories of %s: %w", proj.Name, err)
		}
		if len(names) > pageSize {
			names = names[:pageSize]
			d.NextHref = projectHref(proj.Name) + "?after=" + url.QueryEscape(names[len(names)-1])
		}
		for _, full := range names {
			short := strings.TrimPrefix(full, proj.Name+"/")
			tags, err := c.st.ListTags(ctx, full, "", pageSize+1)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("tags of %s: %w", full, err)
			}
			d.Repos = append(d.Repos, repoRow{Name: short, Full: full, Href: repoHref(proj.Name, full), Count: len(tags)})
		}
	}
	c.render(w, r, http.StatusOK, "project", view{
		Title: "Project " + proj.Name, Session: s,
		Crumbs: []crumb{{Name: "Projects", Href: "/projects"}, {Name: proj.Name}},
		Data:   d,
	})
	return nil
}

// digestRE is a manifest digest as the registry stores them.
var digestRE = regexp.MustCompile(`^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$`)

// repoPath serves everything under a repository:
//
//	/projects/P/repos/NAME                                    the repository
//	/projects/P/repos/NAME/-/artifacts?digest=D               → the artifact
//	/projects/P/repos/NAME/-/artifacts/D                      the artifact
//	/projects/P/repos/NAME/-/artifacts/D/sbom.cdx.json        its SBOM (CycloneDX)
//	/projects/P/repos/NAME/-/artifacts/D/sbom.spdx.json       its SBOM (SPDX)
//
// A repository path component can never be "-", so "/-/" separates the
// name from what follows, as GitLab's URLs do.
func (c *Console) repoPath(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	proj, err := c.visibleProject(ctx, s, r.PathValue("project"))
	if err != nil {
		return err
	}
	name, rest, _ := strings.Cut(r.PathValue("path"), "/-/")
	name = strings.TrimSuffix(name, "/")
	if name == "" {
		http.Redirect(w, r, projectHref(proj.Name), http.StatusSeeOther)
		return nil
	}
	if rest == "" {
		// ".../repos/NAME/artifacts/DIGEST" without the "/-/": a digest
		// holds a ":", which no repository name can, so this is an
		// artifact link written without the separator.
		if i := strings.LastIndex(name, "/artifacts/"); i > 0 && digestRE.MatchString(name[i+len("/artifacts/"):]) {
			http.Redirect(w, r, artifactHref(proj.Name, proj.Name+"/"+name[:i], name[i+len("/artifacts/"):]), http.StatusSeeOther)
			return nil
		}
	}
	full := proj.Name + "/" + name
	repo, err := c.st.RepositoryByName(ctx, full)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("There is no repository %q.", full)
	}
	if err != nil {
		return fmt.Errorf("repository %s: %w", full, err)
	}
	parts := strings.Split(rest, "/")
	switch {
	case rest == "":
		return c.repository(w, r, s, proj, repo)
	case rest == "artifacts":
		d := strings.TrimSpace(r.URL.Query().Get("digest"))
		if !digestRE.MatchString(d) {
			return &pageError{Status: http.StatusBadRequest, Msg: fmt.Sprintf("%q is not a manifest digest: give sha256: and 64 lowercase hex digits.", d)}
		}
		http.Redirect(w, r, artifactHref(proj.Name, full, d), http.StatusSeeOther)
		return nil
	case parts[0] != "artifacts" || len(parts) < 2 || len(parts) > 3:
		return notFound("There is no page %s.", r.URL.Path)
	}
	digest := parts[1]
	if !digestRE.MatchString(digest) {
		return notFound("%q is not a manifest digest.", digest)
	}
	if len(parts) == 3 {
		format, ok := sbomFormats[parts[2]]
		if !ok {
			return notFound("There is no page %s: the SBOM is at sbom.cdx.json (CycloneDX) or sbom.spdx.json (SPDX).", r.URL.Path)
		}
		return c.sbom(w, r, repo, digest, format)
	}
	return c.artifactPage(w, r, s, proj, repo, digest)
}

type repositoryData struct {
	Project    string
	Name       string
	Full       string
	Href       string
	Artifacts  []*artifact
	HiddenTags int // cosign signature, attestation and SBOM tags
	NextHref   string
}

// cosignTagRE matches the tags cosign stores signatures, attestations and
// SBOMs under; they are shown with their image, not as artifacts.
var cosignTagRE = regexp.MustCompile(`^sha256-[0-9a-f]{64}\.(sig|att|sbom)$`)

func (c *Console) repository(w http.ResponseWriter, r *http.Request, s *session, proj *store.Project, repo *store.Repository) error {
	ctx := r.Context()
	d := repositoryData{Project: proj.Name, Full: repo.Name, Name: strings.TrimPrefix(repo.Name, proj.Name+"/"), Href: repoHref(proj.Name, repo.Name)}
	after := r.URL.Query().Get("after")
	tags, err := c.st.ListTags(ctx, repo.Name, after, pageSize+1)
	if err != nil {
		return fmt.Errorf("tags of %s: %w", repo.Name, err)
	}
	if len(tags) > pageSize {
		tags = tags[:pageSize]
		d.NextHref = d.Href + "?after=" + url.QueryEscape(tags[len(tags)-1])
	}
	byDigest := map[string]*artifact{}
	for _, tag := range tags {
		if cosignTagRE.MatchString(tag) {
			d.HiddenTags++
			continue
		}
		dg, err := c.st.ResolveTag(ctx, repo.Name, tag)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since it was listed
		}
		if err != nil {
			return fmt.Errorf("tag %s:%s: %w", repo.Name, tag, err)
		}
		if a := byDigest[dg]; a != nil {
			a.Tags = append(a.Tags, tag)
			continue
		}
		a, err := c.loadArtifact(ctx, proj, repo.Name, dg, false)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		a.Tags = []string{tag}
		byDigest[dg] = a
		d.Artifacts = append(d.Artifacts, a)
	}
	slices.SortStableFunc(d.Artifacts, func(a, b *artifact) int { return b.Pushed.Compare(a.Pushed) })
	c.render(w, r, http.StatusOK, "repository", view{
		Title: "Repository " + repo.Name, Session: s,
		Crumbs: []crumb{{Name: "Projects", Href: "/projects"}, {Name: proj.Name, Href: projectHref(proj.Name)}, {Name: d.Name}},
		Data:   d,
	})
	return nil
}

func (c *Console) artifactPage(w http.ResponseWriter, r *http.Request, s *session, proj *store.Project, repo *store.Repository, digest string) error {
	ctx := r.Context()
	a, err := c.loadArtifact(ctx, proj, repo.Name, digest, true)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Repository %s has no manifest %s.", repo.Name, digest)
	}
	if err != nil {
		return err
	}
	if err := c.findTags(ctx, repo.Name, a); err != nil {
		return err
	}
	for i := range a.Children {
		ch := &a.Children[i]
		ca, err := c.loadArtifact(ctx, proj, repo.Name, ch.Digest, false)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		ch.Artifact = ca
	}
	name := strings.TrimPrefix(repo.Name, proj.Name+"/")
	c.render(w, r, http.StatusOK, "artifact", view{
		Title: repo.Name + "@" + shortDigest(digest), Session: s,
		Crumbs: []crumb{
			{Name: "Projects", Href: "/projects"}, {Name: proj.Name, Href: projectHref(proj.Name)},
			{Name: name, Href: repoHref(proj.Name, repo.Name)}, {Name: shortDigest(digest)},
		},
		Data: a,
	})
	return nil
}

// findTags lists the tags that point at a (a pass over the repository's
// tags, bounded so a huge repository cannot stall the page).
func (c *Console) findTags(ctx context.Context, repo string, a *artifact) error {
	const maxTags = 5000
	last := ""
	for seen := 0; seen < maxTags; {
		tags, err := c.st.ListTags(ctx, repo, last, 500)
		if err != nil {
			return fmt.Errorf("tags of %s: %w", repo, err)
		}
		for _, t := range tags {
			if cosignTagRE.MatchString(t) {
				continue
			}
			dg, err := c.st.ResolveTag(ctx, repo, t)
			if err == nil && dg == a.Digest {
				a.Tags = append(a.Tags, t)
			}
		}
		if len(tags) < 500 {
			return nil
		}
		seen += len(tags)
		last = tags[len(tags)-1]
	}
	a.TagsTruncated = true
	return nil
}

func projectHref(project string) string { return "/projects/" + url.PathEscape(project) }

// repoHref is a repository's page; full is "project/path".
func repoHref(project, full string) string {
	return projectHref(project) + "/repos/" + strings.TrimPrefix(full, project+"/")
}

func artifactHref(project, full, digest string) string {
	return repoHref(project, full) + "/-/artifacts/" + digest
}

// ArtifactPath is the path of an artifact's console page, for links from
// elsewhere (the pull policy's refusal message): repo is
// "project/path", digest "sha256:…".
func ArtifactPath(repo, digest string) string {
	project, _, _ := strings.Cut(repo, "/")
	return artifactHref(project, repo, digest)
}

"""Routes of the forge sandbox, at the root of its own port (``root_urls``): GitHub's API
paths, GitLab's under ``api/v4/`` and its archives under ``{path}/-/``, the control API
under ``_control/``, and the pages."""

from django.urls import path, re_path

from . import views_control, views_github, views_gitlab, views_page

app_name = "sandbox_forge"

REPO = "repos/<str:owner>/<str:repo>"
CONTROL = [
    path("_control/", views_control.index, name="control"),
    path("_control/repos", views_control.repos, name="control-repos"),
    path("_control/hooks", views_control.hooks, name="control-hooks"),
    path("_control/releases", views_control.releases, name="control-releases"),
    path("_control/redeliver", views_control.redeliver, name="control-redeliver"),
    path("_control/tokens", views_control.tokens, name="control-tokens"),
    path("_control/tokens/revoke", views_control.revoke_token, name="control-revoke"),
    path("_control/deliveries", views_control.deliveries, name="control-deliveries"),
    path("_control/reset", views_control.reset, name="control-reset"),
]
GITHUB = [
    path("user", views_github.user, name="github-user"),
    path(REPO, views_github.repository, name="github-repo"),
    path(f"{REPO}/releases", views_github.releases, name="github-releases"),
    path(f"{REPO}/releases/latest", views_github.latest_release, name="github-latest"),
    path(f"{REPO}/releases/<int:release_id>", views_github.release, name="github-release"),
    path(f"{REPO}/releases/tags/<path:tag>", views_github.release_by_tag, name="github-tag"),
    re_path(
        r"^repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/(?P<kind>zipball|tarball)/(?P<tag>.+)$",
        views_github.archive_redirect,
        name="github-archive",
    ),
    re_path(
        r"^codeload/(?P<owner>[^/]+)/(?P<repo>[^/]+)/legacy\.(?P<legacy>zip|tar\.gz)/refs/tags/(?P<tag>.+)$",
        views_github.codeload,
        name="codeload",
    ),
]
GITLAB = [
    path("api/v4/user", views_gitlab.user, name="gitlab-user"),
    re_path(
        r"^api/v4/projects/(?P<project>.+?)/releases/(?P<tag>.+)$",
        views_gitlab.release,
        name="gitlab-release",
    ),
    re_path(
        r"^api/v4/projects/(?P<project>.+)/releases$", views_gitlab.releases, name="gitlab-releases"
    ),
    re_path(r"^api/v4/projects/(?P<project>.+)$", views_gitlab.project, name="gitlab-project"),
    re_path(
        r"^(?P<path>.+?)/-/archive/(?P<tag>.+)/(?P<filename>[^/]+)\.(?P<kind>zip|tar\.gz)$",
        views_gitlab.archive,
        name="gitlab-archive",
    ),
]
PAGES = [
    path("", views_page.index, name="index"),
    path("publish", views_page.publish, name="publish"),
    re_path(
        r"^(?P<path>[^/]+/[^/]+)/releases/tag/(?P<tag>.+)$",
        views_page.release_page,
        name="github-release-page",
    ),
    re_path(
        r"^(?P<path>.+?)/-/releases/(?P<tag>.+)$",
        views_page.release_page,
        name="gitlab-release-page",
    ),
]

urlpatterns = [*CONTROL, *GITHUB, *GITLAB, *PAGES]

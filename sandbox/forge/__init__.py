"""A GitHub-like and a GitLab-like code forge: repositories, releases, their archives and
the releases APIs, and signed webhook deliveries (the path of a release runs offline)."""

"""Releases in: a deposit linked to a GitHub or GitLab repository, whose published releases
become new versions of it, none lost without someone being told.

- ``forges``: each forge's webhook signature, payload and releases API (GitHub, GitLab).
- ``inbound``: the endpoint's work: verify, deduplicate, log the delivery, record the release.
- ``listing``: the periodic listing that finds releases no webhook brought; forge tokens.
- ``archive``, ``citation``: the release archive (downloaded by a worker) and the metadata
  read from its ``.zenodo.json`` or ``CITATION.cff``.
- ``importing``: a release becomes a new version of the deposit (its archive the file, its
  citation file the metadata); ``following`` then takes it to published by the team's
  policy, or to review.
- ``sources``: people managing release sources (team admins).
"""

"""Everything about one repository: see ``connector`` and the registry."""

"""The check catalog; installed as `hostkit_catalog.checks` (see hostkit_catalog)."""

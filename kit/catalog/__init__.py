"""The catalog model: what a check and a remediation declare, profiles, and the catalog's
own description (`python -m kit.catalog`).

Checks import `kit.catalog.check.check`, remediations `kit.catalog.remediation.remediation`.
"""

"""The demo community: a reproducible, realistic street office with two communities, their
buildings, households, residents, key areas and one login per role (``anwang demo``)."""

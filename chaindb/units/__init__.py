"""The offices that use chaindb (units): the city bureau, a chain office per iconic chain, an
office per planning unit. Each user belongs to one; its scope says what its users may see and
change (chaindb.access.Scope), and the database enforces it (row-level security)."""
